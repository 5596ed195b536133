"""The ``policyqa`` console command, composed at the top: the core commands of
``assistant.cli`` (ingest, search, ask, eval, status, users, audit, docs) plus ``serve``, which
starts the web app (``ui``). The layers stay one-way: ``ui``/``webui`` use ``assistant``, and
``assistant`` imports nothing from them; only this module sees both.

    policyqa ...            (console script: policyqa:main)
    python -m policyqa ...
"""

from __future__ import annotations

import copy
from pathlib import Path

import click

from assistant import cli


@click.command()
@click.option("--index", "index_dir", type=click.Path(path_type=Path), help="Index folder.")
@click.option("--source", "source_dir", type=click.Path(path_type=Path), help="Source folder.")
@click.option("--host", help="Address to listen on (default 127.0.0.1).")
@click.option("--port", type=int, help="Port (default 7860).")
@click.option("--no-auth", is_flag=True, help="No login (single-user demo).")
@click.pass_context
@cli.handled
def serve(ctx, index_dir, source_dir, host, port, no_auth) -> None:
    """Start the web app (ingests the source folder first when there is no index)."""
    import ui

    s = cli.settings_of(
        ctx,
        index_dir=index_dir,
        source_dir=source_dir,
        host=host,
        port=port,
        auth=False if no_auth else None,
    )
    ui.serve(s)


def compose(core: click.Group, *extra: click.Command) -> click.Group:
    """A copy of the ``core`` group (its options, help and commands) with ``extra`` commands
    added; ``core`` itself is left as it is."""
    group = copy.copy(core)
    group.commands = {**core.commands, **{command.name: command for command in extra}}
    return group


main = compose(cli.main, serve)

if __name__ == "__main__":
    main()
