"""Generate the two internal procedure manuals of the fictional 滨江市数据管理局 in corpus/.

    python tests/data/make_manuals.py            # writes both files into corpus/
    python tests/data/make_manuals.py OUT_DIR    # writes them somewhere else

Output is deterministic (fixed zip timestamps in the .docx, reportlab ``invariant`` mode for the
PDF), so regenerating produces byte-identical files.

* ``滨江市数据管理局公文与印章管理办法.docx``: document title in style "Heading 1", top-level
  sections ``一、`` in "Heading 2", sub-sections ``（一）`` in "Heading 3", numbered items ``1.`` as
  body paragraphs, and a table (用印审批权限表).
* ``差旅与报销操作手册.pdf``: 5 A4 pages, CJK text in reportlab's built-in CID font STSong-Light
  (no font file needed; text layer extracts as proper Unicode with pypdf and pdfplumber), footer
  "第 N 页 共 M 页" on every page.

Both manuals hold rules that none of the national regulations in corpus/ contain (deadlines,
amounts, approvers), so questions about them can only be answered from these files.
"""

from __future__ import annotations

import io
import sys
import zipfile
from datetime import datetime
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

DOCX_NAME = "滨江市数据管理局公文与印章管理办法.docx"
DOCX_TITLE = "滨江市数据管理局公文与印章管理办法"
PDF_NAME = "差旅与报销操作手册.pdf"
PDF_TITLE = "差旅与报销操作手册"

FIXED_TIME = datetime(2024, 3, 1, 9, 0, 0)

# --------------------------------------------------------------------------------------------
# Manual 1: 公文与印章管理办法 (.docx)
# --------------------------------------------------------------------------------------------

# ("h1"|"h2"|"h3"|"p"|"table", payload)
SEAL_TABLE = [
    ["用印类型", "审批人", "登记要求"],
    [
        "局行政公章（以局名义对外正式发文）",
        "局长；局长外出期间由其书面授权的副局长",
        "登记《用印登记簿》，附已签发的发文稿纸",
    ],
    [
        "局行政公章（合同、协议）",
        "分管副局长；合同金额50万元以上的报局长审批",
        "登记合同编号、金额和合同相对方，附法规与安全处审核意见",
    ],
    [
        "局行政公章（介绍信、工作函件）",
        "局办公室主任",
        "登记《用印登记簿》，介绍信存根留办公室备查",
    ],
    ["局办公室印章", "局办公室主任", "登记《用印登记簿》"],
    ["财务专用章", "计划财务处处长", "在计划财务处《财务用印登记簿》单独登记"],
    [
        "局行政公章（在职证明、收入证明等人事证明）",
        "人事处处长",
        "登记证明类型和用途，由申请人本人签字领取",
    ],
    ["处室业务专用章", "本处室负责人", "处室自行登记，每季度末报局办公室备案"],
]

DOCX_CONTENT: list[tuple[str, object]] = [
    ("h1", DOCX_TITLE),
    ("p", "（2024年2月26日局长办公会议审议通过　滨数管办〔2024〕12号）"),
    ("h2", "一、总则"),
    ("h3", "（一）目的和依据"),
    (
        "p",
        "为规范滨江市数据管理局（以下简称本局）公文处理和印章使用管理，提高办文效率，防范用印风险，依据国家有关公文处理和印章管理的规定，结合本局实际，制定本办法。",
    ),
    ("h3", "（二）适用范围"),
    (
        "p",
        "本办法适用于局机关各处室和局属滨江市大数据中心。局属单位自有印章的管理，参照本办法执行。",
    ),
    ("h3", "（三）管理职责"),
    (
        "p",
        "局办公室是本局公文处理和印章管理的归口部门，负责公文的登记、核稿、编号、印制、分发和归档，负责局行政公章和局办公室印章的保管与使用。各处室应当确定1名文书联络员，负责本处室公文的收发、催办和用印申请的初审。",
    ),
    ("h2", "二、公文起草"),
    ("h3", "（一）起草责任"),
    (
        "p",
        "1. 公文由承办处室负责起草，起草人应当是本处室在编在岗工作人员，借调、实习人员不得单独承担起草任务。",
    ),
    (
        "p",
        "2. 起草前应当查清有关政策规定和本局已发文件，做到与现行文件相衔接；需要其他处室配合的，应当在起草阶段征求意见。",
    ),
    ("p", "3. 请示应当一文一事，只写一个主送机关，正文一般不超过3000字；报告中不得夹带请示事项。"),
    ("h3", "（二）格式要求"),
    ("p", "1. 公文标题使用2号小标宋体字，正文使用3号仿宋体字，一般每页22行、每行28字。"),
    ("p", "2. 正文层次序数依次使用“一、”“（一）”“1.”“（1）”，不得混用。"),
    ("p", "3. 附件应当在正文之后、发文机关署名之前注明顺序和名称。"),
    ("h3", "（三）发文字号"),
    (
        "p",
        "本局发文字号分为“滨数管发”（以局名义对外正式发文）、“滨数管办”（以局办公室名义发文）和“滨数管函”（函件）三类，由局办公室按年度统一编号。任何处室不得自行编制发文字号。",
    ),
    ("h3", "（四）起草时限"),
    (
        "p",
        "局领导交办的一般公文，承办处室应当在3个工作日内完成初稿；紧急公文应当在当日完成初稿；重要政策性文件按照局领导确定的时限完成。",
    ),
    ("h2", "三、公文审核"),
    ("h3", "（一）审核程序"),
    ("p", "1. 承办处室负责人对初稿进行初核，并在发文稿纸上签署意见。"),
    (
        "p",
        "2. 内容涉及其他处室职责的，应当会签。会签处室应当在2个工作日内反馈意见，逾期未反馈的视为无意见。",
    ),
    (
        "p",
        "3. 涉及规范性文件、合同协议或者对外承诺事项的，送法规与安全处进行合法性审核，合法性审核时间一般不少于5个工作日。",
    ),
    ("p", "4. 局办公室对文稿的行文规则、格式、文字和程序进行核稿，核稿一般在1个工作日内完成。"),
    ("h3", "（二）退回修改"),
    (
        "p",
        "文稿不符合要求的，由局办公室退回承办处室修改并说明理由。同一文稿退回修改超过2次的，局办公室应当在每月公文质量通报中予以通报。",
    ),
    ("h2", "四、公文签发"),
    ("h3", "（一）签发权限"),
    ("p", "1. 以局名义对外正式发文，由局长签发；局长外出期间，由局长书面授权的副局长签发。"),
    ("p", "2. 以局办公室名义发文，由局办公室主任签发；涉及重大事项的，报分管副局长签发。"),
    ("p", "3. 业务函件由分管副局长签发；联合发文由本局主要负责人会签。"),
    ("h3", "（二）签发要求"),
    (
        "p",
        "签发人应当在发文稿纸上签署意见、姓名和完整日期；仅圈阅或者签名的，视为同意。公文签发后内容需要作实质性修改的，应当重新履行审核、签发程序。",
    ),
    ("h3", "（三）印制与分发"),
    (
        "p",
        "公文签发后，局办公室应当在1个工作日内完成编号、校对、印制、用印和分发；涉密公文按照保密管理规定印制和分发。",
    ),
    ("h2", "五、用印申请流程"),
    ("h3", "（一）提交申请"),
    (
        "p",
        "1. 用印一律通过OA系统“用印申请”模块提交，上传拟用印文件的最终稿，并写明用印事由、份数和用印类型。",
    ),
    (
        "p",
        "2. 一般用印申请应当提前1个工作日提交；合同、协议用印申请应当提前3个工作日提交，以便完成合法性审核。",
    ),
    (
        "p",
        "3. 紧急用印经本处室负责人电话报请审批人同意后，可以当日办理，但申请人应当在用印后2个工作日内在OA系统补办审批手续。",
    ),
    ("h3", "（二）审批权限"),
    ("p", "各类印章的用印审批权限和登记要求见下表（用印审批权限表）。"),
    ("table", SEAL_TABLE),
    ("h3", "（三）核对与登记"),
    (
        "p",
        "印章管理员应当核对用印文件与审批内容一致后方可用印，并在《用印登记簿》上逐项登记用印日期、用印事由、文件名称、份数、申请人和审批人。两页以上的合同、协议应当加盖骑缝章。",
    ),
    ("h3", "（四）禁止事项"),
    (
        "p",
        "严禁在空白纸张、空白介绍信、空白合同或者空白证明上用印；严禁未经审批用印或者超出审批份数用印；印章管理员不得为本人经办的事项自行审批用印。",
    ),
    ("h2", "六、印章保管"),
    ("h3", "（一）保管人员"),
    (
        "p",
        "局行政公章和局办公室印章由局办公室指定2名印章管理员分A、B角保管，A角日常使用，B角在A角不在岗时接替。财务专用章由计划财务处指定专人保管，并与财务负责人名章分人保管。",
    ),
    ("h3", "（二）保管要求"),
    ("p", "1. 印章应当存放在带锁的保险柜内，用毕随即入柜上锁，不得放在办公桌上或者交由他人代管。"),
    (
        "p",
        "2. 印章管理员因休假、出差等原因离岗超过1个工作日的，应当与接替人员办理交接，并在《印章交接登记表》上签字。",
    ),
    ("h3", "（三）印章遗失"),
    (
        "p",
        "印章遗失或者被盗的，印章管理员应当立即报告局办公室主任，并在发现后24小时内向公安机关报案，由局办公室在《滨江日报》刊登作废声明，同时书面报告印章制发机关。",
    ),
    ("h3", "（四）启用与停用"),
    (
        "p",
        "新刻制的印章，经局长批准后由局办公室统一到公安机关指定的刻章单位刻制，启用前应当印发启用通知并留存印模。因机构调整、名称变更停用的印章，由局办公室收回登记后统一送交印章制发机关封存或者销毁。",
    ),
    ("h2", "七、外带印章登记"),
    ("h3", "（一）外带审批"),
    (
        "p",
        "印章原则上不得带出局机关办公场所。确因异地签约、现场办理登记等工作需要外带的，申请人应当填写《印章外带审批单》，经局办公室主任审核后报分管副局长批准；外带局行政公章的，须报局长批准。",
    ),
    ("h3", "（二）外带登记"),
    (
        "p",
        "1. 印章管理员应当在《印章外带登记簿》上登记外带事由、使用地点、携带人、外带时间和预计归还时间。",
    ),
    (
        "p",
        "2. 外带印章应当由2人共同携带、共同使用，其中至少1人为处级以上干部；外带期间印章只能用于审批单所列事项。",
    ),
    ("h3", "（三）归还时限"),
    (
        "p",
        "外带印章的时间一般不超过3个工作日。携带人应当在返回单位当日将印章交还印章管理员，并提交用印清单；需要延长外带时间的，应当在到期前重新履行审批手续。",
    ),
    ("h2", "八、归档与监督"),
    ("h3", "（一）归档"),
    (
        "p",
        "公文办理完毕后，承办处室应当在次年3月31日前将发文稿纸、签发件和有关材料整理后移交局办公室档案室。《用印登记簿》《印章外带登记簿》由局办公室每年年底整理归档，保管期限为30年。",
    ),
    ("h3", "（二）监督检查"),
    (
        "p",
        "局办公室每半年对各处室公文处理和用印情况开展一次检查，检查结果在局内通报。违反本办法擅自用印、外带印章或者造成印章遗失的，视情节给予批评教育、通报批评；造成严重后果的，依规依纪依法追究责任。",
    ),
    ("h3", "（三）附则"),
    (
        "p",
        "本办法由局办公室负责解释，自2024年3月1日起施行。2019年印发的《滨江市数据管理局印章使用管理暂行规定》同时废止。",
    ),
]


def _set_east_asian_font(style, name: str) -> None:
    from docx.oxml.ns import qn

    rpr = style.element.get_or_add_rPr()
    fonts = rpr.find(qn("w:rFonts"))
    if fonts is None:
        fonts = rpr.makeelement(qn("w:rFonts"), {})
        rpr.append(fonts)
    fonts.set(qn("w:eastAsia"), name)


def normalize_zip(data: bytes) -> bytes:
    """Rewrite a zip (docx) with fixed timestamps and sorted-as-written order, for reproducibility."""
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            new = zipfile.ZipInfo(info.filename, date_time=(1980, 1, 1, 0, 0, 0))
            new.compress_type = zipfile.ZIP_DEFLATED
            new.external_attr = 0o644 << 16
            dst.writestr(new, src.read(info.filename))
    return out.getvalue()


def build_docx(content: list[tuple[str, object]], title: str, path: Path) -> None:
    import docx
    from docx.shared import Pt

    document = docx.Document()
    for style_name in ("Normal", "Heading 1", "Heading 2", "Heading 3", "Title"):
        _set_east_asian_font(document.styles[style_name], "宋体")
    document.styles["Normal"].font.size = Pt(12)
    props = document.core_properties
    props.title = title
    props.author = "滨江市数据管理局办公室"
    props.last_modified_by = "滨江市数据管理局办公室"
    props.created = FIXED_TIME
    props.modified = FIXED_TIME
    props.revision = 1
    for kind, payload in content:
        if kind == "h1":
            document.add_heading(str(payload), level=1)
        elif kind == "h2":
            document.add_heading(str(payload), level=2)
        elif kind == "h3":
            document.add_heading(str(payload), level=3)
        elif kind == "title":
            document.add_heading(str(payload), level=0)  # style "Title"
        elif kind == "p":
            document.add_paragraph(str(payload))
        elif kind == "table":
            rows = payload
            assert isinstance(rows, list)
            table = document.add_table(rows=len(rows), cols=len(rows[0]))
            table.style = "Table Grid"
            for r, row in enumerate(rows):
                for c, value in enumerate(row):
                    table.cell(r, c).text = value
        else:
            raise ValueError(kind)
    buf = io.BytesIO()
    document.save(buf)
    path.write_bytes(normalize_zip(buf.getvalue()))


# --------------------------------------------------------------------------------------------
# Manual 2: 差旅与报销操作手册 (.pdf)
# --------------------------------------------------------------------------------------------

# ("title"|"sub"|"h1"|"h2"|"p", text). Paragraph text must avoid inline "一、" / "（一）" / "1."
# patterns so that a line wrapped by the layout never starts with something that looks like a
# section number.
PDF_CONTENT: list[tuple[str, str]] = [
    ("title", PDF_TITLE),
    ("sub", "滨江市数据管理局计划财务处　编　　2024年1月2日印发"),
    (
        "p",
        "本手册依据国家和本市有关差旅费管理的规定，结合滨江市数据管理局（以下简称本局）实际编写，供局机关各处室和局属滨江市大数据中心工作人员办理国内公务出差审批和差旅费报销时使用。因公出国（境）的费用管理另行规定，不适用本手册。",
    ),
    ("h1", "一、总则"),
    ("h2", "（一）适用范围"),
    (
        "p",
        "本手册所称差旅费，是指工作人员临时到常驻地以外地区公务出差所发生的城市间交通费、住宿费、伙食补助费和市内交通费。到滨江市所辖区县出差、当日往返且不在外住宿的，不属于本手册所称出差。",
    ),
    ("h2", "（二）基本原则"),
    (
        "p",
        "差旅费管理坚持先审批后出差、按标准开支、凭合规票据报销、厉行节约的原则。未经审批的出差，所发生的费用一律不予报销。",
    ),
    ("h2", "（三）职责分工"),
    (
        "p",
        "出差人员所在处室负责人对出差的必要性、出差人数和天数负责；计划财务处负责差旅费标准的解释、借款管理和报销审核；局办公室负责出差审批单的备案。",
    ),
    ("h1", "二、出差审批"),
    ("h2", "（一）审批程序"),
    (
        "p",
        "1. 出差人员应当在出发前通过OA系统填报《出差审批单》，写明出差事由、地点、起止日期、人数和拟乘坐的交通工具，并上传会议通知或者工作联系函等依据。",
    ),
    (
        "p",
        "2. 一般工作人员出差由所在处室负责人审批；处室负责人出差由分管局领导审批；局领导出差报局长审批，并在局办公室备案。",
    ),
    (
        "p",
        "3. 出差审批应当在出发前至少2个工作日完成。遇紧急公务来不及事先审批的，可以先电话报告审批人同意后出发，返回后3个工作日内在OA系统补办审批手续。",
    ),
    ("h2", "（二）控制要求"),
    ("p", "1. 单次出差时间一般不超过7天；确需超过7天的，须经分管局领导审批。"),
    ("p", "2. 同一处室同一时段外出参加同一活动的，一般不超过3人。"),
    (
        "p",
        "3. 出差人员应当按审批的地点和日期出行，不得无故绕道、顺访，不得安排与公务无关的参观游览。",
    ),
    ("h1", "三、交通工具标准"),
    ("h2", "（一）乘坐等级"),
    (
        "p",
        "1. 局级领导干部出差，可以乘坐火车软席（软座、软卧）、高铁和动车一等座、轮船二等舱、飞机经济舱。",
    ),
    (
        "p",
        "2. 处级及以下人员出差，可以乘坐火车硬席（硬座、硬卧）、高铁和动车二等座、轮船三等舱、飞机经济舱。",
    ),
    ("p", "3. 未经批准超出标准乘坐交通工具的，超出部分由个人自理。"),
    ("h2", "（二）乘坐飞机"),
    (
        "p",
        "出差目的地距滨江市单程800公里以上，或者乘坐火车单程超过6小时的，经审批可以乘坐飞机经济舱。购买机票应当优先选择国内航空公司航班，在规定的公务机票渠道购买，并按照航班时间合理选择折扣票价。",
    ),
    ("h2", "（三）其他规定"),
    (
        "p",
        "出差人员原则上不得驾驶私人车辆出差。乘坐火车夜间单程超过6小时，或者连续乘车超过12小时的，处级及以下人员可以购买硬卧或者高铁二等座。往返机场、火车站的交通费用已包含在市内交通费中，不另行报销。",
    ),
    ("h1", "四、住宿标准"),
    ("h2", "（一）住宿费标准"),
    (
        "p",
        "1. 局级领导干部出差，住宿费标准为每人每天600元；到北京、上海、广州、深圳出差的，为每人每天700元。",
    ),
    (
        "p",
        "2. 处级及以下人员出差，住宿费标准为每人每天450元；到北京、上海、广州、深圳出差的，为每人每天550元。",
    ),
    ("p", "3. 住宿费在标准以内凭住宿发票据实报销，超出标准的部分由个人自理。"),
    ("h2", "（二）合住规定"),
    (
        "p",
        "处级及以下人员同性别2人以上同行出差的，原则上2人合住一间，合住房间的住宿费在2人住宿费标准之和以内据实报销；单人出差或者同行人员性别不同的，可以单住一间。",
    ),
    ("h2", "（三）不予报销的情形"),
    (
        "p",
        "参加会议、培训等活动由主办单位统一安排住宿的，不得再报销住宿费。出差期间未住宿宾馆（如住在亲友家中），或者不能提供住宿发票的，不报销住宿费，也不发放住宿补贴。",
    ),
    ("h1", "五、伙食补助费和市内交通费"),
    ("h2", "（一）伙食补助费"),
    (
        "p",
        "伙食补助费按出差自然（日历）天数计算，实行定额包干，每人每天100元；到西藏、青海、新疆出差的，每人每天120元。出差人员不需要提供用餐票据。",
    ),
    ("h2", "（二）市内交通费"),
    (
        "p",
        "市内交通费按出差自然（日历）天数计算，每人每天80元包干使用，出差期间的出租车费、网约车费和往返机场、车站的交通费均不再另行报销。接待单位或者会议主办单位提供交通工具的，不发放市内交通费。",
    ),
    ("h2", "（三）会议培训期间"),
    (
        "p",
        "参加会议、培训期间，主办单位统一安排用餐和交通的，会议、培训期间不发放伙食补助费和市内交通费，往返途中的天数按规定发放。接待单位协助安排用餐的，出差人员应当按规定向接待单位交纳伙食费。",
    ),
    ("h2", "（四）出差天数计算"),
    (
        "p",
        "出差天数按离开滨江市和返回滨江市的日期计算，离开和返回当天各计1天；当天往返外地且不住宿的，计1天。住宿费按实际住宿的晚数计算。",
    ),
    ("h1", "六、报销时限与流程"),
    ("h2", "（一）报销时限"),
    ("p", "1. 出差人员应当在出差返回后10个工作日内办理差旅费报销。"),
    (
        "p",
        "2. 超过10个工作日未报销的，须书面说明原因并经处室负责人签字；返回后超过3个月仍未报销的，原则上不再受理。",
    ),
    ("p", "3. 每年12月20日以后发生的差旅费，应当在次年1月15日前完成报销。"),
    ("h2", "（二）报销流程"),
    (
        "p",
        "1. 出差人员在财务报销系统填写《差旅费报销单》，上传出差审批单和全部票据的电子件，并将纸质票据按时间顺序粘贴在A4粘贴单上。",
    ),
    ("p", "2. 处室负责人审核出差事由和天数并签字。"),
    (
        "p",
        "3. 计划财务处在收到完整单据后3个工作日内完成审核；单笔报销金额在5000元以上的，还须经分管财务工作的副局长审批。",
    ),
    ("p", "4. 报销款通过转账方式支付到出差人员的公务卡或者工资卡，不支付现金。"),
    ("h2", "（三）公务卡结算"),
    (
        "p",
        "城市间交通费和住宿费原则上使用公务卡结算。确因对方不能刷卡等原因未使用公务卡的，应当在报销单上注明原因。",
    ),
    ("h1", "七、票据要求"),
    ("h2", "（一）交通票据"),
    (
        "p",
        "1. 乘坐飞机的，提供航空运输电子客票行程单或者电子发票；乘坐火车的，提供铁路电子客票报销凭证或者电子发票。",
    ),
    (
        "p",
        "2. 因公务需要改签、退票所发生的手续费，凭票据据实报销；因个人原因改签、退票的手续费由个人承担。",
    ),
    ("h2", "（二）住宿票据"),
    (
        "p",
        "住宿费须提供增值税发票，发票抬头为“滨江市数据管理局”并注明统一社会信用代码，同时附酒店出具的住宿明细清单（水单）。发票上的入住人数、天数应当与出差审批单一致。",
    ),
    ("h2", "（三）票据遗失"),
    (
        "p",
        "交通票据遗失的，由出差人员写出书面说明，同行人员签字证明，经处室负责人和计划财务处负责人签字后，按照规定等级的交通工具票价报销。住宿发票遗失的，应当向酒店申请补开；无法补开的，住宿费不予报销。",
    ),
    ("h2", "（四）其他要求"),
    (
        "p",
        "电子发票应当在财务报销系统中上传原始文件，系统自动查重，同一张发票不得重复报销。涂改、伪造或者与出差行程不符的票据一律不予报销。",
    ),
    ("h1", "八、差旅借款"),
    ("h2", "（一）借款条件"),
    (
        "p",
        "出差预计费用超过2000元且不便使用公务卡支付的，出差人员可以在出差审批完成后申请差旅借款。",
    ),
    ("h2", "（二）借款额度"),
    (
        "p",
        "借款金额不超过出差预计费用的80%，单次借款最高不超过20000元。借款须经处室负责人审核、计划财务处处长审批。",
    ),
    ("h2", "（三）还款"),
    ("p", "1. 借款人应当在出差返回后10个工作日内，随差旅费报销一并结清借款。"),
    ("p", "2. 借款实行“前款不清、后款不借”，上一笔借款未结清的，不得再次借款。"),
    ("p", "3. 借款逾期1个月未结清的，由计划财务处通知本人，并从其当月工资中扣还。"),
    ("h1", "九、特殊情形处理"),
    ("h2", "（一）延长出差"),
    (
        "p",
        "出差期间因工作需要延长出差时间的，出差人员应当在原定返回日期前报原审批人同意，并在OA系统变更出差审批单；未经同意延长的天数，不报销住宿费、伙食补助费和市内交通费。",
    ),
    ("h2", "（二）出差期间生病"),
    (
        "p",
        "出差期间因病住院的，住院期间的医疗费用按照医疗保险有关规定办理，不列入差旅费；住院期间不发放伙食补助费和市内交通费，出院后返回的交通费按规定报销。",
    ),
    ("h2", "（三）调训和挂职"),
    (
        "p",
        "参加上级单位组织的3个月以上调训，或者到外地挂职锻炼的，按照调训、挂职管理的有关规定执行，不按出差报销差旅费；往返调训、挂职地点的城市间交通费可以按本手册规定的标准报销。",
    ),
    ("h2", "（四）探亲和私事顺路"),
    (
        "p",
        "出差期间顺路探亲、办理私事的，所发生的绕道交通费和多住宿的费用由个人承担，报销时应当如实说明。",
    ),
    ("h1", "十、附则"),
    (
        "p",
        "本手册由计划财务处负责解释，自2024年1月1日起施行。国家和本市调整差旅费标准的，按调整后的标准执行。2018年印发的《滨江市数据管理局差旅费管理暂行规定》同时废止。",
    ),
    ("p", "联系人：计划财务处报销审核岗，内线电话8021。"),
]

CID_FONT = "STSong-Light"


def _register_font() -> str:
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont

    if CID_FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont(CID_FONT))
    return CID_FONT


def _numbered_canvas_class(footer_format: str, header: str | None = None):
    """A canvas that prints a footer with the page number and the total page count."""
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    class NumberedCanvas(canvas.Canvas):
        def __init__(self, *args, **kwargs):
            kwargs.setdefault("invariant", 1)
            super().__init__(*args, **kwargs)
            self._saved_pages: list[dict] = []

        def showPage(self):  # noqa: N802 - reportlab API
            self._saved_pages.append(dict(self.__dict__))
            self._startPage()

        def save(self):
            total = len(self._saved_pages)
            for state in self._saved_pages:
                self.__dict__.update(state)
                self.setFont(CID_FONT, 9)
                width, _ = A4
                self.drawCentredString(
                    width / 2, 28, footer_format.format(page=self._pageNumber, total=total)
                )
                if header:
                    self.drawCentredString(width / 2, A4[1] - 36, header)
                super().showPage()
            super().save()

    return NumberedCanvas


def build_pdf(
    content: list[tuple[str, str]],
    title: str,
    path: Path | io.BytesIO,
    *,
    footer_format: str = "第 {page} 页 共 {total} 页",
    header: str | None = None,
    font_size: float = 12,
    page_breaks_before: tuple[int, ...] = (),
) -> None:
    """Lay ``content`` out on A4 pages; ``("pagebreak", "")`` items force a new page."""
    from reportlab import rl_config
    from reportlab.lib.enums import TA_CENTER
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.platypus import PageBreak, Paragraph, SimpleDocTemplate, Spacer

    rl_config.invariant = 1
    font = _register_font()
    base = ParagraphStyle(
        "body",
        fontName=font,
        fontSize=font_size,
        leading=font_size * 1.7,
        wordWrap="CJK",
        firstLineIndent=0,
        spaceAfter=3,
    )
    styles = {
        "title": ParagraphStyle(
            "title", parent=base, fontSize=20, leading=30, alignment=TA_CENTER, spaceAfter=6
        ),
        "sub": ParagraphStyle("sub", parent=base, fontSize=11, alignment=TA_CENTER, spaceAfter=14),
        "h1": ParagraphStyle(
            "h1",
            parent=base,
            fontSize=font_size + 4,
            leading=(font_size + 4) * 1.6,
            spaceBefore=10,
            spaceAfter=4,
            keepWithNext=1,
        ),
        "h2": ParagraphStyle(
            "h2",
            parent=base,
            fontSize=font_size + 1,
            leading=(font_size + 1) * 1.6,
            spaceBefore=4,
            spaceAfter=2,
            keepWithNext=1,
        ),
        "p": base,
    }
    doc = SimpleDocTemplate(
        path,
        pagesize=A4,
        leftMargin=25 * mm,
        rightMargin=25 * mm,
        topMargin=25 * mm,
        bottomMargin=22 * mm,
        title=title,
        author="滨江市数据管理局",
        subject=title,
        creator="tests/data/make_manuals.py",
        invariant=1,
    )
    story = []
    for i, (kind, text) in enumerate(content):
        if kind == "pagebreak" or i in page_breaks_before:
            story.append(PageBreak())
            if kind == "pagebreak":
                continue
        story.append(Paragraph(text, styles[kind]))
        if kind == "title":
            story.append(Spacer(1, 4))
    doc.build(story, canvasmaker=_numbered_canvas_class(footer_format, header))


def main(argv: list[str]) -> None:
    out = Path(argv[1]) if len(argv) > 1 else REPO / "corpus"
    out.mkdir(parents=True, exist_ok=True)
    build_docx(DOCX_CONTENT, DOCX_TITLE, out / DOCX_NAME)
    build_pdf(PDF_CONTENT, PDF_TITLE, str(out / PDF_NAME))
    print(f"wrote {out / DOCX_NAME}\nwrote {out / PDF_NAME}")


if __name__ == "__main__":
    main(sys.argv)
