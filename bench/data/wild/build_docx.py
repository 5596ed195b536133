"""Build the Word (.docx) variants with python-docx. Output to files/ (final) or tmp/ (intermediates)."""

from common import OUT, REGS, TMP, heading_text, parse, record
from docx import Document
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_BREAK, WD_LINE_SPACING
from docx.oxml import OxmlElement, parse_xml
from docx.oxml.ns import qn
from docx.shared import Mm, Pt, RGBColor

FS = "仿宋_GB2312"
XBS = "方正小标宋简体"
HT = "黑体"
KT = "楷体_GB2312"
ST = "宋体"


def new_doc(body_font=FS, size=16):
    d = Document()
    sec = d.sections[0]
    sec.page_width, sec.page_height = Mm(210), Mm(297)
    sec.top_margin, sec.bottom_margin = Mm(37), Mm(35)
    sec.left_margin, sec.right_margin = Mm(28), Mm(26)
    st = d.styles["Normal"]
    st.font.name = body_font
    st.font.size = Pt(size)
    st.element.rPr.rFonts.set(qn("w:eastAsia"), body_font)
    pf = st.paragraph_format
    pf.space_before = Pt(0)
    pf.space_after = Pt(0)
    pf.line_spacing_rule = WD_LINE_SPACING.EXACTLY
    pf.line_spacing = Pt(28)
    return d


def font(run, name=None, size=None, bold=None, color=None):
    if name:
        run.font.name = name
        run._element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), name)
    if size:
        run.font.size = Pt(size)
    if bold is not None:
        run.bold = bold
    if color:
        run.font.color.rgb = RGBColor.from_string(color)
    return run


def para(
    d, text="", align=None, indent=True, name=None, size=None, bold=None, color=None, size_pt=16
):
    p = d.add_paragraph()
    if align == "c":
        p.alignment = WD_ALIGN_PARAGRAPH.CENTER
    elif align == "r":
        p.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    elif align == "j":
        p.alignment = WD_ALIGN_PARAGRAPH.JUSTIFY
    if indent:
        p.paragraph_format.first_line_indent = Pt(size_pt * 2)
    if text:
        font(p.add_run(text), name, size, bold, color)
    return p


def title_block(d, title, lines=None, meta=None, bold=True):
    for t in lines or [title]:
        p = para(d, t, "c", False, XBS, 22, bold)
        p.paragraph_format.line_spacing = Pt(36)
    if meta:
        p = para(d, meta, "c", False, KT, 16)
    para(d, "", indent=False)


def heading(d, b, style="plain", name=HT, bold=True, size=16):
    p = para(d, heading_text(b, style), "c", False, name, size, bold)
    return p


def article(d, lab, text, sep="　", label_font=HT, label_bold=False, body_font=None):
    p = para(d, "", "j")
    font(p.add_run(lab), label_font, None, label_bold)
    font(p.add_run(sep + text), body_font)
    return p


def body(
    d, blocks, hstyle="plain", hbold=True, hfont=HT, label_font=HT, label_bold=False, h3font=KT
):
    for b in blocks:
        if b[0] == "h2":
            heading(d, b, hstyle, hfont, hbold)
        elif b[0] == "h3":
            heading(d, b, hstyle, h3font, True)
        elif b[0] == "art":
            article(d, b[1], b[2], label_font=label_font, label_bold=label_bold)
        else:
            para(d, b[1], "j")


def add_field(p, instr, name=ST, size=14):
    r = p.add_run()
    font(r, name, size)
    for kind in ("begin", None, "separate", "end"):
        if kind is None:
            el = OxmlElement("w:instrText")
            el.set(qn("xml:space"), "preserve")
            el.text = f" {instr} "
        else:
            el = OxmlElement("w:fldChar")
            el.set(qn("w:fldCharType"), kind)
        r._element.append(el)
        if kind == "separate":
            t = OxmlElement("w:t")
            t.text = "1"
            r._element.append(t)


def page_break(d):
    d.add_paragraph().add_run().add_break(WD_BREAK.PAGE)


def meta_line(r):
    return "（" + "　".join(m.replace(" ", "") for m in r["meta"]) + "）"


def dashed_page_footer(d, dash: str) -> None:
    """A centred footer "— PAGE —" (the page number between two dashes), 宋体 四号."""
    fp = d.sections[0].footer.paragraphs[0]
    fp.alignment = WD_ALIGN_PARAGRAPH.CENTER
    font(fp.add_run(f"{dash} "), ST, 14)
    add_field(fp, "PAGE")
    font(fp.add_run(f" {dash}"), ST, 14)


# ---------------- C: clerk-typed docx ----------------
def build_C():
    r = parse(REGS["C"])
    d = new_doc()
    title_block(d, r["title"])
    body(d, r["blocks"], label_font=HT)
    d.save(f"{OUT}/职工带薪年休假条例.docx")
    record(
        "职工带薪年休假条例.docx",
        "C",
        "python-docx, typed by clerk: Normal style only, title centered bold 方正小标宋简体 22pt, articles with 黑体 label + full-width space, 2-char first-line indent, no header/footer",
    )


# ---------------- A: plain docx used only as intermediate for scan ----------------
def build_A_tmp():
    r = parse(REGS["A"])
    d = new_doc()
    title_block(d, r["title"])
    body(d, r["blocks"])
    d.save(f"{TMP}/A_for_scan.docx")


def build_C_tmp():
    pass


# ---------------- B: title split over two lines ----------------
def build_B():
    r = parse(REGS["B"])
    d = new_doc()
    title_block(
        d,
        r["title"],
        lines=["国家行政机关及其工作人员在国内公务活动中", "不得赠送和接受礼品的规定"],
    )
    para(d, "（1988年12月1日国务院发布）", "c", False, KT, 16)
    para(d, "", indent=False)
    body(d, r["blocks"], label_font=HT)
    name = "国家行政机关及其工作人员在国内公务活动中不得赠送和接受礼品的规定.docx"
    d.save(f"{OUT}/{name}")
    record(
        name,
        "B",
        "python-docx, title split over two centered bold paragraphs (…公务活动中 / 不得赠送和接受礼品的规定), 题注 line below title, 黑体 labels",
    )


# ---------------- D: clerk docx, label with ASCII space, body 宋体 小四 -> .doc ----------------
def build_D_tmp():
    r = parse(REGS["D"])
    d = new_doc(ST, 12)
    d.styles["Normal"].paragraph_format.line_spacing_rule = WD_LINE_SPACING.ONE_POINT_FIVE
    p = para(d, r["title"], "c", False, HT, 16, True)
    para(d, "", indent=False)
    for b in r["blocks"]:
        if b[0] == "art":
            p = para(d, "", "j", size_pt=12)
            font(p.add_run(b[1]), None, None, True)
            p.add_run(" " + b[2])
        else:
            para(d, b[1], "j", size_pt=12)
    d.save(f"{TMP}/D.docx")


# ---------------- E: red-header notice with attachment ----------------
W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
E_TITLE = "滨海市人民政府办公室关于印发《企业职工带薪年休假实施办法》的通知"


def build_E():
    r = parse(REGS["E"])
    d = new_doc()
    para(d, "", indent=False)
    p = para(d, "滨海市人民政府办公室文件", "c", False, XBS, 34, False, "FF0000")
    p.paragraph_format.line_spacing = Pt(56)
    # red-header organ names are horizontally compressed in real templates
    for r_ in p.runs:
        r_._element.get_or_add_rPr().append(parse_xml(f'<w:w xmlns:w="{W}" w:val="90"/>'))
    para(d, "", indent=False)
    p = para(d, "滨政办发〔2024〕12号", "c", False, FS, 16)
    # red rule under the 文号 line
    pPr = p._p.get_or_add_pPr()
    pPr.append(
        parse_xml(
            '<w:pBdr xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
            '<w:bottom w:val="single" w:sz="24" w:space="12" w:color="FF0000"/></w:pBdr>'
        )
    )
    para(d, "", indent=False)
    p = para(d, E_TITLE, "c", False, XBS, 22)
    p.paragraph_format.line_spacing = Pt(36)
    para(d, "", indent=False)
    para(d, "各区人民政府，市政府各部门，各直属机构：", indent=False)
    para(
        d,
        "《企业职工带薪年休假实施办法》已经人力资源和社会保障部公布施行。为切实保障企业职工休息休假权利，经市政府同意，现印发给你们，请结合本地区、本部门实际，认真贯彻执行。执行中遇到的问题，请及时向市人力资源和社会保障局反映。",
        "j",
    )
    para(d, "", indent=False)
    para(d, "附件：企业职工带薪年休假实施办法", "j")
    para(d, "", indent=False)
    p = para(d, "滨海市人民政府办公室", "r", False)
    p.paragraph_format.right_indent = Pt(64)
    p = para(d, "2024年3月15日", "r", False)
    p.paragraph_format.right_indent = Pt(80)
    para(d, "（此件公开发布）", "j")
    p = para(d, "附件", indent=False, name=HT)
    p.paragraph_format.page_break_before = True
    para(d, "", indent=False)
    title_block(d, r["title"], bold=False)
    body(d, r["blocks"])
    para(d, "", indent=False)
    para(d, "", indent=False)
    p = para(
        d,
        "抄送：市委各部门，市人大常委会办公室，市政协办公室，市法院，市检察院。",
        "j",
        False,
        FS,
        14,
    )
    p = para(d, "滨海市人民政府办公室　　　　　　　　　2024年3月15日印发", "c", False, FS, 14)
    pPr = p._p.get_or_add_pPr()
    pPr.append(
        parse_xml(
            '<w:pBdr xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
            '<w:top w:val="single" w:sz="8" w:space="1" w:color="000000"/>'
            '<w:bottom w:val="single" w:sz="8" w:space="1" w:color="000000"/></w:pBdr>'
        )
    )
    dashed_page_footer(d, "—")
    name = "关于印发《企业职工带薪年休假实施办法》的通知.docx"
    d.save(f"{OUT}/{name}")
    record(
        name,
        "E",
        "python-docx red-header (红头) document: red 滨海市人民政府办公室文件, 文号 滨政办发〔2024〕12号 with red rule, 关于印发…的通知 title, 主送/notice/附件 line/signature/date, page break, 附件 + regulation title + articles, 版记 (抄送/印发) at end, footer — PAGE —",
        title=E_TITLE,
    )


# ---------------- F: footer "— 1 —", header with unit name ----------------
def build_F():
    r = parse(REGS["F"])
    d = new_doc()
    hp = d.sections[0].header.paragraphs[0]
    hp.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    font(hp.add_run("市机关事务管理局　学习资料"), ST, 10.5)
    dashed_page_footer(d, "—")
    title_block(d, r["title"], meta=meta_line(r))
    body(d, r["blocks"], label_font=HT)
    d.save(f"{OUT}/机关团体建设楼堂馆所管理条例.docx")
    record(
        "机关团体建设楼堂馆所管理条例.docx",
        "F",
        'python-docx, header "市机关事务管理局　学习资料", footer "— PAGE —" field, 题注 (通过/公布/施行) line in 楷体 under title, chapters 黑体 centered',
    )


# ---------------- G: built-in Heading styles (intranet-style) ----------------
def build_G():
    r = parse(REGS["G"])
    d = Document()
    d.add_heading(r["title"], level=0)
    for b in r["blocks"]:
        if b[0] == "h2":
            d.add_heading(heading_text(b, "ascii"), level=1)
        elif b[0] == "art":
            p = d.add_paragraph()
            p.add_run(b[1]).bold = True
            p.add_run(" " + b[2])
        else:
            d.add_paragraph(b[1])
    d.save(f"{OUT}/地方各级人民政府机构设置和编制管理条例.docx")
    record(
        "地方各级人民政府机构设置和编制管理条例.docx",
        "G",
        'python-docx default template, title in Title style, chapters in Heading 1 ("第一章 总则"), articles Normal with bold label + ASCII space, no indent',
    )


# ---------------- I: header + footer "第 X 页 共 Y 页" ----------------
def build_I():
    r = parse(REGS["I"])
    d = new_doc()
    hp = d.sections[0].header.paragraphs[0]
    hp.alignment = WD_ALIGN_PARAGRAPH.CENTER
    font(hp.add_run("滨海大学人事处"), ST, 9)
    hp._p.get_or_add_pPr().append(
        parse_xml(
            '<w:pBdr xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:bottom w:val="single" w:sz="6" w:space="1" w:color="auto"/></w:pBdr>'
        )
    )
    fp = d.sections[0].footer.paragraphs[0]
    fp.alignment = WD_ALIGN_PARAGRAPH.CENTER
    font(fp.add_run("第 "), ST, 9)
    add_field(fp, "PAGE", ST, 9)
    font(fp.add_run(" 页 共 "), ST, 9)
    add_field(fp, "NUMPAGES", ST, 9)
    font(fp.add_run(" 页"), ST, 9)
    title_block(d, r["title"])
    body(d, r["blocks"], label_font=FS, label_bold=True)
    d.save(f"{OUT}/事业单位人事管理条例.docx")
    record(
        "事业单位人事管理条例.docx",
        "I",
        'python-docx, header "滨海大学人事处" with rule, footer "第 PAGE 页 共 NUMPAGES 页", bold 仿宋 labels, chapters bold centered',
    )


# ---------------- J: Word automatic numbering 第%1条 chineseCounting ----------------
W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"


def add_article_numbering(d, abs_id=90, num_id=90):
    numbering = d.part.numbering_part.element
    absxml = f'''<w:abstractNum xmlns:w="{W}" w:abstractNumId="{abs_id}">
  <w:multiLevelType w:val="singleLevel"/>
  <w:lvl w:ilvl="0"><w:start w:val="1"/><w:numFmt w:val="chineseCounting"/>
    <w:lvlText w:val="第%1条"/><w:lvlJc w:val="left"/><w:suff w:val="space"/>
    <w:pPr><w:ind w:left="0" w:firstLine="640"/></w:pPr>
    <w:rPr><w:rFonts w:ascii="黑体" w:eastAsia="黑体" w:hAnsi="黑体"/><w:b w:val="0"/></w:rPr></w:lvl>
</w:abstractNum>'''
    ab = parse_xml(absxml)
    first_num = numbering.find(qn("w:num"))
    if first_num is not None:
        first_num.addprevious(ab)
    else:
        numbering.append(ab)
    numbering.append(
        parse_xml(
            f'<w:num xmlns:w="{W}" w:numId="{num_id}"><w:abstractNumId w:val="{abs_id}"/></w:num>'
        )
    )
    return num_id


def numbered(p, num_id):
    pPr = p._p.get_or_add_pPr()
    pPr.append(
        parse_xml(
            f'<w:numPr xmlns:w="{W}"><w:ilvl w:val="0"/><w:numId w:val="{num_id}"/></w:numPr>'
        )
    )


def build_J():
    r = parse(REGS["J"])
    d = new_doc()
    nid = add_article_numbering(d)
    para(d, "附件1", indent=False, name=HT)
    para(d, "", indent=False)
    title_block(d, r["title"])
    for b in r["blocks"]:
        if b[0] == "h2":
            heading(d, b, "plain", HT, False)
        elif b[0] == "art":
            p = para(d, b[2], "j", indent=False)
            numbered(p, nid)
        else:
            para(d, b[1], "j")
    dashed_page_footer(d, "-")
    d.save(f"{OUT}/附件1.docx")
    record(
        "附件1.docx",
        "J",
        'python-docx; "附件1" marker line above title; every article is a Word auto-numbered paragraph (numbering.xml lvlText 第%1条, numFmt chineseCounting, suff space) so the label is NOT in the paragraph text; continuation paragraphs unnumbered; footer - PAGE -',
    )


# ---------------- L: letter-spaced chapter headings + 题注 ----------------
def build_L():
    r = parse(REGS["L"])
    d = new_doc()
    title_block(d, r["title"], meta=meta_line(r))
    body(d, r["blocks"], hstyle="spaced", hbold=False, hfont=HT)
    dashed_page_footer(d, "—")
    d.save(f"{OUT}/中华人民共和国密码法.docx")
    record(
        "中华人民共和国密码法.docx",
        "L",
        'python-docx, letter-spaced chapter headings in 黑体 ("第一章　总　　则"), 题注 (会议通过) line under title, footer — PAGE —',
    )


# ---------------- M: pasted from web, soft line breaks ----------------
def build_M():
    r = parse(REGS["M"])
    d = Document()
    st = d.styles["Normal"]
    st.font.name = ST
    st.element.rPr.rFonts.set(qn("w:eastAsia"), ST)
    st.font.size = Pt(12)
    p = d.add_paragraph()
    font(p.add_run(r["title"]), ST, 12, True)
    cur = None
    for b in r["blocks"]:
        if b[0] == "h2":
            cur = None
            p = d.add_paragraph()
            p.add_run("　　" + heading_text(b, "ascii"))
        elif b[0] == "art":
            cur = d.add_paragraph()
            cur.add_run("　　" + b[1] + "　" + b[2])
        else:
            run = cur.add_run()
            run.add_break()
            run.add_text("　　" + b[1])
    name = "新建 Microsoft Word 文档.docx"
    d.save(f"{OUT}/{name}")
    record(
        name,
        "M",
        "python-docx, text pasted from a web page: Normal 宋体 小四, title just bold (not centered), indents typed as two full-width spaces, continuation paragraphs/items of an article joined to it with soft line breaks (w:br) in one paragraph",
    )


# ---------------- N: table of contents at top ----------------
def build_N():
    r = parse(REGS["N"])
    d = new_doc()
    title_block(d, r["title"], meta=meta_line(r))
    para(d, "目　　录", "c", False, HT)
    for b in r["blocks"]:
        if b[0] == "h2":
            para(d, heading_text(b), indent=True, name=KT)
    page_break(d)
    body(d, r["blocks"], hstyle="spaced", label_font=HT)
    dashed_page_footer(d, "—")
    d.save(f"{OUT}/数据安全法.docx")
    record(
        "数据安全法.docx",
        "N",
        'python-docx, title + 题注, then "目　　录" listing the chapters (楷体), page break, then body with letter-spaced chapter headings; footer — PAGE —',
    )


# ---------------- P: company regulation pack with info table ----------------
def build_P():
    r = parse(REGS["P"])
    d = new_doc(ST, 12)
    d.styles["Normal"].paragraph_format.line_spacing = Pt(22)
    hp = d.sections[0].header.paragraphs[0]
    hp.alignment = WD_ALIGN_PARAGRAPH.LEFT
    font(
        hp.add_run("滨海港集团有限公司　　　　　　　　　　　　　　　　制度汇编（档案管理类）"),
        ST,
        9,
    )
    t = d.add_table(rows=3, cols=4)
    t.style = "Table Grid"
    cells = [
        ("文件名称", r["title"], "文件编号", "BHG-DA-2021-001"),
        ("归口部门", "办公室（档案室）", "版本", "A/0"),
        ("发布日期", "2021年1月5日", "密级", "内部"),
    ]
    for i, row in enumerate(cells):
        for j, v in enumerate(row):
            c = t.cell(i, j)
            c.text = ""
            font(c.paragraphs[0].add_run(v), ST, 10.5, j % 2 == 0)
    para(d, "", indent=False)
    p = para(d, r["title"], "c", False, HT, 18, True)
    p.paragraph_format.line_spacing = Pt(30)
    para(d, meta_line(r), "j", True, KT, 10.5, size_pt=12)
    for b in r["blocks"]:
        if b[0] == "h2":
            heading(d, b, "plain", HT, True, 14)
        elif b[0] == "art":
            p = para(d, "", "j", size_pt=12)
            font(p.add_run(b[1]), None, None, True)
            p.add_run("　" + b[2])
        else:
            para(d, b[1], "j", size_pt=12)
    fp = d.sections[0].footer.paragraphs[0]
    fp.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    add_field(fp, "PAGE", ST, 9)
    name = "档案法（制度汇编）.docx"
    d.save(f"{OUT}/{name}")
    record(
        name,
        "P",
        "python-docx, company regulation pack: header with company name, 3x4 info table (文件名称/编号/版本…) above, title 黑体, long 题注 (修正/修订 history) paragraph, 宋体 小四 body, bold labels + full-width space, right page number",
    )


# ---------------- Q: chapters and sections ----------------
def build_Q():
    r = parse(REGS["Q"])
    d = new_doc()
    title_block(d, r["title"], meta=meta_line(r))
    body(d, r["blocks"], hstyle="plain", label_font=HT, h3font=KT)
    dashed_page_footer(d, "—")
    d.save(f"{OUT}/行政复议法实施条例.docx")
    record(
        "行政复议法实施条例.docx",
        "Q",
        'python-docx, 题注 under title, 章 headings 黑体 bold centered and 节 headings 楷体 bold centered ("第一节　申请人"), 黑体 labels, footer — PAGE —',
    )


if __name__ == "__main__":
    for f in [
        build_A_tmp,
        build_B,
        build_C,
        build_D_tmp,
        build_E,
        build_F,
        build_G,
        build_I,
        build_J,
        build_L,
        build_M,
        build_N,
        build_P,
        build_Q,
    ]:
        f()
    print("ok")
