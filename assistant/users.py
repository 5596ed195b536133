"""The users file: ``data_dir / "users.json"`` with salted argon2 password hashes.

Format (mode 0600, replaced atomically on every change)::

    {"version": 1, "users": {"张三": {"role": "staff", "groups": ["hr"], "hash": "$argon2id$...",
                                   "sessions": 2}}}

``sessions`` counts password changes: the web app ends every session opened before the last
one (and every session of a removed user).

No plaintext password is ever written, logged, raised or shown in a repr. Writers take an
exclusive ``fcntl.flock`` on the side file ``users.json.lock`` and re-read the file under it, so
two CLI processes changing users at once cannot lose each other's changes.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from ingest.access import parse_groups
from ingest.errors import PolicyQAError

ROLES = ("staff", "admin")
MIN_PASSWORD = 6
MAX_NAME = 64
_NAME_EXTRA = "._-"
_FORMAT = 1


class UserError(PolicyQAError):
    """A user operation failed (bad name, duplicate, short password...). Never holds a password."""


@dataclass(frozen=True)
class User:
    name: str
    role: str  # "staff" | "admin"
    groups: tuple[str, ...] = ()

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"


def check_name(name: object, zh: str = "用户名", en: str = "user name") -> str:
    """1-64 characters: letters, digits (CJK included), '.', '_', '-'."""
    if not isinstance(name, str) or not 1 <= len(name) <= MAX_NAME:
        raise UserError(f"{zh}需为 1–{MAX_NAME} 个字符 / {en} must be 1–{MAX_NAME} characters")
    if not all(ch.isalnum() or ch in _NAME_EXTRA for ch in name):
        raise UserError(
            f"{zh}只能包含字母、数字、汉字及 . _ -：{name!r} / "
            f"{en} may only contain letters, digits, CJK and . _ -"
        )
    return name


def _check_password(password: object) -> str:
    if not isinstance(password, str) or len(password) < MIN_PASSWORD:
        raise UserError(
            f"密码至少需要 {MIN_PASSWORD} 个字符 / password must be at least "
            f"{MIN_PASSWORD} characters"
        )
    return password


def _check_role(role: object) -> str:
    if role not in ROLES:
        raise UserError(f"角色必须是 staff 或 admin，收到 {role!r} / role must be staff or admin")
    return str(role)


def _check_groups(groups: object) -> tuple[str, ...]:
    if isinstance(groups, str):
        groups = parse_groups(groups)
    elif groups is None:
        groups = ()
    else:
        groups = parse_groups([str(g) for g in groups])  # type: ignore[union-attr]
    for group in groups:
        check_name(group, "组名", "group name")
    return groups


class UserStore:
    """Users in one JSON file. Every call reads the file again: other processes may change it."""

    def __init__(self, path: Path, hasher: PasswordHasher | None = None):
        self.path = Path(path)
        self._lock_path = self.path.with_name(self.path.name + ".lock")
        self._hasher = hasher or PasswordHasher()
        self._dummy_hash: str | None = None

    def __repr__(self) -> str:
        return f"UserStore({str(self.path)!r})"

    # --- reading ---

    def exists(self) -> bool:
        return self.path.is_file()

    @property
    def empty(self) -> bool:
        """True when there is no users file or it holds no user."""
        return not self._load()

    def list(self) -> list[User]:
        return [_user(name, rec) for name, rec in sorted(self._load().items())]

    def get(self, name: str) -> User | None:
        rec = self._load().get(name)
        return _user(name, rec) if rec is not None else None

    def session_epoch(self, name: str) -> int | None:
        """The user's session counter (raised by every password change); None when the user
        does not exist. The web app ends sessions opened under an older counter."""
        rec = self._load().get(name)
        return int(rec.get("sessions", 0)) if rec is not None else None

    def authenticate(self, name: str, password: str) -> User | None:
        """The user when ``password`` is theirs, else None (unknown user, wrong password).

        An unknown name still costs one hash verification, so timing does not tell which names
        exist. A hash made with older parameters is upgraded on a successful login.
        """
        if not isinstance(name, str) or not isinstance(password, str):
            return None
        rec = self._load().get(name)
        stored = rec.get("hash", "") if rec is not None else ""
        if rec is None or not stored:
            with contextlib.suppress(VerificationError, InvalidHashError):
                self._hasher.verify(self._dummy(), password)
            return None
        try:
            self._hasher.verify(stored, password)
        except (VerificationError, InvalidHashError):
            return None
        if self._hasher.check_needs_rehash(stored):
            new_hash = self._hasher.hash(password)

            def rehash(users: dict) -> None:
                current = users.get(name)
                if current is not None and current.get("hash") == stored:  # not changed meanwhile
                    current["hash"] = new_hash

            with contextlib.suppress(OSError, UserError):  # a read-only file still logs in
                self._update(rehash)
        return _user(name, rec)

    # --- changing ---

    def add(self, name: str, password: str, role: str = "staff", groups=()) -> User:
        check_name(name)
        _check_password(password)
        role = _check_role(role)
        groups = _check_groups(groups)
        digest = self._hasher.hash(password)  # outside the lock: hashing is the slow part

        def add(users: dict) -> None:
            if name in users:
                raise UserError(f"用户已存在：{name} / user already exists: {name}")
            users[name] = {"role": role, "groups": list(groups), "hash": digest}

        self._update(add)
        return User(name, role, groups)

    def set_password(self, name: str, password: str) -> None:
        _check_password(password)
        digest = self._hasher.hash(password)

        def change(users: dict) -> None:
            record = self._existing(users, name)
            record["hash"] = digest
            record["sessions"] = int(record.get("sessions", 0)) + 1  # ends open sessions

        self._update(change)

    def set_groups(self, name: str, groups) -> User:
        groups = _check_groups(groups)

        def change(users: dict) -> None:
            self._existing(users, name)["groups"] = list(groups)

        return _user(name, self._update(change)[name])

    def set_role(self, name: str, role: str) -> User:
        role = _check_role(role)

        def change(users: dict) -> None:
            self._existing(users, name)["role"] = role

        return _user(name, self._update(change)[name])

    def remove(self, name: str) -> None:
        def drop(users: dict) -> None:
            self._existing(users, name)
            del users[name]

        self._update(drop)

    # --- internals ---

    @staticmethod
    def _existing(users: dict, name: str) -> dict:
        if name not in users:
            raise UserError(f"没有这个用户：{name} / no such user: {name}")
        return users[name]

    def _dummy(self) -> str:
        if self._dummy_hash is None:
            self._dummy_hash = self._hasher.hash(os.urandom(16).hex())
        return self._dummy_hash

    def _load(self) -> dict[str, dict]:
        try:
            raw = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return {}
        except OSError as exc:
            raise UserError(
                f"无法读取用户文件 {self.path}：{exc.strerror} / cannot read users file"
            ) from None
        try:
            data = json.loads(raw) if raw.strip() else {}
            users = data.get("users", {}) if data else {}
            if not isinstance(users, dict) or not all(isinstance(v, dict) for v in users.values()):
                raise ValueError("users must be an object of objects")
        except (ValueError, AttributeError):
            raise UserError(f"用户文件已损坏：{self.path} / users file is corrupt") from None
        return users

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self._lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)  # closing releases the lock

    def _update(self, change: Callable[[dict], None]) -> dict[str, dict]:
        """Lock, re-read, apply ``change`` (may raise UserError), write back atomically."""
        try:
            with self._locked():
                users = self._load()
                change(users)
                self._save(users)
                return users
        except OSError as exc:
            raise UserError(
                f"无法写入用户文件 {self.path}：{exc.strerror} / cannot write users file"
            ) from None

    def _save(self, users: dict[str, dict]) -> None:
        data = {"version": _FORMAT, "users": users}
        text = json.dumps(data, ensure_ascii=False, indent=2, sort_keys=True) + "\n"
        fd, tmp = tempfile.mkstemp(prefix=".users-", suffix=".tmp", dir=self.path.parent)
        try:
            os.fchmod(fd, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(text)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, self.path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise


def _user(name: str, rec: dict) -> User:
    return User(name, str(rec.get("role", "staff")), tuple(rec.get("groups", ())))
