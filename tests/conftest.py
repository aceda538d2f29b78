"""For every test: quiet Rasa and SQLAlchemy; the services named by TEST_DATABASE_URL / TEST_REDIS_URL /
TEST_AMQP_URL must answer before anything runs; in CI (CI=true) a skipped test fails the run. For the tests of the
real processes (tests/integration, the end-to-end tests of tests/channels and tests/widget): the
session's stack (tests/stack_support.py), `session_stack` and, as seeded for each module, `stack`."""

import os

import pytest

os.environ.setdefault("RASA_TELEMETRY_ENABLED", "false")
os.environ.setdefault("SQLALCHEMY_SILENCE_UBER_WARNING", "1")

SERVICE_TIMEOUT_S = 3
_skips: list[tuple[str, str]] = []


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() == "true"


def _redacted(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def _redis_problem(url: str) -> str | None:
    import redis

    try:
        client = redis.Redis.from_url(url, socket_connect_timeout=SERVICE_TIMEOUT_S, socket_timeout=SERVICE_TIMEOUT_S)
        try:
            client.ping()
        finally:
            client.close()
    except Exception as exc:  # noqa: BLE001 - any failure is the answer
        return " ".join(str(exc).split()) or type(exc).__name__
    return None


def _amqp_problem(url: str) -> str | None:
    """Opens and closes an AMQP connection on a private event loop (the global one is left alone)."""
    import asyncio

    import aio_pika

    async def check() -> None:
        connection = await aio_pika.connect(url, timeout=SERVICE_TIMEOUT_S)
        await connection.close()

    loop = asyncio.new_event_loop()
    try:
        loop.run_until_complete(asyncio.wait_for(check(), SERVICE_TIMEOUT_S * 2))
    except Exception as exc:  # noqa: BLE001 - any failure is the answer
        return " ".join(str(exc).split()) or type(exc).__name__
    finally:
        loop.close()
    return None


def pytest_sessionstart(session):
    """A service that was asked for and does not answer stops the run at once, on one line."""
    from postgres_support import server_problem

    checks = [
        ("TEST_DATABASE_URL", "PostgreSQL", server_problem),
        ("TEST_REDIS_URL", "Redis", _redis_problem),
        ("TEST_AMQP_URL", "RabbitMQ", _amqp_problem),
    ]
    for variable, service, problem_of in checks:
        url = os.environ.get(variable)
        if not url:
            continue
        problem = problem_of(url)
        if problem:
            pytest.exit(
                f"{variable}={_redacted(url)}: {service} does not answer ({problem})",
                returncode=pytest.ExitCode.USAGE_ERROR,
            )


def _skip_reason(report) -> str:
    longrepr = report.longrepr
    if isinstance(longrepr, tuple) and len(longrepr) == 3:
        return str(longrepr[2]).removeprefix("Skipped: ")
    return str(longrepr)


def _record_skip(report) -> None:
    if in_ci() and report.skipped and not hasattr(report, "wasxfail"):
        _skips.append((report.nodeid or "(collection)", _skip_reason(report)))


def pytest_runtest_logreport(report):
    _record_skip(report)


def pytest_collectreport(report):
    _record_skip(report)


def pytest_sessionfinish(session, exitstatus):
    """CI=true: a skip means something CI must provide is missing (a browser, the model, a service)."""
    if _skips and exitstatus in (pytest.ExitCode.OK, pytest.ExitCode.NO_TESTS_COLLECTED):
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter):
    if not _skips:
        return
    terminalreporter.section("CI=true: every skip is a failure", sep="=", red=True, bold=True)
    for nodeid, reason in _skips:
        terminalreporter.line(f"SKIPPED {nodeid}: {reason}", red=True)


@pytest.fixture(scope="session")
def session_stack(request, tmp_path_factory):
    """The session's stack (stack_support.SharedStack): started once, by the first test that asks for
    it, and shared by the integration, channel and widget end-to-end tests."""
    from stack_support import shared_stack

    return shared_stack(request.config, tmp_path_factory)


@pytest.fixture(scope="module")
def stack(session_stack):
    """The session's stack (scripts.stack.Stack), its backend database as seeded and its Maildir empty
    for this module."""
    return session_stack.fresh()
