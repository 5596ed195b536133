"""Ground-truth rows for the files produced by convert.sh (run after it)."""

from common import record

R = record
R(
    "职工带薪年休假条例.pdf",
    "C",
    "PDF printed by LibreOffice (soffice --convert-to pdf) from 职工带薪年休假条例.docx; fonts substituted by Noto CJK",
)
R(
    "事业单位人事管理条例.pdf",
    "I",
    "PDF printed by LibreOffice from 事业单位人事管理条例.docx (header 滨海大学人事处, footer 第 X 页 共 Y 页)",
)
R(
    "附件1.pdf",
    "J",
    "PDF printed by LibreOffice from 附件1.docx: the auto-numbered labels 第一条… exist only as rendered list labels",
)
R(
    "中华人民共和国密码法.pdf",
    "L",
    "PDF printed by LibreOffice from 中华人民共和国密码法.docx: letter-spaced chapter headings 第一章　总　　则, 题注 line",
)
R(
    "行政复议法实施条例.pdf",
    "Q",
    "PDF printed by LibreOffice from 行政复议法实施条例.docx (章 and 节 headings)",
)
R(
    "礼品规定（打印稿）.pdf",
    "B",
    "PDF printed by LibreOffice from the two-line-title docx: title split over two lines (…公务活动中 / 不得赠送和接受礼品的规定)",
)
R(
    "关于印发企业职工带薪年休假实施办法的通知.pdf",
    "E",
    "PDF printed by LibreOffice from the red-header docx: 红头, 文号, notice on page 1, 附件 regulation from page 2, 版记 at end",
    title="滨海市人民政府办公室关于印发《企业职工带薪年休假实施办法》的通知",
)
R(
    "事业单位人事管理条例.doc",
    "I",
    "Word 97 binary .doc saved by LibreOffice (MS Word 97 filter) from 事业单位人事管理条例.docx",
)
R(
    "附件1.doc",
    "J",
    "Word 97 binary .doc saved by LibreOffice from 附件1.docx: article labels kept as Word list numbering (第%1条, Chinese counting)",
)
R(
    "工时实施办法.doc",
    "D",
    "Word 97 binary .doc saved by LibreOffice from a clerk docx: 黑体 bold title, 宋体 小四 1.5 lines, bold label + ASCII space (short file name as offices use)",
)
R(
    "楼堂馆所管理条例.wps",
    "F",
    "WPS-style file: Word 97 binary written by LibreOffice from 机关团体建设楼堂馆所管理条例.docx, saved with .wps extension (header/footer — PAGE —)",
)
R(
    "滨政办发〔2024〕12号.wps",
    "E",
    "WPS-style file (Word 97 binary with .wps extension) of the red-header notice, named after its 文号",
    title="滨海市人民政府办公室关于印发《企业职工带薪年休假实施办法》的通知",
)
R(
    "地方各级人民政府机构设置和编制管理条例.odt",
    "G",
    "ODT saved by LibreOffice from the Heading-styles docx (title in Title style, chapters Heading 1)",
)
R(
    "数据安全法.odt",
    "N",
    "ODT saved by LibreOffice from 数据安全法.docx (目录 of chapters before the body)",
)
R(
    "行政法规制定程序条例_国务院文件_中国政府网.pdf",
    "K",
    "PDF printed by headless Chromium (--no-pdf-header-footer) from the gov-portal HTML: nav bar, breadcrumb, info table (标题 = amending decision), share/footer text",
)
R(
    "中华人民共和国统计法实施条例 - 滨海市统计局.pdf",
    "O",
    "PDF printed by headless Chromium (--no-pdf-header-footer) from the statistics-bureau HTML page; <strong> labels",
)
R(
    "机关团体建设楼堂馆所管理条例_政策法规_国家机关事务管理局.pdf",
    "F",
    'PDF printed by headless Chromium WITH browser header/footer (print date, page <title> "…_政策法规_国家机关事务管理局", URL http://www.ggj.gov.cn/…, page n/m) from an agency-site page',
)
R(
    "打印本页.pdf",
    "H",
    "PDF printed by headless Chromium WITH browser header/footer from the old GBK table-layout page (left nav column, <TITLE> …--滨海市机构编制网, URL in footer)",
)
print("ok")
