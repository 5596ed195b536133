"""Settings: defaults < policyqa.toml < POLICYQA_* env < flags, and clear errors for bad values."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.settings import load_settings
from ingest.errors import PolicyQAError


def test_layers_in_order(tmp_path):
    toml = tmp_path / "policyqa.toml"
    toml.write_text('fusion = "rrf"\nalpha = 0.5\nk = 7\n', encoding="utf-8")
    s = load_settings(toml, env={})
    assert (s.fusion, s.alpha, s.k) == ("rrf", 0.5, 7)
    s = load_settings(toml, env={"POLICYQA_ALPHA": "0.6", "POLICYQA_FUSION": "convex"})
    assert (s.fusion, s.alpha, s.k) == ("convex", 0.6, 7)
    assert load_settings(toml, env={"POLICYQA_K": "9"}, k=3).k == 3


def test_defaults():
    s = load_settings(env={})
    assert (s.fusion, s.alpha, s.model, s.batch_size) == ("convex", 0.7, "builtin", 4)
    assert s.query_adapter == "auto"
    assert load_settings(env={"POLICYQA_QUERY_ADAPTER": "off"}).query_adapter == "off"


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"POLICYQA_FUSION": "sum"}, "fusion must be convex or rrf"),
        ({"POLICYQA_ALPHA": "1.5"}, "alpha must be in [0, 1]"),
        ({"POLICYQA_ALPHA": "high"}, "invalid value for alpha"),
        ({"POLICYQA_ACROSS_WEIGHT": "-1"}, "across_weight must be at least 0"),
    ],
)
def test_bad_values_are_clear_errors(env, message):
    with pytest.raises(PolicyQAError, match=message.replace("[", r"\[").replace("]", r"\]")):
        load_settings(env=env)


def test_unknown_setting_in_toml_is_ignored_but_unknown_flag_is_an_error(tmp_path):
    toml = tmp_path / "policyqa.toml"
    toml.write_text("nonsense = 1\n", encoding="utf-8")
    assert load_settings(toml, env={}).fusion == "convex"
    with pytest.raises(PolicyQAError, match="unknown settings"):
        load_settings(env={}, nonsense=1)


def test_the_api_key_never_shows_and_settings_are_frozen():
    key = "sk-" + "Qq7" * 8
    s = load_settings(env={"POLICYQA_LLM_API_KEY": key, "POLICYQA_LLM_MODEL": "m"})
    assert s.llm_api_key.get_secret_value() == key and s.llm_model == "m"
    assert key not in repr(s) and key not in str(s)
    with pytest.raises(ValueError):
        s.k = 3  # type: ignore[misc]


def test_environment_names_and_paths():
    s = load_settings(
        env={
            "POLICYQA_INDEX_DIR": "/a",
            "POLICYQA_INDEX": "/b",  # the short name wins, as it always did
            "POLICYQA_SOURCE": "~/regs",
            "POLICYQA_AUTH": "off",
            "POLICYQA_PORT": "",  # empty = unset
            "POLICYQA_GATE": "0.25",
        }
    )
    assert str(s.index_path) == "/b" and not s.auth and s.port == 7860 and s.gate == 0.25
    assert s.source_dir == Path("~/regs").expanduser()
    assert s.ingest_options(full=True).full and s.ingest_options().chunk_size == 800
    with pytest.raises(PolicyQAError, match="auth expects true/false"):
        load_settings(env={"POLICYQA_AUTH": "maybe"})


def test_the_retrieval_section_becomes_the_retrievers_config():
    from assistant.retrieval import RetrievalConfig

    given = load_settings(env={"POLICYQA_ALPHA": "0.5", "POLICYQA_GATE": "0.61"})
    config = given.retrieval_config()
    assert (config.alpha, config.gate, config.fusion) == (0.5, 0.61, "convex")
    assert load_settings(env={}).retrieval_config() == RetrievalConfig()
    env = {"POLICYQA_BIGRAM_WEIGHT": "0", "POLICYQA_ACROSS_WEIGHT": "0.5"}
    bigrams = load_settings(env=env).retrieval_config()
    assert (bigrams.bigram_weight, bigrams.across_weight) == (0.0, 0.5)


def test_the_file_may_group_retrieval_settings_in_a_section(tmp_path):
    toml = tmp_path / "policyqa.toml"
    toml.write_text('k = 7\n[retrieval]\nalpha = 0.5\nfusion = "rrf"\nport = 1\n', encoding="utf-8")
    s = load_settings(toml, env={})
    assert (s.k, s.retrieval_config().alpha, s.retrieval_config().fusion) == (7, 0.5, "rrf")
    assert s.port == 7860  # only retrieval settings are read from the section
    assert load_settings(toml, env={"POLICYQA_ALPHA": "0.6"}).alpha == 0.6
    toml.write_text('retrieval = "x"\n', encoding="utf-8")
    with pytest.raises(PolicyQAError, match="retrieval"):
        load_settings(toml, env={})
