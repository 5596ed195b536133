"""Access control on every path, and answers that stay whole while the index is replaced."""

from __future__ import annotations

import json
import shutil
import threading
import time

import pytest
from click.testing import CliRunner
from conftest import corpus_file, make_settings

from assistant.cli import main
from assistant.service import Assistant, Viewer
from ingest.pipeline import IngestOptions, run_ingest

pytestmark = pytest.mark.slow

HR_PHRASE = "青鸾计划"  # unique phrases: the tests look for them everywhere
FIN_PHRASE = "玄武预算"
HR_DOC = "# 内部人事调配细则\n\n第一条 本局干部轮岗按青鸾计划执行，每三年轮岗一次。\n\n第二条 轮岗名单由人事处拟定。\n"
FIN_DOC = "---\ngroups: [finance]\n---\n# 内部经费报销细则\n\n第一条 专项经费实行玄武预算管理，单笔超过五万元须经局长审批。\n"

HR_Q = "《内部人事调配细则》第一条 干部多久轮岗一次？"
FIN_Q = "专项经费单笔超过五万元须经谁审批？"
STAFF = Viewer("bob", frozenset({"staff-only"}))
HR = Viewer("carol", frozenset({"hr"}))
FIN = Viewer("dave", frozenset({"finance"}))


@pytest.fixture(scope="module")
def restricted(tmp_path_factory, builtin):
    src = tmp_path_factory.mktemp("restricted") / "src"
    (src / "人事").mkdir(parents=True)
    shutil.copy(corpus_file("职工带薪年休假条例"), src)
    (src / "人事" / "轮岗细则.md").write_text(HR_DOC, encoding="utf-8")
    (src / "经费细则.md").write_text(FIN_DOC, encoding="utf-8")
    (src / "access.toml").write_text('"人事/**" = ["hr"]\n', encoding="utf-8")
    index = src.parent / "index"
    run_ingest(src, index, IngestOptions(quiet=True), embedder=builtin)
    return src, index


@pytest.fixture
def service(tmp_path, restricted, builtin):
    src, index = restricted
    return Assistant(make_settings(tmp_path, index, source_dir=src), embedder=builtin)


def leaked(obj) -> bool:
    text = json.dumps(obj, ensure_ascii=False, default=str)
    return any(p in text for p in (HR_PHRASE, FIN_PHRASE, "内部人事调配细则", "内部经费报销细则"))


@pytest.mark.parametrize("question", [HR_Q, FIN_Q, "轮岗", "玄武预算是什么"])
def test_staff_gets_nothing_restricted(service, question):
    result = service.search(question, 10, STAFF)
    assert not leaked([h.to_json() for h in result.hits])
    answer = service.ask(question, STAFF)
    assert not leaked(answer.to_json())  # answer, quotes, citations and refusal suggestions


def test_group_members_get_their_documents(service):
    hr = service.ask(HR_Q, HR)
    assert any(HR_PHRASE in c.quote for c in hr.citations)
    assert not any(FIN_PHRASE in c.quote for c in service.ask(FIN_Q, HR).citations)
    fin = service.search(FIN_Q, 5, FIN)
    assert FIN_PHRASE in fin.hits[0].chunk.text
    admin = service.search(FIN_Q, 5, Viewer.admin())
    assert FIN_PHRASE in admin.hits[0].chunk.text


def test_unauthorised_question_is_answered_as_if_the_document_did_not_exist(
    service, restricted, tmp_path, builtin
):
    src, _ = restricted
    without = tmp_path / "without"
    shutil.copytree(src, without, ignore=shutil.ignore_patterns("人事"))
    run_ingest(without, tmp_path / "ix", IngestOptions(quiet=True), embedder=builtin)
    other = Assistant(
        make_settings(tmp_path, tmp_path / "ix", source_dir=without), embedder=builtin
    )
    for question in (HR_Q, "干部多久轮岗一次？"):
        staff = service.ask(question, STAFF)
        assert not leaked(staff.to_json())
        absent = other.ask(question, STAFF)
        assert staff.refused == absent.refused
        assert [c.chunk_id for c in staff.citations] == [c.chunk_id for c in absent.citations]


def test_source_viewer_and_passages_obey_groups(service):
    hr_hit = service.search(HR_Q, 1, HR).hits[0]
    assert service.document(hr_hit.chunk.doc_id, STAFF) is None
    assert service.chunk(hr_hit.chunk.id, STAFF) is None
    info, text = service.document(hr_hit.chunk.doc_id, HR)
    assert HR_PHRASE in text and info.groups == ("hr",)
    assert service.document("../../etc/passwd", Viewer.admin()) is None
    assert all(d.groups == () for d in service.documents(STAFF))


def test_cli_groups_and_user_flags(restricted, tmp_path, tmp_models_dir, monkeypatch):
    src, index = restricted
    monkeypatch.setenv("POLICYQA_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("POLICYQA_MODELS_DIR", str(tmp_models_dir))
    runner = CliRunner()
    added = runner.invoke(main, ["users", "add", "erin", "--groups", "finance"], input="pw123456\n")
    assert added.exit_code == 0, added.output
    for args, visible in (
        (["--groups", "staff-only"], False),
        (["--groups", "hr"], True),
        (["--user", "erin"], False),
    ):
        for command in ("search", "ask"):
            as_json = ["--json"] if command == "ask" else []
            out = runner.invoke(main, [command, "--index", str(index), *args, HR_Q, *as_json])
            assert out.exit_code == 0, out.output
            assert (HR_PHRASE in out.output) == visible, (command, args, out.output)
    out = runner.invoke(main, ["search", "--index", str(index), "--user", "erin", FIN_Q])
    assert FIN_PHRASE in out.output


def test_answers_stay_whole_while_the_index_is_replaced(tmp_path, builtin):
    """Questions keep coming while an ingest changes a document: each answer comes from the old
    or the new generation, none fails, and afterwards the new text is what is cited."""
    src = tmp_path / "src"
    src.mkdir()
    for name in ("职工带薪年休假条例", "政府信息公开条例", "档案法("):
        shutil.copy(corpus_file(name), src)
    index = tmp_path / "index"
    run_ingest(src, index, IngestOptions(quiet=True), embedder=builtin)
    service = Assistant(make_settings(tmp_path, index, source_dir=src), embedder=builtin)
    question = "《职工带薪年休假条例》第三条"
    old_text = service.ask(question).citations[0].quote
    assert "年休假5天" in old_text
    leave = corpus_file("职工带薪年休假条例").name
    (src / leave).write_text(
        (src / leave).read_text("utf-8").replace("年休假5天", "年休假6天"), encoding="utf-8"
    )
    seen, errors, stop = [], [], threading.Event()

    def ask_forever():
        while not stop.is_set():
            try:
                quote = service.ask(question).citations[0].quote
                seen.append(
                    "new" if "年休假6天" in quote else "old" if "年休假5天" in quote else "?"
                )
            except Exception as exc:  # noqa: BLE001 - the test records any failure
                errors.append(repr(exc))

    worker = threading.Thread(target=ask_forever)
    worker.start()
    try:
        time.sleep(0.3)
        report = service.reingest()
        time.sleep(0.5)
    finally:
        stop.set()
        worker.join(30)
    assert not errors and report.ingested == (leave,)
    assert seen and "?" not in seen and seen[-1] == "new"
    assert seen == sorted(seen, key=lambda s: s == "new")  # old answers, then new ones only
    assert "年休假6天" in service.ask(question).citations[0].quote
