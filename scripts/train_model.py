"""`make model`: trains models/assistente.tar.gz, fine-tuning the previous model when only the NLU
examples changed.

    python -m scripts.train_model [--full]

What the previous training saw is recorded next to the model (models/assistente.json): a hash of
config.yml, domain.yml and the stories and rules, and a hash of the NLU examples.

- Nothing changed: nothing to do.
- Only NLU examples changed (added, removed or edited examples of existing intents and entities):
  `rasa train --finetune` continues from the previous model for a fraction of the epochs
  (FINETUNE_EPOCH_FRACTION), which takes about a minute instead of a full training.
- The config, the domain (a new intent, entity, slot, response or action), the stories, the rules
  or the code of a trained component of the bot's own (TRAINED_COMPONENTS) changed, there is no
  previous model, or `--full` was given: a full training from scratch.

Fine-tuning drifts a little from what a full training would give; after MAX_FINETUNES fine-tunes in
a row the next change trains from scratch again, and CI always trains from scratch (clean clone).
A fine-tune that Rasa refuses (e.g. a new label the old model cannot hold) falls back to a full
training.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

from scripts.stack import BIN, ROOT

MODEL = ROOT / "models" / "assistente.tar.gz"
RECORD = MODEL.with_name("assistente.json")
DATA = ROOT / "bot" / "data"
# Trained NLU components of the bot's own: a change to their code is a change to the model.
TRAINED_COMPONENTS = ("bot/blended_intent_classifier.py",)
FINETUNE_EPOCH_FRACTION = 0.3
MAX_FINETUNES = 5


def training_files() -> tuple[list[Path], list[Path]]:
    """(NLU files, stories and rules files) under bot/data, by their top-level keys."""
    nlu, dialogue = [], []
    for path in sorted(DATA.rglob("*.yml")):
        keys = set(yaml.safe_load(path.read_text()) or {})
        (dialogue if keys & {"stories", "rules"} else nlu).append(path)
    return nlu, dialogue


def digest(paths: list[Path]) -> str:
    sha = hashlib.sha256()
    for path in paths:
        sha.update(str(path.relative_to(ROOT)).encode() + b"\0" + path.read_bytes() + b"\0")
    return sha.hexdigest()


def fingerprints() -> dict[str, str]:
    nlu, dialogue = training_files()
    return {
        "structure": digest(
            [ROOT / "config.yml", ROOT / "domain.yml", *(ROOT / p for p in TRAINED_COMPONENTS), *dialogue]
        ),
        "nlu": digest(nlu),
    }


def previous() -> dict:
    try:
        return json.loads(RECORD.read_text()) if MODEL.exists() else {}
    except (OSError, ValueError):
        return {}


def decide(now: dict[str, str], before: dict, full: bool) -> str:
    """'none', 'finetune' or 'full'."""
    if full or not before or before.get("structure") != now["structure"]:
        return "full"
    if before.get("nlu") == now["nlu"]:
        return "none"
    return "finetune" if before.get("finetunes", 0) < MAX_FINETUNES else "full"


def rasa_train(*extra: str) -> bool:
    """Trains into a temporary name and moves it over the model only when training succeeded."""
    with tempfile.TemporaryDirectory(dir=MODEL.parent) as out:
        command = [
            str(BIN / "rasa"),
            "train",
            "--data",
            str(DATA.relative_to(ROOT)),
            "--config",
            "config.yml",
            "--domain",
            "domain.yml",
            "--out",
            out,
            "--fixed-model-name",
            "assistente",
            *extra,
        ]
        env = {**os.environ, "RASA_TELEMETRY_ENABLED": "false", "TF_CPP_MIN_LOG_LEVEL": "2"}
        if subprocess.run(command, check=False, cwd=ROOT, env=env).returncode != 0:
            return False
        os.replace(Path(out) / MODEL.name, MODEL)
        return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m scripts.train_model", description=__doc__.split("\n")[0])
    parser.add_argument("--full", action="store_true", help="train from scratch even if a fine-tune would do")
    args = parser.parse_args(argv)
    MODEL.parent.mkdir(exist_ok=True)
    now, before = fingerprints(), previous()
    how = decide(now, before, args.full)
    if how == "none":
        MODEL.touch()  # newer than its inputs: make has nothing to do next time
        print(f"{MODEL.relative_to(ROOT)} is up to date")
        return 0
    started = time.monotonic()
    finetunes = 0
    if how == "finetune":
        print(
            f"only NLU examples changed: fine-tuning {MODEL.relative_to(ROOT)} "
            f"({FINETUNE_EPOCH_FRACTION:.0%} of the epochs)",
            flush=True,
        )
        # the previous model is copied first: Rasa reads it while the new one is written
        with tempfile.TemporaryDirectory() as keep:
            base = Path(keep) / MODEL.name
            base.write_bytes(MODEL.read_bytes())
            if rasa_train("--finetune", str(base), "--epoch-fraction", str(FINETUNE_EPOCH_FRACTION)):
                finetunes = before.get("finetunes", 0) + 1
            else:
                print("fine-tuning was refused; training from scratch", flush=True)
                how = "full"
    if how == "full":
        print("training from scratch", flush=True)
        if not rasa_train():
            return 1
    RECORD.write_text(
        json.dumps(
            {**now, "finetunes": finetunes, "how": how, "seconds": round(time.monotonic() - started, 1)}, indent=1
        )
        + "\n"
    )
    print(f"{MODEL.relative_to(ROOT)}: {how} in {time.monotonic() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
