"""Which layer may import which, checked on the source (every import statement, also those inside
functions): ``ingest`` (the lowest) imports nothing from ``assistant``; neither imports the web
layer (``ui``, ``webui``) nor the top-level ``policyqa`` command that composes them all. The
``policyqa`` command still offers every command, ``serve`` included."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from click.testing import CliRunner

ROOT = Path(__file__).resolve().parents[1]
WEB = {"ui", "webui", "policyqa"}
RULES = {"ingest": WEB | {"assistant"}, "assistant": WEB}


def _imports(source: str, package: tuple[str, ...]) -> list[tuple[int, str]]:
    """(line, absolute module name) of every import in a module of ``package``; relative ones
    resolved."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else ()
            found.append((node.lineno, ".".join([*base, node.module or ""]).strip(".")))
    return found


def _package(path: Path) -> tuple[str, ...]:
    return path.relative_to(ROOT).parent.parts


def _sources(package: str) -> list[Path]:
    return sorted((ROOT / package).rglob("*.py"))


@pytest.mark.parametrize("package", sorted(RULES))
def test_a_layer_imports_nothing_from_the_layers_above_it(package):
    sources = _sources(package)
    assert len(sources) > 5, package
    wrong = [
        f"{path.relative_to(ROOT)}:{line} imports {name}"
        for path in sources
        for line, name in _imports(path.read_text(encoding="utf-8"), _package(path))
        if name.split(".")[0] in RULES[package]
    ]
    assert not wrong, wrong


def test_the_scan_sees_relative_and_nested_imports():
    """The checker itself: an import inside a function and a ``from ..`` one are both found."""
    text = "def f():\n    import webui.chat\n    from ..assistant import service\n"
    names = [name for _, name in _imports(text, ("ingest",))]
    assert names == ["webui.chat", "assistant"]
    assert _imports("from . import pipeline", ("ingest",)) == [(1, "ingest")]
    assert _imports("from .settings import S", ("assistant",)) == [(1, "assistant.settings")]


def test_the_policyqa_command_has_every_command_and_serve():
    from assistant import cli
    from policyqa import main

    assert "serve" not in cli.main.commands  # the core is left as it is
    assert set(main.commands) == set(cli.main.commands) | {"serve"}
    assert {"ingest", "search", "ask", "eval", "status", "users", "audit", "docs"} <= set(
        main.commands
    )
    result = CliRunner().invoke(main, ["serve", "--help"])
    assert result.exit_code == 0, result.output
    assert "--no-auth" in result.output and "Start the web app" in result.output
    listing = CliRunner().invoke(main, ["--help"]).output
    assert "serve" in listing and "--data-dir" in listing
