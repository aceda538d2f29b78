"""One layer for use cases: the handlers of backend/api/ parse, call a service of backend/<area>.py
and serialise; the queries and the orchestration are the services'. And one catalogue of refusals:
every code a module words (backend.refusals.Refusals) has its HTTP status in
backend.api.errors.STATUS_BY_CODE."""

from __future__ import annotations

import ast
import importlib
import pkgutil
import re
from pathlib import Path

import pytest

import backend
from backend.api.errors import STATUS_BY_CODE
from backend.refusals import Refusals

API_DIR = Path(backend.__file__).resolve().parent / "api"
MAX_HANDLER_LINES = 25
HANDLER_DECORATORS = {"routes", "renderer"}  # @routes.get(...), @renderer(KIND)
CODE_RE = re.compile(r"^[a-z][a-z0-9]*(?:_[a-z0-9]+)*$")


def _api_modules() -> list[Path]:
    return sorted(path for path in API_DIR.glob("*.py") if path.name != "__init__.py")


def _decorator_name(decorator: ast.expr) -> str | None:
    target = decorator.func if isinstance(decorator, ast.Call) else decorator
    while isinstance(target, ast.Attribute):
        target = target.value
    return target.id if isinstance(target, ast.Name) else None


def route_handlers(tree: ast.Module) -> list[tuple[str, int]]:
    """(name, lines from the first decorator to the end) of every route handler of a module."""
    found = []
    for node in tree.body:
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        if not any(_decorator_name(d) in HANDLER_DECORATORS for d in node.decorator_list):
            continue
        start = min([node.lineno, *(d.lineno for d in node.decorator_list)])
        found.append((node.name, node.end_lineno - start + 1))
    return found


def imports_select(tree: ast.Module) -> bool:
    """Whether the module builds queries: `from sqlalchemy… import select`, or `sqlalchemy.select`
    through an imported sqlalchemy module."""
    aliases = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "sqlalchemy":
            if any(alias.name == "select" for alias in node.names):
                return True
        if isinstance(node, ast.Import):
            aliases |= {alias.asname or alias.name for alias in node.names if alias.name.split(".")[0] == "sqlalchemy"}
    return any(
        isinstance(node, ast.Attribute)
        and node.attr == "select"
        and isinstance(node.value, ast.Name)
        and node.value.id in aliases
        for node in ast.walk(tree)
    )


@pytest.mark.parametrize("path", _api_modules(), ids=lambda path: path.name)
def test_route_handlers_are_short(path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    too_long = {name: lines for name, lines in route_handlers(tree) if lines > MAX_HANDLER_LINES}
    assert too_long == {}, f"{path.name}: parse, call a service, serialise (at most {MAX_HANDLER_LINES} lines)"


@pytest.mark.parametrize("path", _api_modules(), ids=lambda path: path.name)
def test_handler_modules_build_no_queries(path):
    assert not imports_select(ast.parse(path.read_text(encoding="utf-8"))), f"{path.name}: queries go in a service"


def test_the_checks_see_what_they_look_for():
    """The walkers themselves, on code that breaks both rules."""
    source = (
        "from sqlalchemy import func, select\n"
        "@routes.get('/x')\n"
        "async def long(request):\n" + "    x = 1\n" * 30 + "@renderer('k')\n"
        "async def short(request, session, params):\n    return 1\n"
        "def helper():\n" + "    y = 2\n" * 40
    )
    tree = ast.parse(source)
    assert route_handlers(tree) == [("long", 32), ("short", 3)]
    assert imports_select(tree)
    assert imports_select(ast.parse("import sqlalchemy as sa\nq = sa.select(1)\n"))
    assert not imports_select(ast.parse("from sqlalchemy.ext.asyncio import AsyncSession\n"))


def _refusal_tables() -> dict[str, Refusals]:
    """Every module-level Refusals of the backend, by where it is found first (a table imported by
    another module is the same table); migrations and the entry point left out."""
    tables: dict[int, tuple[str, Refusals]] = {}
    for info in pkgutil.walk_packages(backend.__path__, "backend."):
        if ".migrations" in info.name or info.name.endswith("__main__"):
            continue
        module = importlib.import_module(info.name)
        for name, value in vars(module).items():
            if isinstance(value, Refusals):
                tables.setdefault(id(value), (f"{info.name}.{name}", value))
    return dict(tables.values())


def test_every_refusal_code_has_a_status_and_plain_words():
    tables = _refusal_tables()
    assert len(tables) >= 15
    for where, table in tables.items():
        for code, template in table.items():
            assert CODE_RE.match(code), (where, code)
            assert code in STATUS_BY_CODE, f"{where}: {code} has no HTTP status in backend.api.errors.STATUS_BY_CODE"
            assert template.strip() and "<" not in template and "\n" not in template, (where, code)
