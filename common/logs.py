"""Structured (JSON lines) logging with PII masking (and no link secret: common.pii.mask_log_text),
shared by every process."""

from __future__ import annotations

import json
import logging
import os
import sys
from datetime import datetime, timezone

from common.pii import PiiMaskingFilter, mask_log_text

_RESERVED = set(vars(logging.makeLogRecord({})).keys()) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "ts": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
        }
        for key, value in vars(record).items():
            if key not in _RESERVED and not key.startswith("_"):
                entry[key] = mask_log_text(value) if isinstance(value, str) else value
        if record.exc_info:
            entry["exc"] = mask_log_text(self.formatException(record.exc_info))
        return json.dumps(entry, ensure_ascii=False, default=str)


def configure_logging(level: str | None = None) -> None:
    """Root logger -> stderr as JSON lines, every record masked. Replaces any handler a
    framework installed before (rasa_sdk's coloured console one), so nothing logs unmasked."""
    root = logging.getLogger()
    level = (level or os.environ.get("LOG_LEVEL", "INFO")).upper()
    root.setLevel(level)
    for handler in list(root.handlers):
        root.removeHandler(handler)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(PiiMaskingFilter())
    root.addHandler(handler)
    logging.getLogger("aiosqlite").setLevel(max(logging.INFO, root.level))  # it logs SQL parameters
