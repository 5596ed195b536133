"""Shared by the generator scripts: paths, the Markdown parser and the ground-truth writer.

Paths: the regulations are read from ``<repo>/../shared/data/office-regulations``; everything is
written under ``$WILD_OUT`` (default /tmp/policyqa-wild): the final files in ``files/``,
intermediates in ``tmp/``, the ground truth in ``expected.jsonl``.
"""

import json
import os
import re
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[2]  # bench/data/wild -> repo root
SRC = str(REPO.parent / "shared" / "data" / "office-regulations")
WILD_OUT = os.path.abspath(os.environ.get("WILD_OUT", "/tmp/policyqa-wild"))
OUT = os.path.join(WILD_OUT, "files")
TMP = os.path.join(WILD_OUT, "tmp")
os.makedirs(OUT, exist_ok=True)
os.makedirs(TMP, exist_ok=True)
CN = "零一二三四五六七八九"
LABEL_RE = re.compile(r"^(第[一二三四五六七八九十百零]+条)[ 　]+(.*)$")


def cn2int(s):
    total, cur = 0, 0
    for ch in s:
        if ch in CN:
            cur = CN.index(ch)
        elif ch == "十":
            total += (cur or 1) * 10
            cur = 0
        elif ch == "百":
            total += cur * 100
            cur = 0
    return total + cur


def int2cn(n):
    if n < 10:
        return CN[n]
    if n < 20:
        return "十" + (CN[n - 10] if n % 10 else "")
    if n < 100:
        return CN[n // 10] + "十" + (CN[n % 10] if n % 10 else "")
    h, r = divmod(n, 100)
    s = CN[h] + "百"
    if r == 0:
        return s
    if r < 10:
        return s + "零" + CN[r]
    return s + CN[r // 10] + "十" + (CN[r % 10] if r % 10 else "")


def norm_heading(t):
    """'第一章 总  则' -> ('第一章', '总则')"""
    m = re.match(r"^(第[一二三四五六七八九十百零]+[编章节])\s*(.*)$", t)
    if not m:
        return (t, "")
    return m.group(1), re.sub(r"[\s　]+", "", m.group(2))


def parse(fname):
    path = os.path.join(SRC, fname)
    lines = Path(path).read_text(encoding="utf-8").split("\n")
    title = lines[0].lstrip("#").strip()
    meta, blocks = [], []
    body = False
    for ln in lines[1:]:
        s = ln.strip()
        if not body:
            if s == "<!-- INFO END -->":
                body = True
            elif s:
                meta.append(s)
            continue
        if not s:
            continue
        if s.startswith("### "):
            blocks.append(("h3",) + norm_heading(s[4:].strip()))
        elif s.startswith("## "):
            blocks.append(("h2",) + norm_heading(s[3:].strip()))
        else:
            m = LABEL_RE.match(s)
            if m:
                blocks.append(("art", m.group(1), m.group(2)))
            else:
                blocks.append(("para", s))
    arts = [b[1] for b in blocks if b[0] == "art"]
    nums = [cn2int(a[1:-1]) for a in arts]
    assert nums == list(range(1, len(nums) + 1)), (fname, nums)
    assert all(int2cn(n) == a[1:-1] for n, a in zip(nums, arts, strict=True)), fname
    return dict(file=fname, title=title, meta=meta, blocks=blocks, articles=arts)


def spaced(name):
    """letter-spacing as in official typesetting: 总则 -> 总　　则"""
    if len(name) == 2:
        return name[0] + "　　" + name[1]
    if len(name) == 3:
        return "　".join(name)
    return name


def heading_text(b, style="plain"):
    lab, name = b[1], b[2]
    if style == "spaced":
        return lab + "　" + spaced(name)
    if style == "ascii":
        return lab + " " + name
    return lab + "　" + name


REGS = {
    "A": "全国年节及纪念日放假办法(2024-11-10).md",
    "B": "国家行政机关及其工作人员在国内公务活动中不得赠送和接受礼品的规定(1988-12-01).md",
    "C": "职工带薪年休假条例(2007-12-14).md",
    "D": "国家机关、事业单位贯彻《国务院关于职工工作时间的规定》的实施办法(1995-05-01).md",
    "E": "企业职工带薪年休假实施办法(2008-07-17).md",
    "F": "机关团体建设楼堂馆所管理条例(2017-10-05).md",
    "G": "地方各级人民政府机构设置和编制管理条例(2007-02-24).md",
    "H": "国务院行政机构设置和编制管理条例(1997-08-03).md",
    "I": "事业单位人事管理条例(2014-04-25).md",
    "J": "机关事务管理条例(2012-06-28).md",
    "K": "行政法规制定程序条例(2017-12-22).md",
    "L": "密码法(2019-10-26).md",
    "M": "规章制定程序条例(2017-12-22).md",
    "N": "数据安全法(2021-06-10).md",
    "O": "统计法实施条例(2017-05-28).md",
    "P": "档案法(2020-06-20).md",
    "Q": "行政复议法实施条例(2007-05-29).md",
}

EXPECTED = os.path.join(TMP, "expected_parts.jsonl")


def record(file, key, variant, title=None):
    r = parse(REGS[key])
    with open(EXPECTED, "a", encoding="utf-8") as f:
        f.write(
            json.dumps(
                dict(
                    file=file,
                    source_md=REGS[key],
                    title=title or r["title"],
                    articles=r["articles"],
                    variant=variant,
                ),
                ensure_ascii=False,
            )
            + "\n"
        )
