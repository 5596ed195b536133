"""Document access labels: which groups may read a document.

Sources, merged (union):
- ``access.toml`` in the source folder: glob patterns (relative paths, ``**`` allowed) mapped to
  group lists, at top level or under ``[access]``::

      "人事/**" = ["hr"]
      "财务制度.md" = ["finance"]

- Markdown front matter: ``groups: [hr, finance]`` (or ``access:``) between ``---`` lines.

A document with no label is readable by every logged-in user.
"""

from __future__ import annotations

import fnmatch
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

from .errors import PolicyQAError

ACCESS_FILE = "access.toml"
_FRONT_MATTER = re.compile(r"\A---[ \t]*\n(.*?)\n---[ \t]*(?:\n|\Z)", re.S)
_GROUP_LINE = re.compile(r"^\s*(?:groups|access)\s*:\s*(.+?)\s*$", re.M)


def split_front_matter(text: str) -> tuple[str, tuple[str, ...], int]:
    """Return (text without front matter, groups it names, length removed)."""
    m = _FRONT_MATTER.match(text)
    if not m:
        return text, (), 0
    groups: tuple[str, ...] = ()
    line = _GROUP_LINE.search(m.group(1))
    if line:
        groups = parse_groups(line.group(1).strip("[]"))
    return text[m.end() :], groups, m.end()


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

    def groups_for(self, source: str, declared: tuple[str, ...] = ()) -> tuple[str, ...]:
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
