"""Accounts, passwords and sessions (pipelines/lib/auth.py) and the role matrix of every page and
action × every role × own/other country, decided on the server side by ``auth.can``."""

from __future__ import annotations

import io
import sqlite3

import pytest

from pipelines.cli import main
from pipelines.lib import auth
from pipelines.lib.auth import ACTIONS, ROLES, AuthError, AuthStore, User, can
from pipelines.lib.i18n import t
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
    "manage_plan": {"reviewer", "admin"},
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
    assert main(["users", "disable", "ana"]) == 2
    out = capsys.readouterr()
    assert "Account ana created (role submitter, country GTM)." in out.out
    assert "ana" in out.out and "GTM" in out.out and "exists already" in out.err
    assert AuthStore(get_settings()).sign_in("ana", PASSWORD) is None


@pytest.mark.parametrize(("password", "key"), [
    ("aaaaaaaaaa", "guessable"),
    (" " * 10, "blank"),
    ("weak3weak3", "guessable"),
    ("password123", "guessable"),
    ("Guatemala2026", "guessable"),  # a member's name and a year
    ("bob.perez2026", "guessable"),  # the account's own name
    ("short", "short"),
])
def test_weak_passwords_are_refused_in_the_users_language(store, capsys, monkeypatch, password, key):
    with pytest.raises(AuthError) as refused:
        store.add_user("bob.perez", "reviewer", password)
    assert refused.value.key == f"workflow.password.{key}"
    store.add_user("bob.perez", "reviewer", PASSWORD)
    with pytest.raises(AuthError):
        store.set_password("bob.perez", password)
    monkeypatch.setattr("sys.stdin", io.StringIO(password + "\n"))
    assert main(["--lang", "fr", "users", "add", "bob.perez", "--role", "analyst",
                 "--password-stdin"]) == 2
    assert "mot de passe" in capsys.readouterr().err


class Clock:
    def __init__(self):
        self.now = auth._now()

    def __call__(self):
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += auth.dt.timedelta(seconds=seconds)


def test_guessing_is_slowed_then_locked_per_account_and_per_client(store, monkeypatch):
    clock = Clock()
    monkeypatch.setattr(auth, "_now", clock)
    store.add_user("rita", "reviewer", PASSWORD)
    for _ in range(auth.THROTTLE_FREE):
        assert store.sign_in("rita", "guess", client="10.0.0.9") is None
    # From now on each attempt waits longer, and while it must wait the password is not checked.
    waits = []
    while True:
        with pytest.raises(auth.SignInThrottled) as throttled:
            store.sign_in("rita", PASSWORD, client="10.0.0.9")
        waits.append(throttled.value.seconds)
        if throttled.value.seconds > auth.THROTTLE_MAX_DELAY:
            break
        clock.advance(throttled.value.seconds)
        assert store.sign_in("rita", "guess", client="10.0.0.9") is None
    assert waits[:3] == [1.0, 2.0, 4.0] and len(waits) == auth.THROTTLE_LOCK - auth.THROTTLE_FREE + 1
    assert waits[-1] > 10 * 60  # locked for most of the window
    # Another client is locked out of the account too; the account itself opens after the lock.
    with pytest.raises(auth.SignInThrottled):
        store.sign_in("rita", PASSWORD, client="10.0.0.10")
    [row] = store.failures()  # on the audit page
    assert (row["username"], row["client"], row["failures"]) == ("rita", "10.0.0.9",
                                                                 auth.THROTTLE_LOCK)
    clock.advance(auth.THROTTLE_WINDOW.total_seconds())
    assert store.sign_in("rita", PASSWORD, client="10.0.0.10")

    # One client trying many names (a spray) is slowed as a client.
    for n in range(auth.THROTTLE_FREE * auth.CLIENT_FACTOR):
        assert store.sign_in(f"user{n}", "guess", client="10.0.0.66") is None
    with pytest.raises(auth.SignInThrottled):
        store.sign_in("rita", PASSWORD, client="10.0.0.66")


def sign_in_on_the_page(name: str, lang: str):
    """The sign-in page (AppTest) in ``lang``, its form sent for ``name``."""
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file("../../dashboards/views/login.py", default_timeout=60)
    at.query_params["lang"] = lang
    at.run()
    at.text_input(key="wf.login.username").input(name)
    at.text_input(key="wf.login.password").input(PASSWORD)
    return at.button[0].click().run()


def test_the_sign_in_page_says_how_long_to_wait(store, monkeypatch):
    from dashboards.workflow_ui import TOKEN_KEY

    store.add_user("rita", "reviewer", PASSWORD)
    with auth.closing(store._connect()) as con, con:
        con.executemany("insert into sign_in_failures values ('rita', '10.0.0.9', ?)",
                        [[auth._now().isoformat()]] * auth.THROTTLE_LOCK)
    at = sign_in_on_the_page("rita", "en")
    assert not at.exception
    assert [e.value for e in at.error] == ["Too many failed attempts: sign-in is locked for 15 min. "
                                           "If it was not you, tell the secretariat."]
    assert TOKEN_KEY not in at.session_state


def test_the_sign_in_page_once_signed_in_says_so_and_where_to_go(store):
    """The sign-in page stays reachable by its address once signed in (no "Page not found"): it
    says who is signed in and offers no second form."""
    from dashboards import ui
    from dashboards.workflow_ui import TOKEN_KEY

    store.add_user("rita", "reviewer", PASSWORD)
    at = sign_in_on_the_page("rita", "fr")
    assert not at.exception and TOKEN_KEY in at.session_state
    assert [i.value for i in at.info] == [t("workflow.login.already", "fr", name=ui.plain("rita"))]
    assert not at.text_input


def test_parallel_guesses_are_counted_before_the_password_is_checked(store):
    """One browser session per thread: attempts sent together must not all pass the check."""
    from concurrent.futures import ThreadPoolExecutor

    store.add_user("rita", "reviewer", PASSWORD)

    def attempt(_):
        try:
            return store.sign_in("rita", "guess", client="10.0.0.7")
        except auth.SignInThrottled:
            return "throttled"

    with ThreadPoolExecutor(max_workers=12) as pool:
        results = list(pool.map(attempt, range(24)))
    assert results.count(None) == auth.THROTTLE_FREE  # passwords actually checked
    assert results.count("throttled") == 24 - auth.THROTTLE_FREE


@pytest.mark.parametrize(("name", "value"), [
    ("OBSERVATORY_TODAY", "31/12/2026"),
    ("OBSERVATORY_SESSION_HOURS", "eight"),
    ("OBSERVATORY_DISCLOSURE_GATE", "maybe"),
])
def test_a_bad_setting_is_named_in_one_line_before_anything_runs(observatory_home, monkeypatch,
                                                                 capsys, name, value):
    monkeypatch.setenv(name, value)
    assert main(["--lang", "fr", "users", "list"]) == 2
    err = capsys.readouterr().err.strip()
    assert name in err and value in err and "\n" not in err and "Traceback" not in err


def test_the_secretariat_and_administrators_need_the_strongest_passwords(store):
    assert auth.password_problem("sunshine-river", "ana", "GTM", "submitter") is None
    for role in auth.STRICT_ROLES:
        assert auth.password_problem("sunshine-river", "rita", None, role) == \
            "workflow.password.guessable"
    with pytest.raises(AuthError):
        store.add_user("rita", "reviewer", "sunshine-river")
    store.add_user("rita", "reviewer", PASSWORD)
    with pytest.raises(AuthError):
        store.set_password("rita", "sunshine-river")
