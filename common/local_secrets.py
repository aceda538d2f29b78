"""Secrets of a local installation: from the environment, or generated once under var/secrets/.

`make run` (scripts.stack) calls `ensure_all()` before starting the processes and passes every
value to them through the environment, so each process sees the same secret. A value set in the
environment always wins (production sets them there, from its secret manager). Generated files
are created with mode 0600 inside a 0700 directory and are never written anywhere else.

This is the only module of `common/` that touches the disk.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from pathlib import Path

# environment variable -> what it protects
SECRETS: dict[str, str] = {
    "RASA_TOKEN": "Rasa's HTTP API (rasa run --auth-token); the backend uses it for the handoff",
    "ACTION_SERVER_TOKEN": "calls from Rasa to the action server",
    "BACKEND_SERVICE_TOKEN": "the backend API the actions call (service credential)",
    "WIDGET_SESSION_SECRET": "signature of the website widget's session ids",
    "DATA_HMAC_SECRET": "keys of identity attempts and rate limits (HMAC of CPF, card, e-mail)",
    "LINK_SIGNING_SECRET": "short-lived document links, shared by every backend process",
    "TRACKER_CACHE_KEY": "encryption of the raw conversations Rasa instances share in Redis (TRACKER_CACHE_URL)",
}


def secrets_dir(var_dir: Path) -> Path:
    return Path(var_dir) / "secrets"


def load_or_create(name: str, var_dir: Path, env: Mapping[str, str] | None = None) -> str:
    """The secret `name`: the environment's value, else the file var/secrets/<name> (created
    with a fresh random value, mode 0600, on first use)."""
    value = (os.environ if env is None else env).get(name)
    if value:
        return value
    directory = secrets_dir(var_dir)
    directory.mkdir(parents=True, exist_ok=True)
    os.chmod(directory, 0o700)
    path = directory / name
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        os.chmod(path, 0o600)
        value = path.read_text().strip()
        if value:
            return value
        fd = os.open(path, os.O_WRONLY | os.O_TRUNC, 0o600)
    value = secrets.token_urlsafe(32)
    with os.fdopen(fd, "w") as handle:
        handle.write(value + "\n")
    return value


def ensure_all(var_dir: Path, env: Mapping[str, str] | None = None) -> dict[str, str]:
    """Every secret of SECRETS, by environment variable name."""
    return {name: load_or_create(name, var_dir, env) for name in SECRETS}
