"""Accounts, passwords and sessions (pipelines/lib/auth.py) and the role matrix of every page and
action × every role × own/other country, decided on the server side by ``auth.can``."""

from __future__ import annotations

import io
import sqlite3

import pytest

from pipelines.cli import main
from pipelines.lib import auth
from pipelines.lib.auth import ACTIONS, ROLES, AuthError, AuthStore, User, can
from pipelines.settings import get_settings

PASSWORD = "correct horse battery"
OWN, OTHER = "GTM", "HND"

# action → roles allowed (any country for non-submitters; own country only for a submitter).
EXPECTED = {
    "view_dashboard": set(ROLES),
    "download_template": {"submitter", "reviewer", "admin"},
    "submit": {"submitter"},
    "my_submissions": {"submitter"},
    "view_report": {"submitter", "reviewer", "admin"},
    "explain": {"submitter"},
    "review": {"reviewer"},
    "grant_exception": {"reviewer"},
    "audit": {"reviewer", "admin"},
    "export": {"evaluator", "admin"},
}


@pytest.fixture
def store(observatory_home) -> AuthStore:
    return AuthStore(get_settings())


def user_of(role: str) -> User:
    return User(f"{role}-user", role, OWN if role == "submitter" else None)


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("action", ACTIONS)
@pytest.mark.parametrize("country", [None, OWN, OTHER])
def test_role_matrix(role, action, country):
    allowed = role in EXPECTED[action]
    if role == "submitter" and country == OTHER and action in auth.COUNTRY_SCOPED:
        allowed = False
    assert can(user_of(role), action, country) is allowed
    if not allowed:
        with pytest.raises(auth.PermissionDenied):
            auth.require(user_of(role), action, country)


def test_every_action_is_in_the_matrix_and_nobody_anonymous_passes():
    assert set(EXPECTED) == set(ACTIONS)
    assert not any(can(None, action) for action in ACTIONS)
    assert not can(User("x", "submitter", None), "submit")  # a submitter without a country
    assert not can(User("x", "root", None), "audit")  # an unknown role


def test_passwords_are_salted_scrypt_hashes(store):
    first, second = auth.hash_password(PASSWORD), auth.hash_password(PASSWORD)
    assert first != second and first.startswith("scrypt$")
    assert auth.verify_password(PASSWORD, first) and not auth.verify_password("wrong", first)
    store.add_user("ana", "submitter", PASSWORD, "gtm")
    with sqlite3.connect(auth.auth_path(get_settings())) as con:
        stored = con.execute("select password_hash, country from users").fetchone()
    assert PASSWORD not in stored[0] and stored[1] == "GTM"


@pytest.mark.parametrize(("args", "message"), [
    (("bob", "submitter", PASSWORD, None), "bound to one country"),
    (("bob", "submitter", PASSWORD, "PAN"), "not a member"),
    (("bob", "reviewer", PASSWORD, "GTM"), "only submitters"),
    (("bob", "root", PASSWORD, None), "role must be"),
    (("bob", "reviewer", "short", None), "at least"),
    (("../bob", "reviewer", PASSWORD, None), "username"),
])
def test_accounts_are_checked(store, args, message):
    with pytest.raises(AuthError, match=message):
        store.add_user(*args)


def test_sessions_expire_end_at_logout_and_with_the_account(store):
    store.add_user("rita", "reviewer", PASSWORD)
    assert store.sign_in("rita", "wrong password") is None
    assert store.sign_in("nobody", PASSWORD) is None
    token = store.sign_in("RITA ", PASSWORD)
    assert store.session_user(token) == User("rita", "reviewer", None)
    store.sign_out(token)
    assert store.session_user(token) is None  # logout really ends it
    token = store.sign_in("rita", PASSWORD)
    store.expire_session_now(token)
    assert store.session_user(token) is None
    token = store.sign_in("rita", PASSWORD)
    assert store.disable_user("rita")
    assert store.session_user(token) is None and store.sign_in("rita", PASSWORD) is None
    assert store.session_user("forged-token") is None


def test_users_command_adds_lists_and_disables(observatory_home, monkeypatch, capsys):
    monkeypatch.setattr("sys.stdin", io.StringIO(PASSWORD + "\n"))
    assert main(["--lang", "en", "users", "add", "ana", "--role", "submitter", "--country", "GTM",
                 "--password-stdin"]) == 0
    monkeypatch.setattr("sys.stdin", io.StringIO(PASSWORD + "\n"))
    assert main(["users", "add", "ana", "--role", "reviewer", "--password-stdin"]) == 2
    assert main(["users", "list"]) == 0
    assert main(["--lang", "en", "users", "disable", "ana"]) == 0
    assert main(["users", "disable", "ana"]) == 1
    out = capsys.readouterr()
    assert "Account ana created (role submitter, country GTM)." in out.out
    assert "ana" in out.out and "GTM" in out.out and "exists already" in out.err
    assert AuthStore(get_settings()).sign_in("ana", PASSWORD) is None
