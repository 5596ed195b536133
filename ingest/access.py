"""Document access labels: which groups may read a document.

Sources, merged (union):
- ``access.toml`` in the source folder: glob patterns (relative paths, ``**`` allowed) mapped to
  group lists, at top level or under ``[access]``::

      "人事/**" = ["hr"]
      "财务制度.md" = ["finance"]

- Markdown front matter: ``groups: [hr, finance]`` (or ``access:``, any case, or a YAML block
  list) between ``---`` lines. Front matter that cannot be read fails closed: the file is skipped.

A document with no label is readable by every logged-in user. A symlink inside the source folder
is labelled by its own path and by its target's: a reader must be allowed by both.
"""

from __future__ import annotations

import fnmatch
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

import yaml

from .errors import LoadError, PolicyQAError

ACCESS_FILE = "access.toml"
# a block opened by "---" on the first line and closed by the next "---" (or "...") line
_OPENING = re.compile(r"\A---[ \t]*\r?\n")
_CLOSING = re.compile(r"^(?:---|\.\.\.)[ \t]*(?:\r?\n|\Z)", re.M)
_GROUP_KEYS = ("groups", "access")


def split_front_matter(text: str) -> tuple[str, tuple[str, ...], int]:
    """Return (text without front matter, groups it names, length removed).

    The block is YAML (LF or CRLF line ends); ``groups:`` / ``access:`` (any case) hold a list
    or a comma-separated string. A block that cannot be read raises ``LoadError``: the file is
    skipped rather than published without the groups it may have meant to declare.
    """
    opening = _OPENING.match(text)
    if not opening:
        return text, (), 0
    closing = _CLOSING.search(text, opening.end())
    if closing is None:
        raise LoadError("front matter never closed (no second '---' line) / 文件头未闭合，已跳过")
    try:
        data = yaml.safe_load(text[opening.end() : closing.start()])
    except yaml.YAMLError as exc:
        where = getattr(exc, "problem_mark", None)
        line = f" at line {where.line + 2}" if where is not None else ""
        raise LoadError(f"front matter is not valid YAML{line} / 文件头无法解析，已跳过") from exc
    if data is None:
        return text[closing.end() :], (), closing.end()
    if not isinstance(data, dict):
        raise LoadError("front matter is not a key: value block / 文件头格式无效，已跳过")
    found: set[str] = set()
    for key, value in data.items():
        if str(key).strip().lower() in _GROUP_KEYS:
            found.update(_group_list(value))
    return text[closing.end() :], tuple(sorted(found)), closing.end()


def _group_list(value: object) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return parse_groups(value)
    if isinstance(value, list | tuple) and all(isinstance(v, str | int) for v in value):
        return parse_groups([str(v) for v in value])
    raise LoadError(
        "front matter groups must be a list of names / 文件头 groups 应为组名列表，已跳过"
    )


def parse_groups(value: str | list | tuple | None) -> tuple[str, ...]:
    """'hr, finance' or ['hr', 'finance'] -> ('finance', 'hr'): sorted, unique, trimmed."""
    if value is None:
        return ()
    items = value if isinstance(value, list | tuple) else re.split(r"[,，\s]+", str(value))
    return tuple(sorted({str(i).strip().strip("'\"") for i in items if str(i).strip()}))


@dataclass(frozen=True)
class AccessRules:
    patterns: tuple[tuple[str, tuple[str, ...]], ...] = ()

    @classmethod
    def load(cls, source_dir: Path) -> AccessRules:
        path = source_dir / ACCESS_FILE
        if not path.is_file():
            return cls()
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
            raise PolicyQAError(f"access.toml 无法解析：{exc} / cannot parse access.toml") from exc
        table = data.get("access", data)
        rules = []
        for pattern, groups in table.items():
            if not isinstance(groups, list | str):
                raise PolicyQAError(f"access.toml: {pattern!r} 应为组列表 / must map to a list")
            rules.append((pattern, parse_groups(groups)))
        return cls(tuple(rules))

    def groups_for(
        self, source: str, declared: tuple[str, ...] = (), target: str | None = None
    ) -> tuple[str, ...]:
        """Groups of ``source`` (its patterns plus the groups it declares). For a symlink,
        ``target`` is the real file's path: a reader must be allowed by both, so the link gets
        the groups they share (``conflicts`` tells when they share none)."""
        own = self._matching(source, declared)
        if target is None:
            return own
        real = self._matching(target, declared)
        if not own or not real:
            return own or real
        return tuple(sorted(set(own) & set(real)))

    def conflicts(self, link: str, target: str) -> bool:
        """True when a link and its target are both labelled but share no group."""
        own, real = self._matching(link), self._matching(target)
        return bool(own and real and not set(own) & set(real))

    def _matching(self, source: str, declared: tuple[str, ...] = ()) -> tuple[str, ...]:
        found = set(declared)
        for pattern, groups in self.patterns:
            if fnmatch.fnmatchcase(source, pattern) or fnmatch.fnmatchcase(
                source, pattern.replace("**/", "")
            ):
                found.update(groups)
        return tuple(sorted(found))


def can_read(chunk_groups: tuple[str, ...], user_groups: frozenset[str] | None) -> bool:
    """``user_groups`` None means unrestricted (admins, or the CLI without --groups)."""
    return user_groups is None or not chunk_groups or bool(user_groups.intersection(chunk_groups))
