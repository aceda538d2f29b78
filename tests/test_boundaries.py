"""The layers of docs/architecture.md, checked on the imports: the bot reaches the backend only over
HTTP, the backend never imports the bot or the channels, the channels never import the bot, and
common/ imports none of them."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FORBIDDEN = {
    "bot": {"backend", "channels"},
    "backend": {"bot", "channels"},
    "channels": {"bot", "backend"},
    "common": {"bot", "backend", "channels", "scripts"},
}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_a_package_imports_only_what_its_layer_may(package: str) -> None:
    offending = {
        str(path.relative_to(ROOT)): sorted(_imports(path) & FORBIDDEN[package])
        for path in sorted((ROOT / package).rglob("*.py"))
    }
    assert {path: names for path, names in offending.items() if names} == {}


def test_the_check_reads_real_imports(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text("import backend.models\nfrom channels.common import x\nfrom .local import y\n")
    assert _imports(sample) == {"backend", "channels"}
