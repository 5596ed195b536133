"""The title of a document whose format marks none: the line before the body that names a kind
of regulation, not the breadcrumb, 版头, company name or 国务院令 above it."""

from __future__ import annotations

from pathlib import Path

import pytest

from ingest.titles import (
    choose_title,
    kind_part,
    kind_title,
    title_from_first_line,
    web_page_title,
)

HEADS = {
    "red-header document": (
        "滨江市人民政府办公室文件\n滨政办发〔2024〕12号\n"
        "滨江市人民政府办公室关于印发滨江市公务接待管理办法的通知\n"
        "各区人民政府，市各委办局：\n现将《滨江市公务接待管理办法》印发给你们。\n",
        "滨江市人民政府办公室关于印发滨江市公务接待管理办法的通知",
    ),
    "company above its rule": (
        "江屿科技有限公司\n员工考勤管理制度（试行）\n第一章 总则\n第一条 为规范考勤，制定本制度。",
        "员工考勤管理制度（试行）",
    ),
    "title wrapped after 关于": (
        "国务院关于国家行政机关和企业事业单位\n社会团体印章管理的规定\n第一条 为了加强印章管理。",
        "国务院关于国家行政机关和企业事业单位社会团体印章管理的规定",
    ),
    "title wrapped after 的": (
        "国务院关于国家行政机关和企业事业单位社会团体印章管理的\n规定\n第一条 为了加强印章管理。",
        "国务院关于国家行政机关和企业事业单位社会团体印章管理的规定",
    ),
    "State Council order above the regulation": (
        "中华人民共和国国务院令\n第 446 号\n《信访条例》已经2005年1月5日国务院第76次常务会议通过，"
        "现予公布，自2005年5月1日起施行。\n总理　温家宝\n二〇〇五年一月十日\n信访条例\n"
        "第一章　总则\n第一条 为了保持各级人民政府同人民群众的密切联系。",
        "信访条例",
    ),
    "breadcrumb of a printed web page": (
        "首页 > 政策文件\n中华人民共和国审计法（2021年修正）\n第一章 总则\n第一条 为了加强审计监督。",
        "中华人民共和国审计法（2021年修正）",
    ),
}


@pytest.mark.parametrize("case", HEADS)
def test_the_title_is_the_line_naming_a_kind_of_regulation(case):
    text, want = HEADS[case]
    assert kind_title(text) == want
    assert choose_title(text, Path("scan-0001.pdf"), first_line_ok=True) == want


def test_a_clause_heading_in_the_body_is_not_taken_for_the_title():
    text = "员工福利\n一、适用范围\n本办法适用于全体员工。\n二、福利规定\n"
    assert kind_title(text) is None
    assert choose_title(text, Path("员工福利.txt"), first_line_ok=True) == "员工福利"


def test_without_a_kind_the_file_name_then_the_first_line():
    text = "年度工作安排\n本年度重点如下。\n"
    assert choose_title(text, Path("考勤管理办法(2024-01-05).pdf"), first_line_ok=True) == (
        "考勤管理办法"
    )
    assert choose_title(text, Path("scan-0001.pdf"), first_line_ok=True) == "年度工作安排"
    # Word without heading styles: the first line is not trusted, the file's name is
    assert choose_title(text, Path("安排.docx"), first_line_ok=False) == "安排"
    assert title_from_first_line("为加强管理，制定本规定。\n") is None


def test_a_web_page_title_drops_the_site_s_name():
    text = "首页 > 法律法规\n这是正文的第一句话。\n"
    assert (
        web_page_title(text, "中华人民共和国审计法_法律法规_中国政府网") == "中华人民共和国审计法"
    )
    assert web_page_title(text, "政府网站 | 信访条例") == "信访条例"
    assert web_page_title(text, "通知公告 - 本局动态") == "通知公告"
    assert web_page_title("公务接待管理办法\n第一条 为规范接待。", "首页") == "公务接待管理办法"
    assert web_page_title(text, None) is None


def test_a_title_set_in_two_lines_is_joined_unless_the_first_is_an_organisation():
    title = "国家行政机关及其工作人员在国内公务活动中不得赠送和接受礼品的规定"
    two_lines = f"{title[:20]}\n{title[20:]}\n第一条 为了加强廉政建设。"
    assert kind_title(two_lines) == title
    for above in (
        "滨江市人民政府办公室",
        "江屿科技有限公司",
        "首页 > 政策文件",
        "二〇〇五年一月十日",
    ):
        assert kind_title(f"{above}\n员工考勤管理制度\n第一条 为规范考勤。") == "员工考勤管理制度"


def test_a_pdf_s_declared_title_or_its_file_name_when_no_line_names_a_kind():
    glued = "您好，欢迎访问！ 首页 > 政策 > 行政法规机关团体建设楼堂馆所管理条例发布时间：2017\n"
    text = glued + "第一章 总则\n第一条 为了严格控制楼堂馆所，制定本条例。"
    declared = "机关团体建设楼堂馆所管理条例_政策法规_国家机关事务管理局"
    pdf = Path("打印本页.pdf")
    assert choose_title(text, pdf, first_line_ok=True, declared=declared) == (
        "机关团体建设楼堂馆所管理条例"
    )
    assert choose_title(text, pdf, first_line_ok=True, declared="Microsoft Word - 附件1") == (
        "打印本页"
    )
    saved = Path("行政法规制定程序条例_国务院文件_中国政府网.pdf")
    assert choose_title(text, saved, first_line_ok=True) == "行政法规制定程序条例"
    assert kind_part("国务院行政机构设置和编制管理条例--滨海市机构编制网") == (
        "国务院行政机构设置和编制管理条例"
    )
