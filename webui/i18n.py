"""The web app's texts: one catalogue per language in ``locales/<lang>.yaml`` (the same keys in
each).

    strings(lang) -> Mapping[str, str]     the catalogue ("zh" unless lang is "en"): what the
                                           server renders (answers, notices, tables, errors)
                                           in ``POLICYQA_LANG`` (``Settings.lang``)
    browser_texts(lang) -> BrowserTexts    component texts (labels, buttons, tabs) as gr.I18n
                                           keys, translated by each browser: Chinese browsers
                                           (zh-CN, zh-TW) get Chinese, English ones English,
                                           every other locale Gradio knows ``lang``'s catalogue
                                           (a locale Gradio does not know falls back to English)
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from pathlib import Path
from types import MappingProxyType

import gradio as gr
import yaml

LOCALES = Path(__file__).with_name("locales")
LANGUAGES = ("zh", "en")
# the locales of Gradio 6's frontend (gradio/templates/frontend/assets: lang/*.json); it maps a
# browser's language to one of them and falls back to "en"
GRADIO_LOCALES = (
    "ar",
    "ca",
    "ckb",
    "de",
    "en",
    "es",
    "et",
    "eu",
    "fa",
    "fi",
    "fr",
    "he",
    "hi",
    "id",
    "ja",
    "ko",
    "lt",
    "nb",
    "nl",
    "pl",
    "pt-BR",
    "pt",
    "ro",
    "ru",
    "sv",
    "ta",
    "th",
    "tr",
    "uk",
    "ur",
    "uz",
    "zh-CN",
    "zh-TW",
)
CATALOGUE_OF = {"en": "en", "zh-CN": "zh", "zh-TW": "zh"}  # every other locale: the default


@cache
def strings(lang: str) -> Mapping[str, str]:
    """The catalogue of ``lang`` (read once, read-only); any other value gives Chinese."""
    name = lang if lang in LANGUAGES else "zh"
    data = yaml.safe_load((LOCALES / f"{name}.yaml").read_text(encoding="utf-8"))
    return MappingProxyType({str(k): str(v) for k, v in data.items()})


def stage(stage_name: str, t: Mapping[str, str]) -> str:
    """An ingest stage's name (scanning, loading, ocr...) for progress bars."""
    return t.get(f"stage_{stage_name}", stage_name)


class BrowserTexts:
    """``texts(key)``: a component text the browser translates (``gr.I18n`` data). Only the keys
    asked for are sent to the browser (``i18n``, for ``Blocks.launch``)."""

    def __init__(self, lang: str) -> None:
        self.default = lang if lang in LANGUAGES else "zh"
        self.i18n = gr.I18n(**{locale: {} for locale in GRADIO_LOCALES})

    def __call__(self, key: str) -> gr.i18n.I18nData:
        for locale, table in self.i18n.translations.items():
            table[key] = strings(CATALOGUE_OF.get(locale, self.default))[key]  # KeyError: unknown
        return self.i18n(key)


@cache
def browser_texts(lang: str) -> BrowserTexts:
    """One per language and process: every app built for ``lang`` adds the keys it uses."""
    return BrowserTexts(lang)
