"""Debian's Chromium as the browser tests drive it (Playwright never downloads a browser here)."""

from __future__ import annotations

from pathlib import Path

from backend.settings import REPO_DIR

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = REPO_DIR / "var" / "artifacts"  # screenshots
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
MISSING = f"{CHROMIUM} is missing (apt-get install chromium)"
