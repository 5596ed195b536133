"""Records the assistant hands out: search hits, citations, answers. Frozen dataclasses."""

from __future__ import annotations

from dataclasses import asdict, dataclass

from ingest.records import Chunk


def place(articles: tuple[str, ...] | list[str], heading: str) -> str:
    """Where in the document: 第三条; for numbered sections (五、) the section heading
    (五、伙食补助费和市内交通费) when the heading path has it; else the last heading."""
    parts = heading.split(" / ") if heading else []
    if articles and articles[0].endswith("、"):
        named = next((p for p in parts if p.startswith(articles[0])), None)
        return named or articles[0]
    return "、".join(articles) or (parts[-1] if parts else "")


@dataclass(frozen=True)
class Hit:
    chunk: Chunk
    score: float  # fused score, higher is better (comparable to the relevance gate)
    dense_rank: int | None = None  # 1-based rank in the dense list, None when absent
    bm25_rank: int | None = None
    exact: bool = False  # found by an explicit "《X》第N条" reference in the question
    rerank_score: float | None = None  # MaxSim (maxsim.py) or cross-encoder logit (rerank.py)
    dense_score: float | None = None  # cosine with the (adapted) query vector

    def to_json(self) -> dict:
        c = self.chunk
        out = {
            "source": c.source,
            "title": c.title,
            "heading": c.heading,
            "articles": list(c.articles),
            "pages": list(c.pages),
            "score": round(float(self.score), 6),
            "text": c.text,
        }
        if self.rerank_score is not None:
            out["rerank_score"] = round(float(self.rerank_score), 6)
        return out


@dataclass(frozen=True)
class Citation:
    n: int
    source: str
    title: str
    heading: str
    articles: tuple[str, ...]
    pages: tuple[int, ...]
    quote: str
    chunk_id: str = ""
    doc_id: str = ""
    doc_number: str = ""  # the cited document's 文号 (国办发〔2024〕12号), "" when it has none

    def to_json(self) -> dict:
        d = asdict(self)
        d["articles"] = list(self.articles)
        d["pages"] = list(self.pages)
        keys = ("n", "source", "title", "heading", "articles", "pages", "quote", "doc_number")
        return {k: d[k] for k in keys}

    def label(self) -> str:
        """《职工带薪年休假条例》第三条 — the human form of the citation."""
        parts = [f"《{self.title}》", place(self.articles, self.heading)]
        if self.pages:
            pages = self.pages
            parts.append(f" 第{pages[0]}页" if len(pages) == 1 else f" 第{pages[0]}–{pages[-1]}页")
        return "".join(parts)


@dataclass(frozen=True)
class Answer:
    text: str
    citations: tuple[Citation, ...]
    refused: bool
    verified: bool
    mode: str  # "extractive" | "llm" | "refusal"
    question: str = ""
    suggestions: tuple[str, ...] = ()  # closest document titles, on a refusal
    notice: str = ""  # e.g. "LLM unreachable, extractive answer shown"

    def to_json(self) -> dict:
        return {
            "answer": self.text,
            "refused": self.refused,
            "verified": self.verified,
            "mode": self.mode,
            "citations": [c.to_json() for c in self.citations],
            "suggestions": list(self.suggestions),
            "notice": self.notice,
        }


@dataclass(frozen=True)
class Passage:
    """A retrieved passage as given to an LLM: number [n], a label (《title》第X条) and its text."""

    n: int
    label: str
    text: str
