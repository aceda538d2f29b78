"""Throw-away PostgreSQL databases on TEST_DATABASE_URL's server: a fresh (or copied) database for a
test or a stack (`fresh_database`), and copies of a migrated and seeded template for the backend tests
(`DatabaseCopies`). Every name is unique, so runs sharing the server never meet."""

from __future__ import annotations

import collections
import contextlib
import threading
import uuid
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor

CONNECT_TIMEOUT_S = 3


def _connect(server_url: str):
    """An autocommit connection to the server (CREATE/DROP DATABASE refuse to run in a transaction)."""
    import psycopg2

    connection = psycopg2.connect(server_url, connect_timeout=CONNECT_TIMEOUT_S)
    connection.autocommit = True
    return connection


def server_problem(server_url: str) -> str | None:
    """None when the server answers a query; otherwise what went wrong, on one line."""
    try:
        connection = _connect(server_url)
        try:
            connection.cursor().execute("SELECT 1")
        finally:
            connection.close()
    except Exception as exc:  # noqa: BLE001 - any failure is the answer
        return " ".join(str(exc).split()) or type(exc).__name__
    return None


def database_url(server_url: str, name: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(server_url).set(database=name).render_as_string(hide_password=False)


def _create(connection, prefix: str, template: str | None = None) -> str:
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    clause = f' TEMPLATE "{template}"' if template else ""
    connection.cursor().execute(f'CREATE DATABASE "{name}"{clause}')
    return name


def _drop(connection, name: str) -> None:
    connection.cursor().execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextlib.contextmanager
def fresh_database(server_url: str, prefix: str, template: str | None = None) -> Iterator[str]:
    """Creates a database named `<prefix>_<random>` (empty, or a copy of `template`), yields its URL
    and drops it afterwards."""
    admin = _connect(server_url)
    try:
        name = _create(admin, prefix, template)
        try:
            yield database_url(server_url, name)
        finally:
            _drop(admin, name)
    finally:
        admin.close()


def seal_template(server_url: str, name: str) -> None:
    """No connection to `name` from now on (CREATE DATABASE ... TEMPLATE refuses a template in use)."""
    admin = _connect(server_url)
    try:
        cursor = admin.cursor()
        cursor.execute(f'ALTER DATABASE "{name}" WITH ALLOW_CONNECTIONS false')
        cursor.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", (name,))
    finally:
        admin.close()


class DatabaseCopies:
    """Copies of a sealed template, one per test. Copies are made ahead in a background thread while
    the tests run, so a test mostly finds its copy ready; used ones are dropped by other threads, a
    batch at a time. `close()` drops the copies still there; the template is its creator's to drop."""

    AHEAD = 2
    BATCH = 8

    def __init__(self, server_url: str, template: str, prefix: str) -> None:
        self.server_url, self.template, self.prefix = server_url, template, prefix
        self._maker = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"{prefix}-create")
        self._dropper = ThreadPoolExecutor(max_workers=self.BATCH, thread_name_prefix=f"{prefix}-drop")
        self._used: list[str] = []
        self._thread = threading.local()  # each worker thread's own connection
        self._connections: list = []
        self._lock = threading.Lock()
        self._live: set[str] = set()
        self._drops: list[Future] = []
        self._ahead: collections.deque[Future] = collections.deque(
            self._maker.submit(self._make) for _ in range(self.AHEAD)
        )

    def _admin(self):
        if getattr(self._thread, "connection", None) is None:
            self._thread.connection = _connect(self.server_url)
            self._connections.append(self._thread.connection)
        return self._thread.connection

    def _make(self) -> str:
        name = _create(self._admin(), self.prefix, self.template)
        with self._lock:
            self._live.add(name)
        return name

    def _remove(self, name: str) -> None:
        _drop(self._admin(), name)

    def take(self) -> str:
        """The URL of a fresh copy (waits for the oldest one being made), and orders another."""
        name = self._ahead.popleft().result()
        self._ahead.append(self._maker.submit(self._make))
        return database_url(self.server_url, name)

    def give_back(self, url: str) -> None:
        from sqlalchemy.engine import make_url

        name = make_url(url).database
        with self._lock:
            self._live.discard(name)
        self._used.append(name)
        if len(self._used) >= self.BATCH:
            self._drop_used()

    def _drop_used(self) -> None:
        """Drops the used copies all at once: each DROP DATABASE waits for a checkpoint, and drops
        made together share one."""
        self._drops.extend(self._dropper.submit(self._remove, name) for name in self._used)
        self._used = []

    def close(self) -> None:
        """Drops the copies still there (those made ahead included); raises what a drop raised."""
        self._maker.shutdown(wait=True)
        self._used.extend(self._live)
        self._drop_used()
        self._dropper.shutdown(wait=True)
        for connection in self._connections:
            connection.close()
        for future in [*self._ahead, *self._drops]:
            future.result()
