#!/usr/bin/env python3
"""Build a small PDF test set of Chinese regulations with ground truth.

Made by a helper who never saw policyqa's code (eleventh session); bench/pdf_paragraphs.py runs
it and scores the loaders on it:
    .venv/bin/python bench/data/pdfs/build.py OUT [--no-pdf]
It writes OUT/work/*.docx, OUT/work/*.html (intermediate), OUT/files/*.pdf and OUT/expected.jsonl
from ../shared/data/office-regulations. PDF conversion: LibreOffice (docx) and Chromium (html).
"""

import html
import json
import os
import re
import subprocess
import sys

from docx import Document
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_BREAK
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt, RGBColor

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
SRC = os.path.join(os.path.dirname(REPO), "shared", "data", "office-regulations")
ROOT = (
    os.path.abspath(sys.argv[1])
    if len(sys.argv) > 1 and not sys.argv[1].startswith("--")
    else "/tmp/policyqa-pdfs"
)
WORK = os.path.join(ROOT, "work")
FILES = os.path.join(ROOT, "files")
os.makedirs(WORK, exist_ok=True)
os.makedirs(FILES, exist_ok=True)

SERIF = "Noto Serif CJK SC"  # stands in for 仿宋/宋体
SANS = "Noto Sans CJK SC"  # stands in for 黑体/小标宋


def load(md):
    """Return (title, history_lines, body_paragraphs) with chapter headings as plain text."""
    with open(os.path.join(SRC, md), encoding="utf-8") as f:
        lines = f.read().split("\n")
    assert lines[0].startswith("# ")
    title = lines[0][2:].strip()
    hist, body, in_body = [], [], False
    for ln in lines[1:]:
        s = ln.strip()
        if not s:
            continue
        if s.startswith("<!--"):
            in_body = True
            continue
        s = re.sub(r"^#+\s*", "", s)
        # normalise internal whitespace runs (e.g. trailing ideographic spaces)
        s = s.strip().strip("\u3000").strip()
        if not s:
            continue
        (body if in_body else hist).append(s)
    if not in_body:
        body, hist = hist, []
    return title, hist, body


def is_heading(p):
    return bool(re.match(r"^第[一二三四五六七八九十百零]+[章节]\s", p)) or bool(
        re.match(r"^第[一二三四五六七八九十百零]+[章节]$", p)
    )


# ---------------------------------------------------------------- docx helpers


def set_run_font(run, name, size=None, bold=None, color=None):
    run.font.name = name
    rpr = run._element.get_or_add_rPr()
    rfonts = rpr.find(qn("w:rFonts"))
    if rfonts is None:
        rfonts = OxmlElement("w:rFonts")
        rpr.insert(0, rfonts)
    for a in ("w:ascii", "w:hAnsi", "w:eastAsia", "w:cs"):
        rfonts.set(qn(a), name)
    if size is not None:
        run.font.size = Pt(size)
    if bold is not None:
        run.font.bold = bold
    if color is not None:
        run.font.color.rgb = RGBColor(*color)


def add_par(
    doc_or_cell,
    text,
    font=SERIF,
    size=16,
    align=None,
    indent_chars=0,
    bold=False,
    color=None,
    line_pt=None,
    space_after=0,
    space_before=0,
    keep_next=False,
):
    p = doc_or_cell.add_paragraph()
    pf = p.paragraph_format
    if align is not None:
        p.alignment = align
    if indent_chars:
        pf.first_line_indent = Pt(size * indent_chars)
    if line_pt:
        pf.line_spacing = Pt(line_pt)
    pf.space_after = Pt(space_after)
    pf.space_before = Pt(space_before)
    if keep_next:
        pf.keep_with_next = True
    r = p.add_run(text)
    set_run_font(r, font, size, bold, color)
    return p


def add_field(paragraph, instr, font, size, before="", after=""):
    if before:
        set_run_font(paragraph.add_run(before), font, size)
    r = paragraph.add_run()
    set_run_font(r, font, size)
    f1 = OxmlElement("w:fldChar")
    f1.set(qn("w:fldCharType"), "begin")
    it = OxmlElement("w:instrText")
    it.set(qn("xml:space"), "preserve")
    it.text = instr
    f2 = OxmlElement("w:fldChar")
    f2.set(qn("w:fldCharType"), "separate")
    t = OxmlElement("w:t")
    t.text = "1"
    f3 = OxmlElement("w:fldChar")
    f3.set(qn("w:fldCharType"), "end")
    for el in (f1, it, f2, t, f3):
        r._element.append(el)
    if after:
        set_run_font(paragraph.add_run(after), font, size)


def bottom_border(p, color="FF0000", sz=18):
    ppr = p._p.get_or_add_pPr()
    bdr = OxmlElement("w:pBdr")
    b = OxmlElement("w:bottom")
    b.set(qn("w:val"), "single")
    b.set(qn("w:sz"), str(sz))
    b.set(qn("w:space"), "6")
    b.set(qn("w:color"), color)
    bdr.append(b)
    ppr.append(bdr)


def page_break(doc):
    p = doc.add_paragraph()
    p.add_run().add_break(WD_BREAK.PAGE)


def setup_section(doc, top, bottom, left, right):
    s = doc.sections[0]
    s.page_width, s.page_height = Mm(210), Mm(297)
    s.top_margin, s.bottom_margin = Mm(top), Mm(bottom)
    s.left_margin, s.right_margin = Mm(left), Mm(right)
    return s


def footer_pageno(section, style, font=SERIF, size=14):
    fp = section.footer.paragraphs[0]
    if style == "dash":  # 公文: — 1 —, outside alignment approximated by centre
        fp.alignment = WD_ALIGN_PARAGRAPH.CENTER
        add_field(fp, "PAGE", font, size, before="— ", after=" —")
    elif style == "of":
        fp.alignment = WD_ALIGN_PARAGRAPH.CENTER
        add_field(fp, "PAGE", font, size, before="第 ", after=" 页")
        set_run_font(fp.add_run(" 共 "), font, size)
        add_field(fp, "NUMPAGES", font, size, after=" 页")
    elif style == "plain":
        fp.alignment = WD_ALIGN_PARAGRAPH.RIGHT
        add_field(fp, "PAGE", font, size)


def header_text(section, text, font=SERIF, size=9, border=True):
    hp = section.header.paragraphs[0]
    hp.alignment = WD_ALIGN_PARAGRAPH.CENTER
    set_run_font(hp.add_run(text), font, size)
    if border:
        bottom_border(hp, color="000000", sz=6)


def write_body_docx(
    doc,
    paras,
    size,
    font,
    align,
    indent,
    line_pt,
    heading_font=SANS,
    heading_size=None,
    space_after=0,
    item_indent=None,
):
    for t in paras:
        if is_heading(t):
            add_par(
                doc,
                t,
                font=heading_font,
                size=heading_size or size,
                align=WD_ALIGN_PARAGRAPH.CENTER,
                line_pt=line_pt,
                space_before=size * 0.5,
                space_after=size * 0.5,
                keep_next=True,
            )
        else:
            add_par(
                doc,
                t,
                font=font,
                size=size,
                align=align,
                indent_chars=indent,
                line_pt=line_pt,
                space_after=space_after,
            )


# ---------------------------------------------------------------- specs
J = WD_ALIGN_PARAGRAPH.JUSTIFY
L = WD_ALIGN_PARAGRAPH.LEFT
C = WD_ALIGN_PARAGRAPH.CENTER
R = WD_ALIGN_PARAGRAPH.RIGHT

records = []


def docx_notice(
    name,
    md,
    org,
    banner,
    docno,
    notice_title,
    recipients,
    notice_text,
    sign,
    date,
    attach_style,
    public_note=True,
):
    title, hist, body = load(md)
    doc = Document()
    # GB/T 9704-ish: 版心 156-158mm, 3号仿宋 28 chars per line
    s = setup_section(doc, 37, 35, 26.5, 25)
    footer_pageno(s, "dash", size=14)
    add_par(
        doc,
        banner,
        font=SANS,
        size=34,
        align=C,
        bold=True,
        color=(0xE0, 0, 0),
        line_pt=50,
        space_before=20,
        space_after=12,
    )
    p = add_par(doc, docno, font=SERIF, size=16, align=C, line_pt=28, space_after=4)
    bottom_border(p, "E00000", 18)
    add_par(doc, "", size=16, line_pt=28)
    add_par(doc, notice_title, font=SANS, size=22, align=C, line_pt=35, space_after=12)
    paras = []
    add_par(doc, recipients, size=16, align=J, line_pt=28)
    paras.append(recipients)
    for t in notice_text:
        add_par(doc, t, size=16, align=J, indent_chars=2, line_pt=28)
        paras.append(t)
    add_par(doc, "", size=16, line_pt=28)
    att = "附件：" + title
    add_par(doc, att, size=16, align=J, indent_chars=2, line_pt=28)
    paras.append(att)
    add_par(doc, "", size=16, line_pt=28)
    add_par(doc, "", size=16, line_pt=28)
    add_par(doc, sign, size=16, align=R, line_pt=28)
    add_par(doc, date, size=16, align=R, line_pt=28)
    paras += [sign, date]
    if public_note:
        add_par(doc, "（此件公开发布）", size=16, align=J, indent_chars=2, line_pt=28)
        paras.append("（此件公开发布）")
    page_break(doc)
    add_par(doc, "附件", font=SANS, size=16, align=L, line_pt=28)
    add_par(doc, title, font=SANS, size=22, align=C, line_pt=35, space_before=12, space_after=12)
    if attach_style == "gongwen":
        write_body_docx(doc, body, 16, SERIF, J, 2, 28)
    else:  # left aligned, no indent, small spacing between paragraphs
        write_body_docx(doc, body, 15, SERIF, L, 0, 26, space_after=6)
    paras += body
    path = os.path.join(WORK, name + ".docx")
    doc.save(path)
    records.append(
        dict(
            file=name + ".pdf",
            source_md=md,
            title=notice_title,
            paragraphs=paras,
            _src=path,
            _kind="docx",
            other_lines=[banner, docno, "附件", title, "footer: — N —"],
            variant="",
        )
    )
    return records[-1]


def docx_plain(
    name,
    md,
    *,
    margins,
    size,
    align,
    indent,
    line_pt,
    title_size,
    title_font=SANS,
    header=None,
    footer=None,
    include_hist=False,
    space_after=0,
    body_font=SERIF,
    heading_size=None,
    variant="",
):
    title, hist, body = load(md)
    doc = Document()
    s = setup_section(doc, *margins)
    if header:
        header_text(s, header)
    if footer:
        footer_pageno(s, footer, size=10.5 if footer != "dash" else 14)
    add_par(
        doc,
        title,
        font=title_font,
        size=title_size,
        align=C,
        line_pt=title_size * 1.5,
        space_before=6,
        space_after=title_size * 0.6,
    )
    paras = []
    if include_hist:
        for h in hist:
            add_par(doc, h, font=body_font, size=size - 2, align=C, line_pt=(size - 2) * 1.5)
            paras.append(h)
        add_par(doc, "", size=size)
    write_body_docx(
        doc,
        body,
        size,
        body_font,
        align,
        indent,
        line_pt,
        space_after=space_after,
        heading_size=heading_size,
    )
    paras += body
    path = os.path.join(WORK, name + ".docx")
    doc.save(path)
    other = []
    if header:
        other.append("header: " + header)
    if footer:
        other.append(f"footer page numbers ({footer})")
    records.append(
        dict(
            file=name + ".pdf",
            source_md=md,
            title=title,
            paragraphs=paras,
            _src=path,
            _kind="docx",
            other_lines=other,
            variant=variant,
        )
    )


# ---------------------------------------------------------------- HTML
GOV_CSS = """
@page { size: A4; margin: %(pagemargin)s; }
body { margin:0; font-family: 'Noto Sans CJK SC', sans-serif; color:#222; background:#fff; }
.banner { background:#b5121b; color:#fff; padding:18px 30px; }
.banner .site { font-size:30px; font-weight:bold; letter-spacing:2px; }
.banner .en { font-size:12px; opacity:.85; font-family: sans-serif; }
.nav { background:#8c0c13; padding:8px 30px; font-size:15px; }
.nav a { color:#fff; text-decoration:none; margin-right:26px; }
.crumb { font-size:13px; color:#666; padding:10px 30px; border-bottom:1px solid #ddd; }
.crumb a { color:#666; text-decoration:none; }
.main { %(mainbox)s }
h1 { font-family:'Noto Serif CJK SC', serif; font-size:%(h1size)s; text-align:center; line-height:1.5;
     margin:24px 0 8px 0; color:#000; font-weight:bold; }
.meta { text-align:center; font-size:13px; color:#888; border-bottom:1px dashed #ccc; padding-bottom:10px;
        margin-bottom:18px; }
.content p.hist { text-align:center; text-indent:0; font-size:14px; color:#555; margin:2px 0; }
.content p { font-family:'Noto Serif CJK SC', serif; font-size:%(psize)s; line-height:%(lh)s; margin:%(pmargin)s;
             text-align:%(talign)s; text-indent:%(indent)s; }
.content p.chap { text-align:center; text-indent:0; font-family:'Noto Sans CJK SC', sans-serif; font-weight:bold;
                  margin:16px 0 8px 0; }
.tools { font-size:13px; color:#666; text-align:right; margin:20px 0; }
.footer { border-top:3px solid #b5121b; background:#f3f3f3; font-size:12px; color:#555; text-align:center;
          padding:14px 0; line-height:1.9; margin-top:30px; }
"""


def html_page(
    name,
    md,
    *,
    site,
    site_en,
    nav,
    crumb,
    pagemargin="12mm 0 14mm 0",
    mainbox="padding:0 60px;",
    h1size="26px",
    psize="16px",
    lh="1.9",
    pmargin="0 0 10px 0",
    talign="left",
    indent="0",
    meta="",
    include_hist=False,
    footer_lines=(),
    transform=None,
    headerfooter=False,
    variant="",
):
    title, hist, body = load(md)
    if transform:
        body = transform(body)
    css = GOV_CSS % dict(
        pagemargin=pagemargin,
        mainbox=mainbox,
        h1size=h1size,
        psize=psize,
        lh=lh,
        pmargin=pmargin,
        talign=talign,
        indent=indent,
    )
    out = [
        f'<!DOCTYPE html><html lang="zh-CN"><head><meta charset="utf-8"><title>{html.escape(title)}_{html.escape(site)}</title><style>{css}</style></head><body>'
    ]
    out.append(
        f'<div class="banner"><div class="site">{site}</div><div class="en">{site_en}</div></div>'
    )
    out.append('<div class="nav">{}</div>'.format("".join(f'<a href="#">{n}</a>' for n in nav)))
    out.append(
        '<div class="crumb">当前位置：{} &gt; 正文</div>'.format(
            " &gt; ".join(f'<a href="#">{c}</a>' for c in crumb)
        )
    )
    out.append(f'<div class="main"><h1>{html.escape(title)}</h1>')
    if meta:
        out.append(f'<div class="meta">{meta}</div>')
    paras = []
    out.append('<div class="content">')
    if include_hist:
        for h in hist:
            out.append(f'<p class="hist">{html.escape(h)}</p>')
            paras.append(h)
    for t in body:
        cls = ' class="chap"' if is_heading(t) else ""
        out.append(f"<p{cls}>{html.escape(t)}</p>")
        paras.append(t)
    out.append('</div><div class="tools">【字体：大 中 小】 【打印本页】 【关闭窗口】</div></div>')
    out.append('<div class="footer">{}</div>'.format("<br>".join(footer_lines)))
    out.append("</body></html>")
    path = os.path.join(WORK, name + ".html")
    with open(path, "w", encoding="utf-8") as f:
        f.write("\n".join(out))
    records.append(
        dict(
            file=name + ".pdf",
            source_md=md,
            title=title,
            paragraphs=paras,
            _src=path,
            _kind="html",
            _hf=headerfooter,
            other_lines=[site, site_en]
            + list(nav)
            + list(crumb)
            + ([meta] if meta else [])
            + list(footer_lines),
            variant=variant,
        )
    )


def insert_latin(body):
    ins = {
        "第十条": "（行业组织目录可在https://www.gov.cn/zhengce/zhengceku/index.htm和各部门网站查询）",
        "第十七条": "包括GB/T 35273-2020、GB/T 37988-2019、GB/T 43697-2024以及ISO/IEC 27001:2022等，",
        "第二十一条": "（分级目录以PDF、OFD或者XML格式报送，文件名不超过64个字符）",
        "第三十条": "参照GB/T 9704-2012《党政机关公文格式》和GB/T 33190-2016的版式要求，",
        "第三十九条": "通过HTTPS（TLS 1.3）加密通道、IPv6网络和SM2/SM3/SM4国产密码算法",
        "第四十条": "（合同示范文本见http://www.cac.gov.cn/2021-06/11/c_1624994566919140.htm）",
    }
    out = []
    done = set()
    for t in body:
        for k, v in ins.items():
            if t.startswith(k + " ") or t.startswith(k + "\u3000"):
                i = t.index("，", 8) + 1 if "，" in t[8:] else len(t) - 1
                t = t[:i] + v + t[i:]
                done.add(k)
        out.append(t)
    assert done == set(ins), done
    return out


GOV_FOOTER = [
    "主办单位：{0}　　承办单位：{0}信息中心",
    "版权所有：{0}　　网站标识码：{1}",
    "{2}　　{3}",
    "建议使用1366×768分辨率浏览本网站",
]


def footer(org, code, icp, ga):
    return [line.format(org, code, icp, ga) for line in GOV_FOOTER]


# ---------------------------------------------------------------- the set
def build_specs():
    r = docx_notice(
        "01_notice_fangjia",
        "全国年节及纪念日放假办法(2024-11-10).md",
        org="滨江市人民政府办公室",
        banner="滨江市人民政府办公室文件",
        docno="滨政办发〔2024〕37号",
        notice_title="关于印发《全国年节及纪念日放假办法》的通知",
        recipients="各区人民政府，市政府各部门、各直属机构，各有关单位：",
        notice_text=[
            "现将《全国年节及纪念日放假办法》印发给你们，请结合本地区、本部门实际，认真抓好贯彻落实。各单位要提前做好节假日期间值班值守、安全生产和应急处置等工作，确保节日期间各项工作平稳有序，重要情况及时报告市政府办公室。"
        ],
        sign="滨江市人民政府办公室",
        date="2024年11月22日",
        attach_style="gongwen",
    )
    r["variant"] = (
        "docx→LibreOffice; 红头 notice (red 34pt 版头 + red rule, 文号, 22pt title wrapping to 2 lines), 主送机关, notice, 附件, 落款; page break; attachment 公文 style: 16pt serif, justified, 2-char indent, 28 chars/line, fixed 28pt leading; footer — N —"
    )

    r = docx_notice(
        "02_notice_nianxiujia",
        "职工带薪年休假条例(2007-12-14).md",
        org="清河县人民政府办公室",
        banner="清河县人民政府办公室",
        docno="清政办发〔2024〕12号",
        notice_title="清河县人民政府办公室关于转发《职工带薪年休假条例》的通知",
        recipients="各乡镇人民政府、街道办事处，县政府各部门，县属各企事业单位：",
        notice_text=[
            "为切实保障职工休息休假权利，调动职工工作积极性，现将《职工带薪年休假条例》转发给你们，请认真组织学习，并结合实际制定本单位年休假安排计划。",
            "各单位要统筹安排工作任务和职工休假，对确因工作需要不能安排职工休年休假的，应当按照规定支付年休假工资报酬。执行中遇到的问题，请及时向县人力资源和社会保障局反映。",
        ],
        sign="清河县人民政府办公室",
        date="2024年3月5日",
        attach_style="left",
        public_note=False,
    )
    r["variant"] = (
        "docx→LibreOffice; 红头 notice with issuing organisation inside the long 22pt title (wraps), two notice paragraphs; page break; attachment left-aligned, no indent, 15pt, 6pt space after; footer — N —"
    )

    docx_plain(
        "03_docx_longtitle_liping",
        "国家行政机关及其工作人员在国内公务活动中不得赠送和接受礼品的规定(1988-12-01).md",
        margins=(30, 28, 30, 28),
        size=14,
        align=J,
        indent=2,
        line_pt=26,
        title_size=24,
        include_hist=True,
        variant="docx→LibreOffice; long centred 24pt title wrapping to 2 lines; history lines centred 12pt; body 14pt justified, 2-char indent; no header/footer",
    )

    docx_plain(
        "04_docx_left_yinzhang",
        "国务院关于国家行政机关和企业事业单位社会团体印章管理的规定(1999-10-31).md",
        margins=(20, 20, 18, 18),
        size=12,
        align=L,
        indent=0,
        line_pt=18,
        title_size=18,
        header="国务院关于国家行政机关和企业事业单位社会团体印章管理的规定",
        footer="of",
        space_after=4,
        variant="docx→LibreOffice; narrow margins (18mm), 12pt left-aligned, no indent, 4pt space after; title 18pt wraps; numbered 一、二、 items (no 条); running header with title and rule; footer 第 N 页 共 M 页",
    )

    docx_plain(
        "05_docx_gongwen_jiguanshiwu",
        "机关事务管理条例(2012-06-28).md",
        margins=(37, 35, 26.5, 25),
        size=16,
        align=J,
        indent=2,
        line_pt=28,
        title_size=22,
        footer="dash",
        heading_size=16,
        variant="docx→LibreOffice; 公文 style: 16pt serif, justified, 2-char first-line indent, 28 chars/line, 28pt fixed leading; chapters centred in sans; footer — N —",
    )

    docx_plain(
        "06_docx_left_bianzhi",
        "地方各级人民政府机构设置和编制管理条例(2007-02-24).md",
        margins=(25, 25, 35, 35),
        size=10.5,
        align=L,
        indent=0,
        line_pt=None,
        title_size=16,
        title_font=SANS,
        space_after=8,
        body_font=SANS,
        variant="docx→LibreOffice; wide side margins (35mm), 10.5pt sans (五号), single line spacing, left-aligned, no indent, 8pt space after paragraphs; title 16pt; no header/footer",
    )

    docx_plain(
        "07_docx_header_gongwuyuan",
        "公务员法(2018-12-29).md",
        margins=(25.4, 25.4, 31.8, 31.8),
        size=12,
        align=J,
        indent=2,
        line_pt=22,
        title_size=22,
        header="中华人民共和国公务员法",
        footer="plain",
        include_hist=True,
        heading_size=14,
        variant="docx→LibreOffice; Word-default margins (25.4/31.8mm), 12pt justified 2-char indent, 22pt leading; history lines; chapters 14pt centred; running header with rule, page number bottom right; long (many pages)",
    )

    docx_plain(
        "08_docx_gongwen_xingzhengchufa",
        "行政处罚法(2021-01-22).md",
        margins=(30, 28, 28, 26),
        size=15,
        align=J,
        indent=2,
        line_pt=27,
        title_size=20,
        footer="of",
        heading_size=15,
        variant="docx→LibreOffice; 15pt serif justified 2-char indent, 27pt leading; chapters and 节 centred; footer 第 N 页 共 M 页; no header",
    )

    html_page(
        "09_html_gov_gongzuoshijian",
        "国家机关、事业单位贯彻《国务院关于职工工作时间的规定》的实施办法(1995-05-01).md",
        site="中国政府网",
        site_en="www.gov.cn",
        nav=["首页", "国务院", "总理", "新闻", "政策", "互动", "服务", "数据", "国情"],
        crumb=["首页", "政策", "政策库", "国务院文件"],
        meta="来源：人事部　　发布时间：1995-03-25 00:00　　【字号：大 中 小】",
        h1size="28px",
        talign="left",
        indent="0",
        include_hist=True,
        headerfooter=True,
        footer_lines=footer(
            "中华人民共和国国务院办公厅",
            "bm01000001",
            "京ICP备05070218号",
            "京公网安备11010202000001号",
        ),
        variant="html→Chromium; gov-site look (red banner, nav, breadcrumb, meta line, footer 版权所有/ICP备); long 28px title wraps; left-aligned paragraphs, no indent; Chromium default print header/footer (date, title, URL, page x/y) kept",
    )

    html_page(
        "10_html_latin_shujuanquan",
        "数据安全法(2021-06-10).md",
        site="江东省人民政府",
        site_en="www.jiangdong.gov.cn",
        nav=["首页", "政务公开", "政务服务", "互动交流", "走进江东"],
        crumb=["首页", "政务公开", "法律法规"],
        meta="信息来源：省司法厅　　发布日期：2021-06-11　　浏览次数：1024",
        psize="16px",
        talign="justify",
        indent="2em",
        transform=insert_latin,
        footer_lines=footer(
            "江东省人民政府办公厅",
            "3300000001",
            "江ICP备12000345号-1",
            "江公网安备33010002000123号",
        ),
        variant="html→Chromium; gov-site look; justified, text-indent 2em; Latin strings/URLs/standard numbers inserted into 6 articles (第十、十七、二十一、三十、三十九、四十条) so lines break around them; no browser header/footer",
    )

    html_page(
        "11_html_justify_xinxigongkai",
        "政府信息公开条例(2019-04-03).md",
        site="南湖市人民政府门户网站",
        site_en="www.nanhu.gov.cn",
        nav=["首页", "要闻动态", "信息公开", "办事服务", "政民互动", "数据开放"],
        crumb=["首页", "信息公开", "政策文件", "法律法规"],
        meta="发布机构：市政府办公室　　发布日期：2019-04-15",
        psize="17px",
        lh="2.0",
        talign="justify",
        indent="2em",
        pmargin="0",
        mainbox="padding:0 40px;",
        include_hist=True,
        footer_lines=footer(
            "南湖市人民政府办公室", "4401000003", "粤ICP备10001234号", "粤公网安备44010402000567号"
        ),
        variant="html→Chromium; gov-site look; 17px justified, text-indent 2em, no paragraph spacing (paragraph boundaries only visible by indent); history lines centred",
    )

    html_page(
        "12_html_narrow_wangluoanquan",
        "网络安全法(2016-11-07).md",
        site="北川区人民政府",
        site_en="www.beichuan.gov.cn",
        nav=["首页", "政务公开", "政务服务", "互动"],
        crumb=["首页", "政务公开", "法规文件"],
        meta="时间：2016-11-08　来源：区网信办",
        mainbox="max-width:600px; margin:0 auto; padding:0 10px;",
        psize="15px",
        lh="1.7",
        talign="left",
        indent="0",
        pmargin="0 0 12px 0",
        h1size="24px",
        footer_lines=footer(
            "北川区人民政府办公室", "5101000007", "蜀ICP备08000888号", "川公网安备51010802000999号"
        ),
        variant="html→Chromium; gov-site look; narrow 600px centred column, ragged right, 15px, no indent, 12px paragraph spacing; chapters and 节; long",
    )

    html_page(
        "13_html_plain_jiguanshiwu",
        "机关事务管理条例(2012-06-28).md",
        site="国家机关事务管理局",
        site_en="www.ggj.gov.cn",
        nav=["首页", "机构概况", "新闻中心", "政务公开", "业务工作", "党建工作"],
        crumb=["首页", "政务公开", "政策法规", "行政法规"],
        meta="2012-07-02　来源：国管局",
        mainbox="padding:0 90px;",
        psize="18px",
        lh="1.8",
        talign="left",
        indent="2em",
        pmargin="0 0 6px 0",
        include_hist=True,
        headerfooter=True,
        footer_lines=footer(
            "国家机关事务管理局", "bm01000099", "京ICP备05034567号", "京公网安备11010202001234号"
        ),
        variant="html→Chromium; same regulation as 05 but as web page: 18px, left-aligned (ragged) with 2em indent, wide side padding; history lines; Chromium print header/footer kept",
    )

    html_page(
        "14_html_news_fangjia",
        "全国年节及纪念日放假办法(2024-11-10).md",
        site="中国政府网",
        site_en="www.gov.cn",
        nav=["首页", "国务院", "总理", "新闻", "政策", "互动", "服务", "数据", "国情"],
        crumb=["首页", "政策", "最新"],
        meta="来源：新华社　　2024-11-12 16:00　　字号：默认 大 超大　　打印 | 分享",
        pagemargin="15mm 10mm 15mm 10mm",
        mainbox="padding:0 30px;",
        psize="16px",
        lh="2",
        talign="justify",
        indent="2em",
        pmargin="0 0 14px 0",
        include_hist=True,
        footer_lines=footer(
            "中华人民共和国国务院办公厅",
            "bm01000001",
            "京ICP备05070218号",
            "京公网安备11010202000001号",
        ),
        variant="html→Chromium; same regulation as 01 as a short news page; justified 2em indent, page margins 15/10mm; history lines; single page",
    )


def convert():
    for r in records:
        src = r["_src"]
        out = os.path.join(FILES, r["file"])
        if r["_kind"] == "docx":
            subprocess.run(
                ["soffice", "--headless", "--convert-to", "pdf", "--outdir", FILES, src],
                check=True,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        else:
            cmd = [
                "/usr/bin/chromium",
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--print-to-pdf=" + out,
            ]
            if not r.get("_hf"):
                cmd.append("--no-pdf-header-footer")
            cmd.append("file://" + src)
            subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        assert os.path.exists(out), out


if __name__ == "__main__":
    build_specs()
    if "--no-pdf" not in sys.argv:
        convert()
    with open(os.path.join(ROOT, "expected.jsonl"), "w", encoding="utf-8") as f:
        for r in records:
            o = {k: v for k, v in r.items() if not k.startswith("_")}
            o = dict(
                file=o["file"],
                source_md=o["source_md"],
                title=o["title"],
                paragraphs=o["paragraphs"],
                variant=o["variant"],
                other_lines=o["other_lines"],
            )
            f.write(json.dumps(o, ensure_ascii=False) + "\n")
    print(len(records), "records,", sum(len(r["paragraphs"]) for r in records), "paragraphs")
