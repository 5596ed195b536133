"""The app's CSS and the two scripts run in the page (``static/``), read once."""

from __future__ import annotations

from pathlib import Path

STATIC = Path(__file__).with_name("static")


def _read(name: str) -> str:
    return (STATIC / name).read_text(encoding="utf-8")


CSS = _read("app.css")
SOURCES_JS = _read("sources.js")  # the sources panel's "open document" buttons
VIEWER_JS = _read("viewer.js")  # the viewer scrolls to the marked passage
