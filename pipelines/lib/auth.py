"""Accounts, passwords, sessions and role checks of the web workflow (issue 7).

Accounts are not data that ministries send, so they never enter the warehouse: they live in a
small SQLite file, ``$OBSERVATORY_HOME/auth.sqlite`` (stdlib ``sqlite3``, safe for the dashboard's
concurrent readers and the CLI writing at the same time).

* Passwords are stored only as salted scrypt hashes (``hashlib.scrypt``, n=2**14, r=8, p=1,
  16-byte random salt), compared in constant time.
* A session is a random token given to the browser session; only its SHA-256 is stored. It
  expires ``SESSION_HOURS`` after sign-in (absolute), and logout ends it in the store, so a copied
  token is useless afterwards. Disabling an account ends its sessions.
* Roles (DOMAIN.md §1): ``submitter`` (bound to ONE country), ``reviewer`` (the secretariat),
  ``analyst``, ``evaluator``, ``admin``. :func:`can` is the one place that says who may do what,
  for which country; every page and every action asks it on the server side.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import os
import re
import secrets
import sqlite3
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

from pipelines.lib.migrations import Migration, migrate_sqlite
from pipelines.settings import Settings

ROLES = ("submitter", "reviewer", "analyst", "evaluator", "admin")
try:
    SESSION_HOURS = float(os.environ.get("OBSERVATORY_SESSION_HOURS", "8"))
except ValueError:  # Settings.problem() says so; the pages stay up with the default
    SESSION_HOURS = 8.0
MIN_PASSWORD_LENGTH = 10
USERNAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9._@-]{1,63}$")

# scrypt cost: 16 MiB of memory and ~50 ms per hash on this machine.
SCRYPT_N, SCRYPT_R, SCRYPT_P, SCRYPT_DKLEN = 2**14, 8, 1, 32

# What each role may do. Country scoping (a submitter only for its own country) is in `can`.
PERMISSIONS: dict[str, frozenset[str]] = {
    "view_dashboard": frozenset(ROLES),  # published, disclosure-controlled figures
    "download_template": frozenset({"submitter", "reviewer", "admin"}),
    "submit": frozenset({"submitter"}),
    "my_submissions": frozenset({"submitter"}),
    "view_report": frozenset({"submitter", "reviewer", "admin"}),
    "explain": frozenset({"submitter"}),
    "review": frozenset({"reviewer"}),  # the queue, accept, return
    "grant_exception": frozenset({"reviewer"}),
    "audit": frozenset({"reviewer", "admin"}),
    "export": frozenset({"evaluator", "admin"}),  # evaluator exports (issue 5)
    "manage_plan": frozenset({"reviewer", "admin"}),  # the regional plan's file (DOMAIN.md §9)
}
ACTIONS = tuple(PERMISSIONS)
# Actions about one country's data: a submitter may do them only for its own country.
COUNTRY_SCOPED = frozenset({"download_template", "submit", "my_submissions", "view_report",
                            "explain"})

# Version 1: the accounts store of the release of 2026-11-30 (accounts and sessions); 2: sign-in
# throttling and the single-use grants a run acts under (pipelines/lib/migrations.py).
MIGRATIONS = (
    Migration(1, "accounts and sessions", """
create table if not exists users (
    username      text primary key,
    role          text not null,
    country       text,             -- ISO3, only (and always) for submitters
    password_hash text not null,
    active        integer not null default 1,
    created_at    text not null,
    disabled_at   text
);
create table if not exists sessions (
    token_sha256  text primary key,
    username      text not null references users(username),
    created_at    text not null,
    expires_at    text not null,
    ended_at      text
);
"""),
    Migration(2, "sign-in failures and run grants", """
create table if not exists sign_in_failures (
    username      text not null,    -- as typed (lowercased): unknown names count too
    client        text not null,    -- the browser's address as the server sees it
    failed_at     text not null
);
create index if not exists sign_in_failures_by_user on sign_in_failures (username, failed_at);
create index if not exists sign_in_failures_by_client on sign_in_failures (client, failed_at);
create table if not exists run_grants (
    token_sha256  text primary key,
    username      text not null,
    purpose       text not null,     -- 'review' or 'submit'
    created_at    text not null,
    expires_at    text not null,
    used_at       text
);
"""),
)


class AuthError(ValueError):
    """A request the account store refuses (unknown role, weak password, ...). ``key``, when
    set, is the translation key of the reason (``text`` gives it in a language)."""

    def __init__(self, message: str, key: str | None = None, **values: object):
        super().__init__(message)
        self.key = key
        self.values = values

    def text(self, lang: str) -> str:
        from pipelines.lib.i18n import t

        return t(self.key, lang, **self.values) if self.key else str(self)


# zxcvbn's estimate (0..4) a password must reach. Its lists are the common passwords, names and
# words that guessing tools try first; the account's own words are added, with the coalition's
# country names and this platform's, which its lists (English) lack.
MIN_PASSWORD_SCORE = 3
# The secretariat's and the administrators' accounts decide what is published: the top score.
STRICT_ROLES, STRICT_PASSWORD_SCORE = ("reviewer", "admin"), 4
PLATFORM_WORDS = ("observatorio", "observatory", "coalicion", "coalition", "trata", "trafficking",
                  "migrantes", "migrants", "contraseña", "password", "secretaria", "ministerio")


def password_problem(password: str, username: str = "", country: str | None = None,
                     role: str | None = None) -> str | None:
    """Why a password is refused (a ``workflow.password.*`` key), or None."""
    from zxcvbn import zxcvbn

    from pipelines.lib.contracts import load_contracts

    if not password.strip():
        return "workflow.password.blank"
    if len(password) < MIN_PASSWORD_LENGTH:
        return "workflow.password.short"
    contracts = load_contracts()
    words = [username, *username.replace(".", " ").replace("@", " ").split(), *PLATFORM_WORDS]
    for code in contracts.members:
        entry = contracts.country(code) or {}
        words += [code, *(str(v) for k, v in entry.items() if k.startswith("name"))]
    if country:
        words.append(country)
    # zxcvbn's matching is quadratic in the length; what it cannot guess in 100 characters it
    # cannot guess in more.
    needed = STRICT_PASSWORD_SCORE if role in STRICT_ROLES else MIN_PASSWORD_SCORE
    if zxcvbn(password[:100], user_inputs=[w.lower() for w in words if w])["score"] < needed:
        return "workflow.password.guessable"
    return None


def _check_password(password: str, username: str, country: str | None,
                    role: str | None = None) -> None:
    problem = password_problem(password, username, country, role)
    if problem:
        from pipelines.lib.i18n import t

        raise AuthError(t(problem, "en", length=MIN_PASSWORD_LENGTH), problem,
                        length=MIN_PASSWORD_LENGTH)


class SignInThrottled(Exception):
    """Too many failed sign-ins for this account or from this client: try again after
    ``seconds`` (the password was not checked)."""

    def __init__(self, seconds: float):
        super().__init__(f"retry in {seconds:.0f} s")
        self.seconds = seconds


# Guessing is slowed per account and per client (failures in the last WINDOW): the first FREE
# failures cost nothing, each later one doubles the wait before the next attempt (1 s, 2 s, 4 s,
# ... at most MAX_DELAY), and LOCK failures lock for the rest of the window. A client covers
# many accounts (or, behind a proxy, every user), so its thresholds are CLIENT_FACTOR times higher.
THROTTLE_WINDOW = dt.timedelta(minutes=15)
FAILURES_KEPT_DAYS = 30
GRANT_MINUTES = 30  # a run queued behind others may wait; the grant is used once anyway
THROTTLE_FREE, THROTTLE_LOCK, THROTTLE_MAX_DELAY, CLIENT_FACTOR = 3, 10, 60.0, 3


def throttle_wait(failures: list[dt.datetime], now: dt.datetime, factor: int = 1) -> float:
    """Seconds to wait before the next attempt, given the failures in the window (sorted)."""
    count = len(failures)
    if count < THROTTLE_FREE * factor:
        return 0.0
    if count >= THROTTLE_LOCK * factor:
        until = failures[-THROTTLE_LOCK * factor] + THROTTLE_WINDOW
    else:
        delay = min(2.0 ** ((count - THROTTLE_FREE * factor) // factor), THROTTLE_MAX_DELAY)
        until = failures[-1] + dt.timedelta(seconds=delay)
    return max(0.0, (until - now).total_seconds())


class PermissionDenied(PermissionError):
    """The signed-in user may not do this (or not for this country)."""


@dataclass(frozen=True)
class User:
    username: str
    role: str
    country: str | None = None

    def can(self, action: str, country: str | None = None) -> bool:
        return can(self, action, country)


def can(user: User | None, action: str, country: str | None = None) -> bool:
    """May ``user`` do ``action`` (for ``country``, when the action is about one country)?"""
    if user is None or action not in PERMISSIONS or user.role not in PERMISSIONS[action]:
        return False
    if user.role == "submitter":
        if not user.country:
            return False
        if action in COUNTRY_SCOPED and country is not None and country != user.country:
            return False
    return True


def require(user: User | None, action: str, country: str | None = None) -> User:
    if not can(user, action, country):
        who = f"{user.username} ({user.role})" if user else "anonymous"
        raise PermissionDenied(f"{who} may not {action}" + (f" for {country}" if country else ""))
    return user


# The platform's own channels: files they bring in are taken in under these names, without an
# account (the landing folder and the command line belong to whoever runs the service).
SYSTEM_ACTORS = {"landing": "landing-folder", "cli": "operator", "demo": "demo-generator"}


def intake_actor_refusal(store: AuthStore, *, channel: str, actor: str, role: str,
                         submitter_country: str | None, grant: str = "") -> str | None:
    """Why a submission run may not run as it says (a ``workflow.refused.*`` key), else None.

    A browser upload runs as the active submitter account of the country it names, with the
    single-use grant the upload page made for it (:meth:`AuthStore.grant`); the platform's own
    channels run under their own names in the operator's role. Nothing in a
    run's configuration is taken on trust: it can come from anyone who reaches the orchestrator.
    """
    if channel == "upload":
        user = store.active_user(actor)
        if user is None:
            return "workflow.refused.unknown_actor"
        if user.role != "submitter" or role != "submitter" or user.country != submitter_country:
            return "workflow.refused.forbidden"
        if not store.redeem(grant, user.username, "submit"):
            return "workflow.refused.unverified"
        return None
    if SYSTEM_ACTORS.get(channel) != actor or role != "operator":
        return "workflow.refused.forbidden"
    return None


# --- passwords -------------------------------------------------------------------------------


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode("utf-8"), salt=salt, n=SCRYPT_N, r=SCRYPT_R,
                            p=SCRYPT_P, dklen=SCRYPT_DKLEN)
    return "$".join(["scrypt", str(SCRYPT_N), str(SCRYPT_R), str(SCRYPT_P),
                     base64.b64encode(salt).decode(), base64.b64encode(digest).decode()])


def verify_password(password: str, stored: str) -> bool:
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        expected = base64.b64decode(digest)
        actual = hashlib.scrypt(password.encode("utf-8"), salt=base64.b64decode(salt), n=int(n),
                                r=int(r), p=int(p), dklen=len(expected))
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(actual, expected)


_DUMMY_HASH = None


def _dummy_hash() -> str:
    """A hash to check against when the user is unknown, so timing does not tell who exists."""
    global _DUMMY_HASH
    if _DUMMY_HASH is None:
        _DUMMY_HASH = hash_password(secrets.token_hex(8))
    return _DUMMY_HASH


# --- the store -------------------------------------------------------------------------------


def auth_path(settings: Settings) -> Path:
    return settings.home / "auth.sqlite"


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


class AuthStore:
    """Accounts and sessions in ``auth.sqlite`` (one short connection per call)."""

    def __init__(self, settings: Settings):
        self.path = auth_path(settings)

    def _connect(self) -> sqlite3.Connection:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        con = sqlite3.connect(self.path, timeout=10)
        con.execute("pragma journal_mode=wal")
        try:
            os.chmod(self.path, 0o600)
        except OSError:
            pass
        try:
            migrate_sqlite(con, "accounts", MIGRATIONS)
        except BaseException:
            con.close()
            raise
        return con

    # accounts

    def add_user(self, username: str, role: str, password: str, country: str | None = None) -> User:
        from pipelines.lib.contracts import load_contracts

        username = username.strip().lower()
        if not USERNAME_PATTERN.match(username):
            raise AuthError("username: 2-64 characters, lowercase letters, digits, . _ @ -")
        if role not in ROLES:
            raise AuthError(f"role must be one of {', '.join(ROLES)}")
        country = country.strip().upper() if country else None
        if role == "submitter":
            if not country:
                raise AuthError("a submitter is bound to one country: give --country ISO3")
            if not (load_contracts().country(country) or {}).get("member"):
                raise AuthError(f"{country} is not a member country")
        elif country:
            raise AuthError("only submitters are bound to a country")
        _check_password(password, username, country, role)
        with closing(self._connect()) as con, con:
            try:
                con.execute("insert into users (username, role, country, password_hash, created_at)"
                            " values (?, ?, ?, ?, ?)",
                            [username, role, country, hash_password(password), _now().isoformat()])
            except sqlite3.IntegrityError as error:
                raise AuthError(f"user {username} exists already") from error
        return User(username, role, country)

    def list_users(self) -> list[dict]:
        with closing(self._connect()) as con:
            con.row_factory = sqlite3.Row
            rows = con.execute("select username, role, country, active, created_at, disabled_at "
                               "from users order by username").fetchall()
        return [dict(row) for row in rows]

    def disable_user(self, username: str) -> bool:
        """Disable an account and end its sessions. False if there is no such active user."""
        now = _now().isoformat()
        with closing(self._connect()) as con, con:
            changed = con.execute("update users set active = 0, disabled_at = ? "
                                  "where username = ? and active = 1",
                                  [now, username.strip().lower()]).rowcount
            con.execute("update sessions set ended_at = ? where username = ? and ended_at is null",
                        [now, username.strip().lower()])
        return bool(changed)

    def set_password(self, username: str, password: str) -> None:
        user = self.active_user(username)
        _check_password(password, username, user.country if user else None,
                        user.role if user else None)
        with closing(self._connect()) as con, con:
            if not con.execute("update users set password_hash = ? where username = ?",
                               [hash_password(password), username]).rowcount:
                raise AuthError(f"no user {username}")

    def active_user(self, username: str | None) -> User | None:
        """The active account of that name as the store knows it (role and country), else None."""
        with closing(self._connect()) as con:
            row = self._user(con, (username or "").strip().lower())
        return User(row[0], row[1], row[2]) if row else None

    def _user(self, con: sqlite3.Connection, username: str) -> tuple | None:
        return con.execute("select username, role, country, password_hash from users "
                           "where username = ? and active = 1", [username]).fetchone()

    # sessions

    def sign_in(self, username: str, password: str, client: str | None = None) -> str | None:
        """A new session token for a correct active account's password, else None. Raises
        :class:`SignInThrottled`, without checking the password, while the account or the client
        must wait; every failure is recorded (``failures``)."""
        username = (username or "").strip().lower()[:64]
        client = (client or "local")[:64]
        now = _now()
        with closing(self._connect()) as con:
            # The attempt counts as a failure from the moment it is let through, in the same
            # write transaction as the check: parallel attempts (one browser session per thread)
            # each see the ones before them. A right password removes it again.
            con.execute("begin immediate")
            try:
                wait = self._throttle_wait(con, username, client, now)
                if wait == 0:
                    attempt = con.execute("insert into sign_in_failures values (?, ?, ?)",
                                          [username, client, now.isoformat()]).lastrowid
                    # Kept for the audit page's 30 days, not for ever (names can be sprayed).
                    con.execute("delete from sign_in_failures where failed_at < ?",
                                [(now - dt.timedelta(days=FAILURES_KEPT_DAYS)).isoformat()])
                con.execute("commit")
            except BaseException:
                con.execute("rollback")
                raise
            row = self._user(con, username)
        if wait > 0:
            raise SignInThrottled(wait)
        stored = row[3] if row is not None else _dummy_hash()  # same time whether it exists
        if not verify_password(password or "", stored) or row is None:
            return None
        token = secrets.token_urlsafe(32)
        with closing(self._connect()) as con, con:
            # The account's own count starts again; the client's stays (it may be guessing others).
            con.execute("delete from sign_in_failures where username = ? or rowid = ?",
                        [username, attempt])
            con.execute("insert into sessions values (?, ?, ?, ?, null)",
                        [_token_hash(token), username, now.isoformat(),
                         (now + dt.timedelta(hours=SESSION_HOURS)).isoformat()])
        return token

    def _throttle_wait(self, con, username: str, client: str, now: dt.datetime) -> float:
        since = (now - THROTTLE_WINDOW).isoformat()
        waits = []
        for column, value, factor in (("username", username, 1), ("client", client, CLIENT_FACTOR)):
            rows = con.execute(f"select failed_at from sign_in_failures where {column} = ? "
                               "and failed_at > ? order by failed_at", [value, since]).fetchall()
            waits.append(throttle_wait([dt.datetime.fromisoformat(r[0]) for r in rows], now, factor))
        return max(waits)

    # run grants: a job acting for a user runs only with a single-use token that the page (for a
    # signed-in session) or the command line (the platform's own account, which alone can write
    # this file) put here; a run configured by anyone else has none.

    def grant(self, username: str, purpose: str) -> str:
        """A single-use token, valid GRANT_MINUTES, for one run acting for ``username``."""
        token = secrets.token_urlsafe(32)
        now = _now()
        with closing(self._connect()) as con, con:
            con.execute("insert into run_grants values (?, ?, ?, ?, ?, null)",
                        [_token_hash(token), username, purpose, now.isoformat(),
                         (now + dt.timedelta(minutes=GRANT_MINUTES)).isoformat()])
        return token

    def redeem(self, token: str | None, username: str, purpose: str) -> bool:
        """Use up a grant: True once for a live token given for this user and purpose."""
        if not token:
            return False
        now = _now().isoformat()
        with closing(self._connect()) as con, con:
            return con.execute(
                "update run_grants set used_at = ? where token_sha256 = ? and username = ? "
                "and purpose = ? and used_at is null and expires_at > ?",
                [now, _token_hash(token), username, purpose, now]).rowcount == 1

    def failures(self, days: int = 30) -> list[dict]:
        """Failed sign-ins of the last ``days``, per account and client (the audit page)."""
        since = (_now() - dt.timedelta(days=days)).isoformat()
        with closing(self._connect()) as con:
            con.row_factory = sqlite3.Row
            rows = con.execute(
                "select username, client, count(*) as failures, min(failed_at) as first_at, "
                "max(failed_at) as last_at from sign_in_failures where failed_at > ? "
                "group by username, client order by last_at desc", [since]).fetchall()
        return [dict(row) for row in rows]

    def session_user(self, token: str | None) -> User | None:
        """The user of a live session (not ended, not expired, account active), else None."""
        if not token:
            return None
        with closing(self._connect()) as con:
            row = con.execute(
                "select u.username, u.role, u.country, s.expires_at from sessions s "
                "join users u using (username) "
                "where s.token_sha256 = ? and s.ended_at is null and u.active = 1",
                [_token_hash(token)]).fetchone()
        if row is None or dt.datetime.fromisoformat(row[3]) <= _now():
            return None
        return User(row[0], row[1], row[2])

    def sign_out(self, token: str | None) -> None:
        if not token:
            return
        with closing(self._connect()) as con, con:
            con.execute("update sessions set ended_at = ? where token_sha256 = ? "
                        "and ended_at is null", [_now().isoformat(), _token_hash(token)])

    def expire_session_now(self, token: str) -> None:
        """Move a session's expiry into the past (tests of expiry)."""
        with closing(self._connect()) as con, con:
            con.execute("update sessions set expires_at = ? where token_sha256 = ?",
                        [(_now() - dt.timedelta(seconds=1)).isoformat(), _token_hash(token)])
