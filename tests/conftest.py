"""Shared pytest fixtures."""

from __future__ import annotations

import pytest

# --- fake LLM endpoint ---
# tests/ is on sys.path (pytest's default rootdir-relative "prepend" import mode, no __init__.py).
from fake_llm import FakeLLMServer


@pytest.fixture
def fake_llm():
    """A running scripted OpenAI-compatible server (see tests/fake_llm.py); closed afterwards."""
    server = FakeLLMServer().start()
    try:
        yield server
    finally:
        server.close()
