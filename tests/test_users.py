"""The users file: argon2 hashes, atomic 0600 writes, validation, concurrent writers."""

from __future__ import annotations

import json
import multiprocessing
import stat

import pytest
from argon2 import PasswordHasher

from assistant.users import User, UserError, UserStore
from ingest.errors import PolicyQAError

# Cheap argon2 parameters keep the tests fast; the store's default hasher is the real one.
FAST = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
SECRET = "Tr0ub4dor&3-正确马"


@pytest.fixture
def store(tmp_path):
    return UserStore(tmp_path / "data" / "users.json", hasher=FAST)


def test_add_and_authenticate(store):
    assert not store.exists()
    assert store.empty
    user = store.add("张三", SECRET, role="staff", groups=["hr", "finance", "hr"])
    assert user == User("张三", "staff", ("finance", "hr"))
    assert store.exists() and not store.empty
    assert store.authenticate("张三", SECRET) == user
    assert store.get("张三") == user
    assert store.get("nobody") is None


def test_wrong_password_and_unknown_user_fail(store):
    store.add("alice", SECRET)
    assert store.authenticate("alice", SECRET + "x") is None
    assert store.authenticate("alice", "") is None
    assert store.authenticate("bob", SECRET) is None
    assert store.authenticate("alice", None) is None  # type: ignore[arg-type]


def test_duplicate_name_is_an_error(store):
    store.add("alice", SECRET)
    with pytest.raises(UserError, match="already exists") as err:
        store.add("alice", "another-password")
    assert isinstance(err.value, PolicyQAError)
    assert "已存在" in str(err.value)  # bilingual


@pytest.mark.parametrize("password", ["", "12345", None])
def test_short_password_is_rejected_without_echoing_it(store, password):
    with pytest.raises(UserError, match="at least 6") as err:
        store.add("alice", password)
    if password:
        assert password not in str(err.value)
    assert not store.exists()


@pytest.mark.parametrize(
    "name", ["", "a" * 65, "has space", "semi;colon", "slash/name", "tab\tname", "new\nline"]
)
def test_bad_names_are_rejected(store, name):
    with pytest.raises(UserError):
        store.add(name, SECRET)


@pytest.mark.parametrize("name", ["a", "a" * 64, "王小明", "j.doe", "li_si-2", "佐藤.A"])
def test_good_names_are_accepted(store, name):
    assert store.add(name, SECRET).name == name


def test_bad_role_and_bad_group(store):
    with pytest.raises(UserError, match="role"):
        store.add("alice", SECRET, role="root")
    with pytest.raises(UserError, match="group"):
        store.add("alice", SECRET, groups=["ok", "bad group!"])
    assert store.get("alice") is None


def test_file_has_no_plaintext_password_and_mode_0600(store):
    store.add("alice", SECRET, role="admin")
    store.add("bob", "bob-password-42")
    raw = store.path.read_bytes()
    assert SECRET.encode() not in raw
    assert b"bob-password-42" not in raw
    assert b"$argon2id$" in raw
    assert stat.S_IMODE(store.path.stat().st_mode) == 0o600
    data = json.loads(raw)
    assert set(data["users"]) == {"alice", "bob"}
    # No leftover temp files next to it
    assert sorted(p.name for p in store.path.parent.iterdir()) == ["users.json", "users.json.lock"]


def test_same_password_gets_different_salted_hashes(store):
    store.add("alice", SECRET)
    store.add("bob", SECRET)
    users = json.loads(store.path.read_text(encoding="utf-8"))["users"]
    assert users["alice"]["hash"] != users["bob"]["hash"]


def test_repr_never_shows_a_password(store):
    user = store.add("alice", SECRET)
    assert SECRET not in repr(user) and SECRET not in repr(store)
    assert SECRET not in repr(store.list())


def test_set_password(store):
    store.add("alice", SECRET)
    store.set_password("alice", "new-password")
    assert store.authenticate("alice", SECRET) is None
    assert store.authenticate("alice", "new-password") is not None
    with pytest.raises(UserError):
        store.set_password("alice", "short")
    with pytest.raises(UserError, match="no such user"):
        store.set_password("ghost", "new-password")
    assert stat.S_IMODE(store.path.stat().st_mode) == 0o600


def test_set_groups_and_role(store):
    store.add("alice", SECRET, groups=["hr"])
    assert store.set_groups("alice", "finance, 法务").groups == ("finance", "法务")
    assert store.get("alice").groups == ("finance", "法务")
    assert store.set_groups("alice", ()).groups == ()
    assert store.set_role("alice", "admin").is_admin
    with pytest.raises(UserError):
        store.set_groups("ghost", ["hr"])


def test_remove_and_list(store):
    for name in ("carol", "alice", "bob"):
        store.add(name, SECRET)
    assert [u.name for u in store.list()] == ["alice", "bob", "carol"]
    store.remove("bob")
    assert [u.name for u in store.list()] == ["alice", "carol"]
    assert store.authenticate("bob", SECRET) is None
    with pytest.raises(UserError, match="no such user"):
        store.remove("bob")
    store.remove("alice")
    store.remove("carol")
    assert store.exists() and store.empty and store.list() == []


def test_a_new_store_sees_changes_from_another(store):
    store.add("alice", SECRET)
    other = UserStore(store.path, hasher=FAST)
    other.remove("alice")
    assert store.get("alice") is None


def test_login_upgrades_a_weak_hash(store):
    store.add("alice", SECRET)  # made with the cheap FAST parameters
    before = json.loads(store.path.read_text(encoding="utf-8"))["users"]["alice"]["hash"]
    strong = UserStore(store.path)  # default parameters
    assert strong.authenticate("alice", SECRET) is not None
    after = json.loads(store.path.read_text(encoding="utf-8"))["users"]["alice"]["hash"]
    assert after != before
    assert not PasswordHasher().check_needs_rehash(after)
    assert strong.authenticate("alice", SECRET) is not None
    assert strong.authenticate("alice", "wrong-password") is None


def test_corrupt_file_is_a_clear_error(store):
    store.path.parent.mkdir(parents=True)
    store.path.write_text("{not json", encoding="utf-8")
    with pytest.raises(UserError, match="corrupt"):
        store.list()


def _add_many(path: str, prefix: str, count: int) -> None:
    users = UserStore(path, hasher=FAST)
    for i in range(count):
        users.add(f"{prefix}{i}", f"password-{prefix}-{i}")


def test_two_processes_adding_users_lose_none(tmp_path):
    path = tmp_path / "users.json"
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_add_many, args=(str(path), p, 10)) for p in ("a", "b")]
    for p in procs:
        p.start()
    for p in procs:
        p.join(timeout=120)
        assert p.exitcode == 0
    store = UserStore(path, hasher=FAST)
    names = {u.name for u in store.list()}
    assert names == {f"{p}{i}" for p in "ab" for i in range(10)}
    assert store.authenticate("b7", "password-b-7") is not None
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_write_failure_is_a_user_error_and_leaves_the_file(store, monkeypatch):
    store.add("alice", SECRET)

    def disk_full(*args):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("assistant.users.os.replace", disk_full)
    with pytest.raises(UserError, match="cannot write") as err:
        store.add("bob", "bob-password-42")
    assert "bob-password-42" not in str(err.value)
    monkeypatch.undo()
    assert [u.name for u in store.list()] == ["alice"]
    assert sorted(p.name for p in store.path.parent.iterdir()) == ["users.json", "users.json.lock"]
