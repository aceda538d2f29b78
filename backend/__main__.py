"""`python -m backend [--host H] [--port P]`: serves the backend API.

Listens on 127.0.0.1 unless --host, BACKEND_HOST or HOST (the stack's setting for every process)
says otherwise."""

from __future__ import annotations

import argparse
import dataclasses
import logging
import os

from aiohttp import web

from backend.app import create_app
from backend.settings import Settings
from common.logs import configure_logging


def main() -> None:
    settings = Settings.from_env()
    parser = argparse.ArgumentParser(prog="python -m backend", description=__doc__)
    parser.add_argument(
        "--host", default=os.environ.get("BACKEND_HOST") or os.environ.get("HOST") or settings.backend_host
    )
    parser.add_argument("--port", type=int, default=settings.backend_port)
    args = parser.parse_args()
    configure_logging()
    settings = dataclasses.replace(settings, backend_host=args.host, backend_port=args.port)
    logging.getLogger("backend").info("backend listening on http://%s:%s", args.host, args.port)
    web.run_app(create_app(settings), host=args.host, port=args.port, access_log=None, print=None)


if __name__ == "__main__":
    main()
