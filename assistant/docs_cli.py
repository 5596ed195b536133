"""``policyqa docs``: add, remove, list the trash, restore -- the admin console's document
actions from the command line, through the same ``Assistant.library`` and followed by an
incremental ingest (``--no-ingest`` to skip it)."""

from __future__ import annotations

import functools
from pathlib import Path

import click

from .library import Upload


def _assistant(ctx: click.Context, source_dir: Path | None):
    from .cli import settings_of
    from .service import Assistant

    return Assistant(settings_of(ctx, source_dir=source_dir))


def _handled(fn):
    """``cli.handled`` (one-line errors), looked up when called: cli imports this module."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        from .cli import handled

        return handled(fn)(*args, **kwargs)

    return wrapper


def _ingest(service, skip: bool) -> None:
    if not skip:
        click.echo(service.reingest().summary())


source_option = click.option(
    "--source",
    "source_dir",
    type=click.Path(path_type=Path),
    help="Source folder (POLICYQA_SOURCE_DIR).",
)
no_ingest = click.option("--no-ingest", is_flag=True, help="Do not re-ingest afterwards.")


@click.group()
def docs() -> None:
    """Add, replace, remove and restore documents in the source folder."""


@docs.command("add")
@click.argument(
    "files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path)
)
@click.option("--folder", default="", help="Existing subfolder to save into (default: the top).")
@click.option(
    "--replace",
    "replace_existing",
    is_flag=True,
    help="Replace documents with the same name (the old file goes to the trash).",
)
@source_option
@no_ingest
@click.pass_context
@_handled
def docs_add(ctx, files, folder, replace_existing, source_dir, no_ingest) -> None:
    """Save FILES into the source folder; each is read first and its groups are shown."""
    service = _assistant(ctx, source_dir)
    result = service.library.add(
        [Upload(f, f.name) for f in files], folder, replace_existing=replace_existing
    )
    for p in result.saved:
        groups = ",".join(p.groups) or "all"
        click.echo(
            f"saved {p.target}  《{p.title}》  groups: {groups}"
            + ("  (replaced; old file in the trash)" if p.replaces else "")
        )
    for p in result.refused:
        click.echo(f"refused {p.name}: {p.problem}", err=True)
    if result.saved:
        _ingest(service, no_ingest)
    if result.refused:
        raise SystemExit(1)


@docs.command("remove")
@click.argument("source")
@click.option("--yes", is_flag=True, help="Confirm the removal (the file goes to the trash).")
@source_option
@no_ingest
@click.pass_context
@_handled
def docs_remove(ctx, source, yes, source_dir, no_ingest) -> None:
    """Move SOURCE (a path relative to the source folder) to the trash."""
    if not yes:
        raise click.UsageError("add --yes to confirm / 请加 --yes 确认删除")
    service = _assistant(ctx, source_dir)
    entry = service.library.remove(source)
    click.echo(f"removed {entry.source} (trash entry {entry.id})")
    _ingest(service, no_ingest)


@docs.command("trash")
@source_option
@click.pass_context
def docs_trash(ctx, source_dir) -> None:
    """List replaced and removed files, newest first."""
    for e in _assistant(ctx, source_dir).library.trash():
        click.echo(f"{e.id}\t{e.reason}\t{e.at}\t{e.source}")


@docs.command("restore")
@click.argument("entry_id")
@source_option
@no_ingest
@click.pass_context
@_handled
def docs_restore(ctx, entry_id, source_dir, no_ingest) -> None:
    """Put a trashed file back (what is now at its place goes to the trash)."""
    service = _assistant(ctx, source_dir)
    entry = service.library.restore(entry_id)
    click.echo(f"restored {entry.source}")
    _ingest(service, no_ingest)
