"""The shared vocabulary of regulations: article labels with and without a space after them."""

from __future__ import annotations

import dataclasses
import re

import pytest
from conftest import CORPUS_DIR

from assistant.quantities import states_quantity
from assistant.records import Hit
from ingest.chunking import chunk_document
from ingest.loaders import load_file
from ingest.records import Chunk, Document
from ingest.statutes import (
    article_label,
    article_start,
    canonical_label,
    same_article,
    strip_article_label,
    tidy_heading,
)

# the separator a regulation puts after its labels: ASCII/full-width spaces
_AFTER_LABEL = re.compile(
    r"^(第[零〇一二三四五六七八九十百千两]+条(?:之[一二三四五六七八九十]+)?)[ \u3000]+", re.M
)


def _labels(chunks: list[Chunk]) -> list[str]:
    out: list[str] = []
    for c in chunks:
        if c.articles and (not out or out[-1] != c.articles[0]):
            out.append(c.articles[0])
    return out


@pytest.mark.parametrize(
    "name",
    ["职工带薪年休假条例(2007-12-14).md", "公务员法(2018-12-29).md", "档案法(2020-06-20).md"],
)
def test_labels_without_a_space_give_the_same_articles(name):
    """A PDF text layer drops the space after 第X条: the chunker finds the same articles."""
    doc = load_file(CORPUS_DIR / name, CORPUS_DIR)
    expected = _labels(chunk_document(doc))
    assert len(expected) >= 10
    squeezed = dataclasses.replace(doc, text=_AFTER_LABEL.sub(r"\1", doc.text), headings=())
    assert squeezed.text != doc.text
    assert _labels(chunk_document(squeezed)) == expected


def test_a_wrapped_cross_reference_does_not_open_an_article():
    text = "\n".join(
        [
            "某某条例",
            "第一条为了规范管理，制定本条例。",
            "第二条本条例适用于本市各级机关。有下列情形之一的，依照本条例",
            "第十条规定的程序办理：",
            "（一）情形一；",
            "第三条单位应当建立制度。",
            "第四条本条例自发布之日起施行。",
        ]
    )
    doc = Document(
        id="d", source="d.txt", title="某某条例", version_date=None, sha256="0", text=text
    )
    assert _labels(chunk_document(doc)) == ["第一条", "第二条", "第三条", "第四条"]


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("第五条　审计机关依照本法", ("第五条", (5, 0), True)),
        ("第五条审计机关依照本法", ("第五条", (5, 0), False)),
        ("**第十条之一** 内容", ("第十条之一", (10, 1), True)),
        ("第十条规定的情形", None),
        ("第十条第二款", None),
        ("第十条、第十一条", None),
        ("依照第十条", None),
        # letter-spaced, as a justified PDF line, OCR or a document typed for alignment gives it
        ("第 五 条　审计机关依照本法", ("第五条", (5, 0), True)),
        ("第　十　二　条 职工", ("第十二条", (12, 0), True)),
        ("第 3 条 员工", ("第3条", (3, 0), True)),
        ("第 十 条规定的情形", None),
    ],
)
def test_article_start(line, expected):
    assert article_start(line) == expected


def test_labels_and_stripping():
    assert article_label("33") == article_label(33) == article_label("三十三") == "第三十三条"
    assert article_label("十", "一") == "第十条之一"
    assert strip_article_label("第三条　职工累计工作已满1年") == "职工累计工作已满1年"
    assert strip_article_label("第三条职工累计工作已满1年") == "职工累计工作已满1年"


def test_one_article_however_its_label_is_written():
    assert same_article("第3条", "第三条") and same_article("第三条", "第 三 条")
    assert same_article("第10条之一", "第十条之一") and not same_article("第十条之一", "第十条")
    assert not same_article("二十四、", "第二十四条") and same_article("二十四、", "二十四、")
    assert canonical_label("第103条") == "第一百零三条" and canonical_label("三、") == "三、"
    assert tidy_heading("第 一 章　总　　则") == "第一章 总则"
    assert tidy_heading("一、 总体 要求") == "一、 总体要求"


def test_letter_spaced_labels_and_headings_give_the_articles():
    """A document typed with spaces for alignment (第 一 章　总　则 / 第 一 条　…): the same
    articles, under tidy headings."""
    text = "\n".join(
        ["测试管理办法", "第 一 章　总　则", "第 一 条　为了规范管理，制定本办法。"]
        + [
            "第 二 条　本办法适用于全体职工。",
            "第 二 章　休　假",
            "第 三 条　职工每年享有年休假5天。",
        ]
    )
    doc = Document(
        id="d", source="d.txt", title="测试管理办法", version_date=None, sha256="0", text=text
    )
    chunks = [c for c in chunk_document(doc) if c.articles]
    assert [(c.articles, c.heading) for c in chunks] == [
        (("第一条",), "第一章 总则"),
        (("第二条",), "第一章 总则"),
        (("第三条",), "第二章 休假"),
    ]


def test_financial_numerals_are_a_stated_figure():
    text = "差旅住宿费标准：处级及以下每人每天伍佰元，司局级每人每天捌佰元。"
    chunk = Chunk("c", "d", "x.md", "差旅费管理办法", "", ("第五条",), (), 0, len(text), text)
    assert states_quantity("处长出差住宿每天能报多少钱？", [Hit(chunk, 1.0, 1, 1)])
