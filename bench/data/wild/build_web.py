"""HTML pages (saved-from-site and sources for Chromium printing) and TXT variants."""

import html
from pathlib import Path

from common import OUT, REGS, TMP, heading_text, parse, record


def esc(s):
    return html.escape(s, quote=False)


# ---------- modern gov portal (div layout, no h1) ----------
GOV_CSS = """
body{margin:0;font-family:"Microsoft YaHei","SimSun",sans-serif;color:#333;background:#fff}
.top{background:#f6f6f6;font-size:12px;color:#666;padding:4px 0}
.w1200{width:1000px;margin:0 auto}
.header{background:#c30d23;color:#fff;height:80px}
.logo{font-size:30px;font-weight:bold;line-height:80px;letter-spacing:2px}
.nav{background:#a20a1d}.nav a{color:#fff;display:inline-block;padding:8px 18px;text-decoration:none;font-size:16px}
.crumb{font-size:14px;color:#666;padding:12px 0;border-bottom:1px solid #ddd}
.crumb a{color:#666;text-decoration:none}
table.info{width:100%;border-collapse:collapse;font-size:13px;margin:14px 0;background:#f8f8f8}
table.info td{border:1px solid #ddd;padding:5px 8px}
.art-title{font-size:26px;font-weight:bold;text-align:center;color:#000;margin:26px 0 10px;line-height:1.5}
.pub{font-size:13px;color:#888;text-align:center;margin-bottom:16px}
.pub span{margin:0 10px}
.content p{font-size:16px;line-height:2;margin:0;text-align:justify}
.share{font-size:13px;color:#666;border-top:1px solid #ddd;margin-top:30px;padding-top:10px}
.footer{background:#eee;color:#666;font-size:12px;text-align:center;padding:18px 0;margin-top:30px;line-height:1.9}
"""


def gov_page(r, site, section, crumbs, info_rows, pub, content_html, fontsize_ctl=True):
    nav = "".join(
        f'<a href="#">{x}</a>'
        for x in [
            "首页",
            "要闻",
            "政务公开",
            "政策文件",
            "政务服务",
            "互动交流",
            "数据发布",
            "走进" + site[:2],
        ]
    )
    crumb = " &gt; ".join(f'<a href="#">{c}</a>' for c in crumbs)
    info = ""
    if info_rows:
        info = (
            '<table class="info">'
            + "".join(
                "<tr>" + "".join(f"<td>{esc(a)}</td>" for a in row) + "</tr>" for row in info_rows
            )
            + "</table>"
        )
    ctl = (
        '<div class="pub"><span>'
        + "</span><span>".join(pub)
        + "</span><span>【字体：<a>大</a> <a>中</a> <a>小</a>】</span><span>【打印】</span></div>"
        if fontsize_ctl
        else ""
    )
    return f"""<!DOCTYPE html>
<html lang="zh-CN"><head><meta charset="utf-8">
<title>{esc(r["title"])}_{section}_{site}</title>
<meta name="keywords" content="{esc(r["title"])}">
<style>{GOV_CSS}</style></head>
<body>
<div class="top"><div class="w1200">您好，欢迎访问{site}！　　无障碍　|　长者模式　|　简体　|　繁體　|　English　　　　登录　注册</div></div>
<div class="header"><div class="w1200"><div class="logo">{site}</div></div></div>
<div class="nav"><div class="w1200">{nav}</div></div>
<div class="w1200">
<div class="crumb">当前位置：{crumb}</div>
{info}
<div class="art-title">{esc(r["title"])}</div>
{ctl}
<div class="content" id="UCAP-CONTENT">
{content_html}
</div>
<div class="share">分享到：　微信　微博　QQ空间　　　　　　　　【我要打印】　【关闭窗口】　【返回顶部】</div>
<div class="share">相关链接：　国务院政策文件库　|　政府信息公开　|　政策解读</div>
</div>
<div class="footer">主办单位：{site}办公厅　　运行维护单位：{site}信息中心<br>
版权所有：{site}　　网站标识码：bm01000001　　<a>京ICP备05070218号</a>　　<a>京公网安备11010202000001号</a><br>
地址：北京市西城区府右街2号　　邮编：100017　　联系我们　|　网站地图　|　隐私声明</div>
</body></html>"""


def content_p(r, strong=False, indent="nbsp", center_h=True):
    out = []
    ind = "&nbsp;&nbsp;&nbsp;&nbsp;" if indent == "nbsp" else ("　　" if indent == "fw" else "")
    for b in r["blocks"]:
        if b[0] in ("h2", "h3"):
            t = esc(heading_text(b, "ascii" if not center_h else "plain"))
            out.append(
                f'<p style="text-align:center;"><strong>{t}</strong></p>'
                if center_h
                else f"<p>{ind}{t}</p>"
            )
        elif b[0] == "art":
            lab = f"<strong>{b[1]}</strong>" if strong else b[1]
            out.append(
                f"<p>{ind}{lab}&nbsp;&nbsp;{esc(b[2])}</p>"
                if indent == "nbsp"
                else f"<p>{ind}{lab}　{esc(b[2])}</p>"
            )
        else:
            out.append(f"<p>{ind}{esc(b[1])}</p>")
    return "\n".join(out)


# ---- M: saved HTML from a modern gov portal, <strong> labels
def build_M():
    r = parse(REGS["M"])
    h = gov_page(
        r,
        "中国政府网",
        "国务院文件",
        ["首页", "政策", "国务院政策文件库", "国务院文件"],
        [
            ("索 引 号：", "000014349/2018-00012", "主题分类：", "国务院组织机构\\其他"),
            ("发文机关：", "国务院", "成文日期：", "2017年12月22日"),
            ("标　　题：", "规章制定程序条例", "", ""),
            ("发文字号：", "国令第695号", "发布日期：", "2018年01月16日"),
        ],
        ["来源：中国政府网", "2018-01-16 17:40"],
        content_p(r, strong=True, indent="fw"),
    )
    name = "规章制定程序条例_国务院文件_中国政府网.html"
    Path(f"{OUT}/{name}").write_text(h, encoding="utf-8")
    record(
        name,
        "M",
        "HTML saved from a gov portal: div layout, no <h1> (title in div.art-title), breadcrumb text, 索引号/发文字号 info table, content div with <p>　　<strong>第一条</strong>　…</p>, share buttons, footer 主办/ICP备案号; <title> has _国务院文件_中国政府网 appended",
    )


# ---- K: gov portal html (nbsp indents) + print source for chromium
def build_K():
    r = parse(REGS["K"])
    h = gov_page(
        r,
        "中国政府网",
        "国务院文件",
        ["首页", "政策", "国务院政策文件库", "行政法规"],
        [
            ("索 引 号：", "000014349/2017-00231", "主题分类：", "国务院组织机构\\其他"),
            ("发文机关：", "国务院", "成文日期：", "2017年12月22日"),
            ("标　　题：", "国务院关于修改《行政法规制定程序条例》的决定", "", ""),
            ("发文字号：", "国令第694号", "发布日期：", "2018年01月16日"),
        ],
        ["来源：新华社", "2018-01-16 17:39"],
        content_p(r, strong=False, indent="nbsp"),
    )
    name = "行政法规制定程序条例.html"
    Path(f"{OUT}/{name}").write_text(h, encoding="utf-8")
    record(
        name,
        "K",
        "HTML saved from a gov portal: div layout, no <h1>, breadcrumb, info table whose 标题 is the amending decision (not the regulation), articles in <p>&nbsp;×4第一条&nbsp;&nbsp;…</p>, chapter headings in centered <p><strong>; footer 主办/备案号",
    )
    Path(f"{TMP}/K_print.html").write_text(h, encoding="utf-8")


# ---- O: statistics bureau site (different skin), source for html file and chromium pdf
def build_O():
    r = parse(REGS["O"])
    h = gov_page(
        r,
        "滨海市统计局",
        "法律法规",
        ["首页", "政务公开", "法律法规", "行政法规"],
        None,
        ["发布时间：2017-08-01 09:30", "来源：国家统计局", "浏览次数：2386"],
        content_p(r, strong=True, indent="nbsp"),
    )
    h = h.replace("#c30d23", "#1756a8").replace("#a20a1d", "#0f4690")
    name = "中华人民共和国统计法实施条例 - 滨海市统计局.html"
    Path(f"{OUT}/{name}").write_text(h, encoding="utf-8")
    record(
        name,
        "O",
        "HTML saved from a municipal statistics bureau site (blue skin): no info table, 发布时间/来源/浏览次数 line, <p>&nbsp;×4<strong>第一条</strong>&nbsp;&nbsp;…</p>, centered bold chapter <p>, share/footer text",
    )
    Path(f"{TMP}/O_print.html").write_text(h, encoding="utf-8")


# ---- F: agency site print source (chromium pdf)
def build_F():
    r = parse(REGS["F"])
    h = gov_page(
        r,
        "国家机关事务管理局",
        "政策法规",
        ["首页", "政策法规", "行政法规"],
        None,
        ["发布时间：2017-10-09", "来源：中国政府网"],
        content_p(r, strong=False, indent="fw"),
    )
    h = h.replace("#c30d23", "#7a1f1f")
    Path(f"{TMP}/F_print.html").write_text(h, encoding="utf-8")


# ---- H: old-style table-layout site in GBK
def build_H():
    r = parse(REGS["H"])
    rows = []
    for b in r["blocks"]:
        if b[0] == "h2":
            rows.append(f"<P align=center><FONT face=黑体>{esc(heading_text(b))}</FONT></P>")
        elif b[0] == "art":
            rows.append(f"<P>&nbsp;&nbsp;&nbsp;&nbsp;{b[1]}&nbsp;{esc(b[2])}</P>")
        else:
            rows.append(f"<P>&nbsp;&nbsp;&nbsp;&nbsp;{esc(b[1])}</P>")
    h = f"""<HTML><HEAD>
<META http-equiv=Content-Type content="text/html; charset=gb2312">
<TITLE>{r["title"]}--滨海市机构编制网</TITLE>
<STYLE>TD{{FONT-SIZE:12px;LINE-HEIGHT:20px}} .f14{{FONT-SIZE:14px;LINE-HEIGHT:26px}} A{{COLOR:#000;TEXT-DECORATION:none}}</STYLE>
</HEAD>
<BODY leftMargin=0 topMargin=0>
<TABLE width=778 align=center border=0 cellPadding=0 cellSpacing=0>
<TR><TD bgColor=#1e5fa8 height=70><FONT color=#ffffff size=6><B>&nbsp;滨海市机构编制网</B></FONT></TD></TR>
<TR><TD bgColor=#e8eef7 height=24>&nbsp;<A href="#">首页</A> | <A href="#">机构概况</A> | <A href="#">政策法规</A> | <A href="#">机构编制管理</A> | <A href="#">事业单位登记</A> | <A href="#">政务公开</A> | <A href="#">网上办事</A></TD></TR>
</TABLE>
<TABLE width=778 align=center border=0 cellPadding=0 cellSpacing=0>
<TR><TD width=180 vAlign=top bgColor=#f3f3f3>
<TABLE width="100%"><TR><TD><B>栏目导航</B></TD></TR><TR><TD>·法律法规</TD></TR><TR><TD>·规范性文件</TD></TR><TR><TD>·地方政策</TD></TR><TR><TD>·政策解读</TD></TR></TABLE>
</TD>
<TD vAlign=top>
<TABLE width="100%" border=0><TR><TD>您现在的位置：<A href="#">首页</A> &gt;&gt; <A href="#">政策法规</A> &gt;&gt; 法律法规</TD></TR></TABLE>
<TABLE width="96%" align=center border=0>
<TR><TD align=center height=50><FONT style="FONT-SIZE:20px" color=#cc0000><B>{r["title"]}</B></FONT></TD></TR>
<TR><TD align=center>作者：佚名　　文章来源：中国机构编制网　　点击数：1035　　更新时间：2009-3-12</TD></TR>
<TR><TD><HR color=#cccccc SIZE=1></TD></TR>
<TR><TD class=f14>
{chr(10).join(rows)}
</TD></TR>
<TR><TD align=right>【<A href="#">打印本页</A>】【<A href="#">关闭窗口</A>】</TD></TR>
</TABLE>
</TD></TR></TABLE>
<TABLE width=778 align=center border=0><TR><TD align=center bgColor=#1e5fa8><FONT color=#ffffff>版权所有：滨海市机构编制委员会办公室　　技术支持：滨海市信息中心<BR>备案序号：浙ICP备05001234号</FONT></TD></TR></TABLE>
</BODY></HTML>"""
    name = "国务院行政机构设置和编制管理条例.htm"
    Path(f"{OUT}/{name}").write_text(h, encoding="gbk", newline="\r\n")
    record(
        name,
        "H",
        "old-style HTML (uppercase tags, table layout, left nav column) encoded GB2312/GBK with CRLF, meta charset=gb2312, title in <FONT><B> in a table cell, articles <P>&nbsp;×4第一条&nbsp;…</P>, <TITLE> with --滨海市机构编制网",
    )
    Path(f"{TMP}/H_print.htm").write_text(h, encoding="gbk", newline="\r\n")


# ---- A: html with <br> separated article lines inside one div (TRS editor)
def build_A():
    r = parse(REGS["A"])
    lines = ["　　" + (b[1] + "　" + b[2] if b[0] == "art" else b[1]) for b in r["blocks"]]
    meta = "<br>\n".join("　　" + esc(m) for m in r["meta"])
    h = f"""<!DOCTYPE html><html><head><meta http-equiv="Content-Type" content="text/html; charset=utf-8">
<title>全国年节及纪念日放假办法-滨海市人民政府门户网站</title></head>
<body style="font-family:SimSun">
<div id="top">滨海市人民政府门户网站　|　首页　>　政务公开　>　政策文件　>　国家政策</div>
<div class="detail">
<div class="tit" style="font-size:22px;font-weight:bold;text-align:center">{esc(r["title"])}</div>
<div class="date">发布日期：2024-11-12　来源：中国政府网　【大 中 小】</div>
<div class="TRS_Editor"><div style="font-size:16px;line-height:30px">
（{meta}<br>
<br>
{"<br>".join(esc(x) + chr(10) for x in lines)}
</div></div>
</div>
<div id="foot">主办：滨海市人民政府办公室　承办：滨海市大数据发展管理局　网站标识码：3302000001　浙ICP备12345678号-1</div>
</body></html>"""
    name = "全国年节及纪念日放假办法-滨海市人民政府门户网站.html"
    Path(f"{OUT}/{name}").write_text(h, encoding="utf-8")
    record(
        name,
        "A",
        "HTML from a city portal CMS (TRS_Editor): whole text in one <div>, lines separated only by <br>, full-width-space indents, revision-history block in parentheses above the articles, title in div.tit",
    )


# ---------- TXT ----------
KINSOKU = set("，。、；：？！）》」』”’％")


def hardwrap(s, width=35, first_indent="　　"):
    s = first_indent + s
    out, cur = [], ""
    i = 0
    while i < len(s):
        cur += s[i]
        i += 1
        if len(cur) >= width:
            while i < len(s) and s[i] in KINSOKU:
                cur += s[i]
                i += 1
            out.append(cur)
            cur = ""
    if cur:
        out.append(cur)
    return out


def txt_lines(r, wrap=None, sep="　", indent="　　", hstyle="spaced", title_center=True):
    L = []
    L.append(("　" * 6 + r["title"]) if title_center else r["title"])
    L.append("")
    for b in r["blocks"]:
        if b[0] in ("h2", "h3"):
            L.append(
                "　" * 8 + heading_text(b, hstyle) if title_center else heading_text(b, hstyle)
            )
            continue
        t = b[1] + sep + b[2] if b[0] == "art" else b[1]
        if wrap:
            L.extend(hardwrap(t, wrap, indent))
        else:
            L.append(indent + t)
    return L


def build_txts():
    # D: GBK, CRLF, hard-wrapped at 35, 新建文本文档.txt
    r = parse(REGS["D"])
    L = ["国家机关、事业单位贯彻《国务院关于职工工作时间的", "规定》的实施办法", ""] + txt_lines(
        r, wrap=35, title_center=False
    )[2:]
    Path(f"{OUT}/新建文本文档.txt").write_text("\n".join(L) + "\n", encoding="gbk", newline="\r\n")
    record(
        "新建文本文档.txt",
        "D",
        "plain text GBK, CRLF, as copied out of a PDF: title broken over two lines, every line hard-wrapped at ~35 chars (kinsoku: no line-leading punctuation), paragraphs start with two full-width spaces",
    )
    # G: GB18030, CRLF, hard-wrapped, with page-number lines and blank lines between pages
    r = parse(REGS["G"])
    L = txt_lines(r, wrap=35)
    out, page = [], 1
    for k, ln in enumerate(L):
        out.append(ln)
        if k and k % 30 == 0:
            out += ["", f"－ {page} －", ""]
            page += 1
    out += ["", f"－ {page} －"]
    name = "地方各级人民政府机构设置和编制管理条例（文本）.txt"
    Path(f"{OUT}/{name}").write_text("\n".join(out) + "\n", encoding="gb18030", newline="\r\n")
    record(
        name,
        "G",
        'plain text GB18030, CRLF, text exported from a PDF: hard-wrapped at ~35 chars, centered-by-spaces title and letter-spaced chapter headings, page-number lines "－ N －" every 30 lines',
    )
    # A: UTF-8 BOM, CRLF, one paragraph per line
    r = parse(REGS["A"])
    L = (
        [r["title"], ""]
        + ["（" + "；".join(m.rstrip("　）") for m in r["meta"]) + "）", ""]
        + txt_lines(r)[2:]
    )
    Path(f"{OUT}/全国年节及纪念日放假办法.txt").write_text(
        "\n".join(L), encoding="utf-8-sig", newline="\r\n"
    )
    record(
        "全国年节及纪念日放假办法.txt",
        "A",
        "plain text UTF-8 with BOM, CRLF (Windows Notepad), one paragraph per line with full-width-space indent, revision history in parentheses under the title, no trailing newline",
    )
    # K: UTF-8 LF, copy from web: label + ASCII space, blank line between paragraphs, no indent
    r = parse(REGS["K"])
    L = [r["title"], ""]
    for b in r["blocks"]:
        L.append(
            heading_text(b, "ascii")
            if b[0] == "h2"
            else (b[1] + " " + b[2] if b[0] == "art" else b[1])
        )
        L.append("")
    Path(f"{OUT}/行政法规制定程序条例.txt").write_text("\n".join(L), encoding="utf-8")
    record(
        "行政法规制定程序条例.txt",
        "K",
        "plain text UTF-8 (no BOM), LF, copied from a web page: no indents, label + ASCII space, blank line between all paragraphs",
    )


if __name__ == "__main__":
    for f in [build_M, build_K, build_O, build_F, build_H, build_A, build_txts]:
        f()
    print("ok")
