"""Generate the tiny per-format fixtures in tests/data/formats/ (deterministic).

    python tests/data/make_fixtures.py            # (re)writes tests/data/formats/*
    python tests/data/make_fixtures.py OUT_DIR

Every fixture carries one unique marker phrase (see MARKERS and formats/README.md) so tests can
check that the text came through. Running the script twice produces byte-identical files.
"""

from __future__ import annotations

import io
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from make_manuals import build_docx, build_pdf  # noqa: E402

OUT = HERE / "formats"

MARKERS = {
    "sample.md": "紫藤花开标记",
    "utf8.txt": "银杏叶落标记",
    "utf8_bom.txt": "梧桐细雨标记",
    "gbk.txt": "芦苇秋风标记",
    "gb18030.txt": "山茶初雪标记",
    "sample.docx": "海棠春晓标记",
    "sample.pdf": "松柏长青标记",
    "sample.html": "荷塘月色标记",
}

# sample.pdf: one phrase per page, to check page mapping
PDF_PAGE_PHRASES = {1: "第一页独有短语", 2: "第二页独有短语", 3: "第三页独有短语"}

# sample.html: phrases inside the noise elements; none may survive extraction
HTML_NOISE = {
    "script": "脚本噪声不应出现",
    "style": "样式噪声不应出现",
    "nav": "导航噪声不应出现",
    "header": "页眉噪声不应出现",
    "footer": "页脚噪声不应出现",
    "aside": "侧栏噪声不应出现",
}

# --------------------------------------------------------------------------------------------

SAMPLE_MD = """# 滨江市公共数据开放样例办法

2024年5月6日 滨江市人民政府令第9号公布

2024年6月1日 施行

<!-- INFO END -->

## 第一章 总则

第一条 为了规范公共数据开放工作（紫藤花开标记），促进公共数据有序流动和开发利用，结合本市实际，制定本办法。

第二条 本办法所称公共数据，是指本市各级行政机关和公共服务机构在依法履行职责、提供公共服务过程中收集和产生的数据。

第三条 公共数据开放分为无条件开放和有条件开放两类。

列入有条件开放目录的公共数据，申请人应当与数据提供单位签订数据利用协议，并按照协议约定的范围和用途使用数据。

## 第二章 开放管理

第四条 数据提供单位应当依照本办法第二条的规定，梳理本单位的公共数据，编制开放目录，并在每年3月31日前更新。

第五条 本办法自2024年6月1日起施行。
"""

UTF8_TXT = """滨江市政务短信发送管理样例规定

第一条 为了规范政务短信的发送（银杏叶落标记），减少对群众的打扰，制定本规定。

第二条 政务短信每条不超过200字，夜间22时至次日7时不得发送非紧急短信。

第三条 本规定自发布之日起施行。
"""

UTF8_BOM_TXT = """滨江市机关会议室预约样例规定

第一条 为了提高会议室使用效率（梧桐细雨标记），制定本规定。

第二条 会议室应当通过内网提前预约，预约后未使用的，应当在会议开始前2小时取消。

第三条 本规定自发布之日起施行。
"""

GBK_TXT = """滨江市政务服务窗口样例管理规定

第一条 为了规范政务服务窗口的设置和运行（芦苇秋风标记），提升办事群众的满意度，根据国家和本市有关政务服务的规定，结合本市实际，制定本规定。

第二条 本规定适用于本市各级政务服务中心及其分中心设置的综合受理窗口、专项业务窗口和帮办代办窗口。

第三条 政务服务窗口实行首问负责制。首位接待办事群众的工作人员，应当负责解答咨询、指引办理；不属于本窗口办理的事项，应当告知办理部门、地点和联系方式，不得推诿。

第四条 政务服务窗口实行一次性告知制。申请材料不齐全或者不符合法定形式的，窗口工作人员应当当场一次性告知申请人需要补正的全部内容，并出具书面告知单。

第五条 政务服务窗口工作时间为工作日上午9时至12时、下午13时30分至17时；工作日中午实行轮岗值守，不得出现无人值守的情况。

第六条 窗口工作人员应当佩戴工作牌、使用规范用语，不得在工作时间玩手机、吃零食或者擅自离岗。

第七条 政务服务中心应当设置意见箱和评价器，每月汇总办事群众的评价和意见，并在次月10日前向各进驻部门反馈。

第八条 本规定由滨江市政务服务管理办公室负责解释，自发布之日起施行。
"""

GB18030_TXT = """滨江市姓名生僻字登记样例规定

第一条 为了保障姓名中含有生僻字的群众正常办理业务（山茶初雪标记），制定本规定。

第二条 群众姓名含有“𠮷”“䶮”等生僻字的，业务系统应当按照国家标准 GB 18030 录入和显示，不得以同音字或者拼音代替。

第三条 系统暂不支持的生僻字，窗口工作人员应当登记后报信息中心在10个工作日内完成字库更新。

第四条 本规定自发布之日起施行。
"""

DOCX_TABLE = [
    ["共享类型", "审批人", "办理时限"],
    ["无条件共享", "无需审批", "即时获取"],
    ["有条件共享", "数据提供处室负责人", "5个工作日"],
    ["不予共享", "分管副局长", "3个工作日内书面说明理由"],
]

DOCX_CONTENT: list[tuple[str, object]] = [
    ("title", "滨江市政务数据共享样例规程"),
    ("p", "（样例文件，仅供测试，海棠春晓标记）"),
    ("h1", "一、总则"),
    ("h2", "（一）目的"),
    ("p", "为规范政务数据共享，提高跨部门办事效率，制定本规程。"),
    ("h2", "（二）适用范围"),
    ("p", "本规程适用于局机关各处室之间、本局与其他部门之间的政务数据共享。"),
    ("h1", "二、共享程序"),
    ("h2", "（一）申请"),
    ("p", "1. 使用部门通过共享平台提交共享申请，写明数据项、用途和使用期限。"),
    ("p", "2. 数据提供处室按照下表规定的权限和时限办理。"),
    ("table", DOCX_TABLE),
    ("h2", "（二）使用"),
    ("p", "1. 共享数据只能用于申请时载明的用途，不得转给第三方。"),
    ("p", "2. 使用期限届满后，使用部门应当在5个工作日内删除共享数据。"),
    ("h1", "三、附则"),
    ("p", "本规程自2024年7月1日起施行。"),
]

PDF_CONTENT: list[tuple[str, str]] = [
    ("title", "滨江市电子证照应用样例细则"),
    ("sub", "（样例文件，仅供测试，松柏长青标记）"),
    (
        "p",
        "第一条 为了推进电子证照在政务服务中的应用，减少群众提交纸质材料，制定本细则。第一页独有短语。",
    ),
    ("p", "第二条 本细则所称电子证照，是指由有权机构签发的、具有法律效力的电子文件。"),
    ("pagebreak", ""),
    (
        "p",
        "第三条 已经生成电子证照的，政务服务机构不得再要求申请人提交同一证照的纸质原件或者复印件。第二页独有短语。",
    ),
    (
        "p",
        "第四条 电子证照的签发机构应当保证电子证照信息真实、准确、完整，证照信息发生变更的，应当在",
    ),
    ("pagebreak", ""),
    ("p", "3个工作日内更新电子证照并同步至证照库。"),
    ("p", "第五条 本细则自2024年9月1日起施行。第三页独有短语。"),
]

SAMPLE_HTML = """<!DOCTYPE html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<title>滨江市数据安全样例规定 - 滨江市数据管理局门户网站</title>
<style>
/* 样式噪声不应出现 */
body { font-family: "SimSun", serif; }
.nav a { color: #036; }
</style>
<script>
// 脚本噪声不应出现
window.dataLayer = window.dataLayer || [];
document.write("脚本噪声不应出现");
</script>
</head>
<body>
<header class="site-header"><div class="logo">滨江市数据管理局 页眉噪声不应出现</div></header>
<nav class="nav"><a href="/">首页</a> | <a href="/zwgk">政务公开</a> | <a href="/bsfw">办事服务</a> 导航噪声不应出现</nav>
<main>
<article>
<h1>滨江市数据安全样例规定</h1>
<p class="meta">发布日期：2024年8月8日</p>
<h2>第一章 总则</h2>
<p>第一条 为了保障本市公共数据安全（荷塘月色标记），根据有关法律法规，结合本市实际，制定本规定。</p>
<p>第二条 数据处理单位应当建立数据分类分级保护制度，对重要数据实行重点保护。</p>
<h2>第二章 安全管理</h2>
<p>第三条 数据处理单位应当每年至少开展一次数据安全风险评估。</p>
<p>评估报告应当在评估完成后15个工作日内报送市数据管理部门。</p>
<p>第四条 本规定自2024年9月1日起施行。</p>
</article>
</main>
<aside class="related">相关链接：侧栏噪声不应出现</aside>
<footer class="site-footer">版权所有 滨江市数据管理局 页脚噪声不应出现 <script>var x = "脚本噪声不应出现";</script></footer>
</body>
</html>
"""

README = """# Format fixtures

Generated by `python tests/data/make_fixtures.py` (deterministic; commit the outputs). Each file
holds one unique marker phrase; no marker occurs in any other fixture or in `corpus/`.

| file | encoding / structure | marker phrase |
|---|---|---|
| `sample.md` | UTF-8; `# 标题`, `## 第一章 总则`, `## 第二章 开放管理`, 第一条..第五条; 第三条 has two paragraphs (款); 第四条 contains the cross-reference “依照本办法第二条” in mid-line; `<!-- INFO END -->` comment like corpus/ | `紫藤花开标记` |
| `utf8.txt` | UTF-8 without BOM, LF; title line + 第一条..第三条 | `银杏叶落标记` |
| `utf8_bom.txt` | UTF-8 with BOM (EF BB BF), LF; title line + 第一条..第三条 | `梧桐细雨标记` |
| `gbk.txt` | GBK, CRLF line ends, ~520 characters; title line + 第一条..第八条 | `芦苇秋风标记` |
| `gb18030.txt` | GB18030, LF; contains “𠮷” (U+20BB7, 4-byte in GB18030, not encodable in GBK) and “䶮” (U+4DAE) | `山茶初雪标记` |
| `sample.docx` | doc title in style **Title**, `一、` sections in **Heading 1**, `（一）` in **Heading 2**, `1.` items as body paragraphs, one 3x4 table (共享类型 / 审批人 / 办理时限) | `海棠春晓标记` |
| `sample.pdf` | 3 A4 pages, STSong-Light CID font, footer `- N -` on every page; 第一条..第五条; **第四条 starts on page 2 and ends on page 3** (“…应当在” / “3个工作日内更新…”) | `松柏长青标记` (page 1) |
| `sample.html` | UTF-8, `<meta charset>`; content in `<main><article>` with `<h1>` and two `<h2>` chapters, 第一条..第四条 (第三条 has two `<p>` paragraphs); noise in `<style>`, `<script>` (head and footer), `<header>`, `<nav>`, `<aside>`, `<footer>` | `荷塘月色标记` |

Page phrases in `sample.pdf` (each on exactly one page): `第一页独有短语` (page 1),
`第二页独有短语` (page 2), `第三页独有短语` (page 3).

Noise phrases in `sample.html` that must NOT appear in the extracted text:
`脚本噪声不应出现` (script), `样式噪声不应出现` (style), `导航噪声不应出现` (nav),
`页眉噪声不应出现` (header), `页脚噪声不应出现` (footer), `侧栏噪声不应出现` (aside).

First headings (document titles): sample.md `滨江市公共数据开放样例办法`; sample.docx
`滨江市政务数据共享样例规程`; sample.html `滨江市数据安全样例规定` (the `<title>` adds
“ - 滨江市数据管理局门户网站”); sample.pdf has no heading markup, its first line is
`滨江市电子证照应用样例细则`. The .txt files have no heading markup; their first line is the title.

Bad inputs are not stored here: `tests/data/make_bad.py` creates them in a temporary folder at
test time (`make_bad_files(dir)`, `make_huge_file(path, size_mb)`, `make_outside_link(dir, target)`).
"""


def write_all(out: Path) -> dict[str, Path]:
    out.mkdir(parents=True, exist_ok=True)
    files: dict[str, Path] = {}

    def put(name: str, data: bytes) -> None:
        (out / name).write_bytes(data)
        files[name] = out / name

    put("sample.md", SAMPLE_MD.encode("utf-8"))
    put("utf8.txt", UTF8_TXT.encode("utf-8"))
    put("utf8_bom.txt", UTF8_BOM_TXT.encode("utf-8-sig"))
    put("gbk.txt", GBK_TXT.replace("\n", "\r\n").encode("gbk"))
    put("gb18030.txt", GB18030_TXT.encode("gb18030"))
    build_docx(DOCX_CONTENT, "滨江市政务数据共享样例规程", out / "sample.docx")
    files["sample.docx"] = out / "sample.docx"
    buf = io.BytesIO()
    build_pdf(PDF_CONTENT, "滨江市电子证照应用样例细则", buf, footer_format="- {page} -")
    put("sample.pdf", buf.getvalue())
    put("sample.html", SAMPLE_HTML.encode("utf-8"))
    put("README.md", README.encode("utf-8"))
    return files


def main(argv: list[str]) -> None:
    out = Path(argv[1]) if len(argv) > 1 else OUT
    for name, path in write_all(out).items():
        print(f"{path}  {path.stat().st_size} bytes  marker={MARKERS.get(name, '-')}")


if __name__ == "__main__":
    main(sys.argv)
