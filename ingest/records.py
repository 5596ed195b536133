"""Records produced by ingestion. Frozen dataclasses, defined once, shared by every stage."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class OfficialMeta:
    """What the first page of an official document (红头文件) states about it; "" when absent.
    Dates are ISO "YYYY-MM-DD"."""

    number: str = ""  # 文号, normalised: 国办发〔2024〕12号, 国务院令第514号
    issuer: str = ""  # 发文机关
    written: str = ""  # 成文日期
    effective: str = ""  # 施行日期

    def to_json(self) -> dict:
        return {k: v for k, v in self.__dict__.items() if v}

    @classmethod
    def from_json(cls, data: dict | None) -> OfficialMeta:
        names = cls.__dataclass_fields__
        return cls(**{k: str(v) for k, v in (data or {}).items() if k in names})


@dataclass(frozen=True)
class Document:
    """One source file turned into text.

    ``pages`` maps character spans of ``text`` to page numbers (PDF only; empty otherwise).
    ``blocks`` holds structural hints from the loader: (start, end, level) of headings found by
    format (docx heading styles, HTML h1..h6, Markdown #); level 0 means "not a heading".
    """

    id: str
    source: str  # path relative to the source folder, with forward slashes
    title: str
    version_date: str | None  # ISO date "YYYY-MM-DD" when the file name or text states one
    sha256: str
    text: str
    pages: tuple[tuple[int, int, int], ...] = ()
    headings: tuple[tuple[int, int, int], ...] = ()  # (start, end, level) of heading lines
    kind: str = "md"
    groups: tuple[str, ...] = ()  # access groups declared in the file itself (front matter)
    # table rows, one line each: (start, end, table title, row label), see ingest/tables.py
    rows: tuple[tuple[int, int, str, str], ...] = ()
    notes: tuple[str, ...] = ()  # what the loader left out (e.g. rows past the table row limit)
    meta: OfficialMeta = OfficialMeta()


@dataclass(frozen=True)
class Chunk:
    """The unit of retrieval and citation: one article (or one piece of it), or one section."""

    id: str
    doc_id: str
    source: str
    title: str
    heading: str  # heading path, " / "-joined, e.g. "第二章 登记"
    articles: tuple[str, ...]  # article labels it covers, e.g. ("第八条",); () when none
    pages: tuple[int, ...]
    start: int
    end: int
    text: str
    groups: tuple[str, ...] = ()  # access groups allowed to read it; () = everybody
    version_date: str | None = None
    doc_number: str = ""  # the document's 文号 (OfficialMeta.number), not stored per chunk

    def search_text(self) -> str:
        """What BM25 indexes: the text prefixed by the document title and heading path."""
        head = " ".join(p for p in (self.title, self.heading.replace(" / ", " ")) if p)
        return f"{head}\n{self.text}" if head else self.text

    def embedding_text(self) -> str:
        """What is embedded: an article (第X条) prefixed by its document title only; anything
        else by the title and heading path. The 编/章/节 path in front of an article made the
        e5 vector worse (STARD dev dense Recall@5 0.471 -> 0.508 without it, see BENCHMARKS.md),
        while a manual's section has no other context than its headings."""
        if any(a.startswith("第") and a.endswith("条") for a in self.articles):
            return f"{self.title}\n{self.text}" if self.title else self.text
        return self.search_text()


@dataclass(frozen=True)
class Skipped:
    source: str
    reason: str


@dataclass(frozen=True)
class OcrDocument:
    """A document whose pages (or some of them) were recognised by OCR in a run."""

    source: str
    pages: tuple[int, ...]  # page numbers recognised
    seconds: float
    note: str = ""  # why pages were left out (page or time limit), when some were

    def line(self) -> str:
        note = f"; {self.note}" if self.note else ""
        return f"OCR {self.source}: {len(self.pages)} pages, {self.seconds:.1f} s{note}"


@dataclass(frozen=True)
class IngestReport:
    ingested: tuple[str, ...] = ()
    unchanged: tuple[str, ...] = ()
    skipped: tuple[Skipped, ...] = ()
    removed: tuple[str, ...] = ()
    relabelled: tuple[str, ...] = ()
    chunks_embedded: int = 0
    chunks_total: int = 0
    documents_total: int = 0
    full_rebuild: bool = False
    rebuild_reason: str = ""
    seconds: float = 0.0
    embed_seconds: float = 0.0
    generation: str = ""
    finished_at: str = ""
    embedder: str = ""
    ocr: tuple[OcrDocument, ...] = ()  # documents recognised by OCR in this run
    extra: dict = field(default_factory=dict, compare=False, hash=False)

    def to_json(self) -> dict:
        return {
            "ingested": list(self.ingested),
            "unchanged": list(self.unchanged),
            "skipped": [{"source": s.source, "reason": s.reason} for s in self.skipped],
            "removed": list(self.removed),
            "relabelled": list(self.relabelled),
            "chunks_embedded": self.chunks_embedded,
            "chunks_total": self.chunks_total,
            "documents_total": self.documents_total,
            "full_rebuild": self.full_rebuild,
            "rebuild_reason": self.rebuild_reason,
            "seconds": round(self.seconds, 3),
            "embed_seconds": round(self.embed_seconds, 3),
            "generation": self.generation,
            "finished_at": self.finished_at,
            "embedder": self.embedder,
            "ocr": [
                {"source": o.source, "pages": list(o.pages), "seconds": o.seconds, "note": o.note}
                for o in self.ocr
            ],
        }

    @classmethod
    def from_json(cls, data: dict) -> IngestReport:
        return cls(
            ingested=tuple(data.get("ingested", ())),
            unchanged=tuple(data.get("unchanged", ())),
            skipped=tuple(Skipped(**s) for s in data.get("skipped", ())),
            removed=tuple(data.get("removed", ())),
            relabelled=tuple(data.get("relabelled", ())),
            chunks_embedded=data.get("chunks_embedded", 0),
            chunks_total=data.get("chunks_total", 0),
            documents_total=data.get("documents_total", 0),
            full_rebuild=data.get("full_rebuild", False),
            rebuild_reason=data.get("rebuild_reason", ""),
            seconds=data.get("seconds", 0.0),
            embed_seconds=data.get("embed_seconds", 0.0),
            generation=data.get("generation", ""),
            finished_at=data.get("finished_at", ""),
            embedder=data.get("embedder", ""),
            ocr=tuple(
                OcrDocument(
                    o["source"], tuple(o.get("pages", ())), o.get("seconds", 0.0), o.get("note", "")
                )
                for o in data.get("ocr", ())
            ),
        )

    def summary(self) -> str:
        lines = [
            f"ingested {len(self.ingested)}, unchanged {len(self.unchanged)}, "
            f"skipped {len(self.skipped)}, removed {len(self.removed)}; "
            f"{self.chunks_embedded} chunks embedded, {self.chunks_total} chunks in "
            f"{self.documents_total} documents ({self.seconds:.1f} s)"
        ]
        if self.full_rebuild and self.rebuild_reason:
            lines.append(f"full rebuild: {self.rebuild_reason}")
        lines.extend(f"  skipped {s.source}: {s.reason}" for s in self.skipped)
        lines.extend(f"  {o.line()}" for o in self.ocr)
        return "\n".join(lines)
