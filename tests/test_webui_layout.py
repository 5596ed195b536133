"""The web app's shape, checked on the source: ``ui.py`` is a composition root, the ``webui``
package has short modules and functions, and every use case with side effects on the corpus or
the audit log goes through ``Assistant`` (never ``run_ingest``, ``AuditLog.record`` or a file
write in the source folder from the web layer). Which layer may import which: test_layers.py."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
WEB = [ROOT / "ui.py", *sorted((ROOT / "webui").glob("*.py"))]
FORBIDDEN = {
    "run_ingest": re.compile(r"\brun_ingest\b"),
    "audit.record": re.compile(r"\baudit\.record\b|\.record\("),
    "AuditLog(": re.compile(r"\bAuditLog\("),
    "file write": re.compile(r"\.write_(text|bytes)\(|\bshutil\.|os\.replace|open\([^)]*['\"][wa]"),
}


CLI = [ROOT / "assistant" / "cli.py", ROOT / "assistant" / "docs_cli.py"]


def _name(path: Path) -> str:
    return str(path.relative_to(ROOT))


@pytest.mark.parametrize("path", WEB, ids=_name)
def test_the_web_layer_reaches_the_corpus_and_the_audit_log_only_through_the_assistant(path):
    text = path.read_text(encoding="utf-8")
    code = "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("#"))
    for what, pattern in FORBIDDEN.items():
        assert not pattern.search(code), f"{_name(path)} uses {what}"
    if path.name != "documents.py":  # only Gradio's own temp copies are deleted, there
        assert ".unlink(" not in code and "rmdir(" not in code, _name(path)


def test_ui_py_is_a_composition_root():
    tree = ast.parse((ROOT / "ui.py").read_text(encoding="utf-8"))
    public = {n.name for n in tree.body if isinstance(n, ast.FunctionDef) and n.name[0] != "_"}
    assert public == {"create_app", "launch_options", "serve", "main"}
    assert len((ROOT / "ui.py").read_text(encoding="utf-8").splitlines()) <= 300


@pytest.mark.parametrize("path", CLI, ids=_name)
def test_the_cli_ingests_and_reads_the_audit_log_only_through_the_assistant(path):
    """(Its own output files, such as ``eval --failures``, are the CLI's to write.)"""
    text = path.read_text(encoding="utf-8")
    for what in ("run_ingest", "audit.record", "AuditLog("):
        assert not FORBIDDEN[what].search(text), f"{_name(path)} uses {what}"


@pytest.mark.parametrize("path", WEB, ids=_name)
def test_web_modules_and_functions_are_short(path):
    source = path.read_text(encoding="utf-8")
    assert len(source.splitlines()) <= 400
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            length = node.end_lineno - node.lineno + 1
            assert length <= 60, f"{_name(path)}:{node.lineno} {node.name} has {length} lines"


def test_the_catalogues_hold_every_text_the_web_layer_uses():
    from string import Formatter

    from webui.i18n import LANGUAGES, strings

    zh = strings("zh")
    for lang in LANGUAGES:
        t = strings(lang)
        assert set(t) == set(zh), lang
        for key, text in t.items():
            fields = {f for _, f, _, _ in Formatter().parse(text) if f}
            assert fields == {f for _, f, _, _ in Formatter().parse(zh[key]) if f}, (lang, key)
    used = set()
    for path in WEB:
        text = path.read_text(encoding="utf-8")
        used |= set(re.findall(r"\bt\[[\"'](\w+)[\"']\]", text))
        used |= set(re.findall(r"\blabel\([\"'](\w+)[\"']\)", text))
    assert used and used <= set(zh), used - set(zh)
