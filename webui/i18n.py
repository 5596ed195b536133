"""The web app's server-rendered texts: one catalogue per language in ``locales/<lang>.yaml``
(the same keys in each), chosen by ``POLICYQA_LANG`` (``Settings.lang``; Chinese by default).

    strings(lang) -> Mapping[str, str]     the catalogue ("zh" unless lang is "en")
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from pathlib import Path
from types import MappingProxyType

import yaml

LOCALES = Path(__file__).with_name("locales")
LANGUAGES = ("zh", "en")


@cache
def strings(lang: str) -> Mapping[str, str]:
    """The catalogue of ``lang`` (read once, read-only); any other value gives Chinese."""
    name = lang if lang in LANGUAGES else "zh"
    data = yaml.safe_load((LOCALES / f"{name}.yaml").read_text(encoding="utf-8"))
    return MappingProxyType({str(k): str(v) for k, v in data.items()})


def stage(stage_name: str, t: Mapping[str, str]) -> str:
    """An ingest stage's name (scanning, loading, ocr...) for progress bars."""
    return t.get(f"stage_{stage_name}", stage_name)
