"""The admin console's document forms: Gradio's uploads as ``Upload`` records, their temp
copies deleted once handled, the preview (target, title, groups) and the result as text.
The files themselves are written only by ``assistant.library``."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from assistant.library import AddResult, Planned, Upload

from .render import esc


def uploads_of(files: list | None) -> list[Upload]:
    """Gradio's file values (paths in its temp folder, named as sent) as ``Upload`` records."""
    items = []
    for item in files or []:
        raw = item if isinstance(item, str) else getattr(item, "name", None) or item["path"]
        path = Path(raw)
        items.append(Upload(path, getattr(item, "orig_name", None) or path.name))
    return items


def discard_uploads(items: Sequence[Upload]) -> None:
    """Delete Gradio's temp copies once handled (saved or refused), so nothing uploaded stays
    fetchable through ``/gradio_api/file=``; only files inside Gradio's upload folder."""
    from gradio.utils import get_upload_folder

    folder = Path(get_upload_folder()).resolve()
    for item in items:
        path = Path(item.path)
        try:
            if not path.resolve().is_relative_to(folder) or path.resolve() == folder:
                continue
            path.unlink(missing_ok=True)
            if path.parent.resolve() != folder:
                path.parent.rmdir()  # Gradio keeps each upload in a folder of its own
        except OSError:
            continue


def render_plan(planned: Sequence[Planned], t: Mapping[str, str]) -> str:
    """The preview before saving: where each file goes, its title and who can read it."""
    if not planned:
        return t["preview_none"]
    lines = []
    for p in planned:
        if not p.ok:
            lines.append(t["preview_refused"].format(name=p.name, problem=p.problem))
            continue
        groups = "、".join(p.groups) if p.groups else t["preview_all"]
        line = t["preview_row"].format(target=p.target, title=p.title, groups=groups)
        lines.append(line + (t["preview_replaces"] if p.replaces else ""))
    return "\n\n".join("- " + esc(line) for line in lines)


def add_summary(result: AddResult, t: Mapping[str, str]) -> list[str]:
    lines = []
    if result.saved:
        lines.append(t["uploaded"].format(names="、".join(p.target for p in result.saved)))
    if result.refused:
        items = "、".join(f"{p.name}（{p.problem}）" for p in result.refused)
        lines.append(t["rejected"].format(items=items))
    return lines
