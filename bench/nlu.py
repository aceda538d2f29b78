"""NLU quality: `rasa test nlu` on the held-out set (tests/nlu/test.yml, never trained on) and a
5-fold cross-validation on the training data.

    python -m bench.nlu [--folds 5] [--skip-cv | --reuse-cv] [--out docs/benchmarks.md]

The cross-validation trains the NLU pipeline five times (about an hour on two cores); `--reuse-cv`
summarises the reports of the last run in var/bench/nlu/cross-validation instead of training again.

Writes intent macro-F1, the worst 5 intents, the most frequent confusion pairs and the entity
F1 of the contract's fixed-form entities into its section of docs/benchmarks.md. It measures;
it asserts nothing (the targets are printed next to the figures).
"""

from __future__ import annotations

import argparse
import collections
import datetime
import json
import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

from bench.run import write_section
from common.patterns import FIXED_FORM_ENTITIES
from scripts.stack import BIN, ROOT

MODEL = ROOT / "models" / "assistente.tar.gz"
OUT_DIR = ROOT / "var" / "bench" / "nlu"
MARKERS = ("<!-- bench:nlu:start -->", "<!-- bench:nlu:end -->")
# The targets: intent macro-F1 on the held-out set and on the 5-fold cross-validation.
TARGET_HELD_OUT_F1 = 0.96
TARGET_CV_F1 = 0.92
TARGET_ENTITY_F1 = 0.98
# The pipeline reads the fixed-form entities by form (bot/fixed_form_extractor.py) and DIET
# tags the others; each entity is scored from the report of the extractor that owns it.
FIXED_FORM_EXTRACTOR = "FixedFormEntityExtractor"
STATISTICAL_EXTRACTOR = "DIETClassifier"
# Cross-validated on the written examples only: a generated noise variant (bot/data/nlu/generated,
# `make augment`) in one fold and its source in another would score the model on what it trained on.
CV_DATA = OUT_DIR / "written"
CV_ARGS = ("--nlu", str(CV_DATA.relative_to(ROOT)), "--config", "config.yml", "--cross-validation", "--folds")
OVERCONFIDENT = 0.90  # a wrong intent predicted with more confidence than this is reported by name
LISTED = 10  # at most this many of them are written out


def prepare_cv_data() -> Path:
    """CV_DATA: a copy of the written NLU files (bot/data/nlu/*.yml, not the generated ones)."""
    shutil.rmtree(CV_DATA, ignore_errors=True)
    CV_DATA.mkdir(parents=True)
    for path in sorted((ROOT / "bot" / "data" / "nlu").glob("*.yml")):
        shutil.copy(path, CV_DATA / path.name)
    return CV_DATA


def rasa_test_nlu(out: Path, *extra: str) -> None:
    out.mkdir(parents=True, exist_ok=True)
    command = [str(BIN / "rasa"), "test", "nlu", "--out", str(out), *extra]
    subprocess.run(
        command,
        cwd=ROOT,
        check=True,
        env={**os.environ, "RASA_TELEMETRY_ENABLED": "false", "TF_CPP_MIN_LOG_LEVEL": "2"},
    )


def _report(out: Path, name: str) -> dict:
    path = out / name
    return json.loads(path.read_text()) if path.exists() else {}


def summarize(out: Path) -> dict:
    intents = _report(out, "intent_report.json")
    per_intent = {
        k: v
        for k, v in intents.items()
        if isinstance(v, dict) and "f1-score" in v and k not in ("macro avg", "weighted avg", "micro avg")
    }
    worst = sorted(per_intent.items(), key=lambda item: item[1]["f1-score"])[:5]
    errors = json.loads((out / "intent_errors.json").read_text()) if (out / "intent_errors.json").exists() else []
    pairs = collections.Counter((e["intent"], e["intent_prediction"]["name"]) for e in errors)
    overconfident = sorted(
        (
            (e["intent"], e["intent_prediction"]["name"], round(e["intent_prediction"]["confidence"], 3), e["text"])
            for e in errors
            if (e["intent_prediction"].get("confidence") or 0) > OVERCONFIDENT
        ),
        key=lambda error: -error[2],
    )
    entities = entity_scores(out)
    return {
        "macro_f1": intents.get("macro avg", {}).get("f1-score"),
        "accuracy": intents.get("accuracy"),
        "examples": sum(v.get("support", 0) for v in per_intent.values()),
        "worst": [(name, v["f1-score"], v.get("support", 0)) for name, v in worst],
        "pairs": pairs.most_common(8),
        "overconfident": overconfident,
        "entities": entities,
    }


def entity_scores(out: Path) -> dict[str, float]:
    """Entity F1 as the assistant sees it: each entity from the extractor that owns it."""
    scores = {}
    for extractor in (STATISTICAL_EXTRACTOR, FIXED_FORM_EXTRACTOR):
        for name, values in _report(out, f"{extractor}_report.json").items():
            owner = FIXED_FORM_EXTRACTOR if name in FIXED_FORM_ENTITIES else STATISTICAL_EXTRACTOR
            if (
                owner == extractor
                and isinstance(values, dict)
                and not name.endswith(" avg")
                and "f1-score" in values
                and values.get("support", 0) > 0
            ):
                scores[name] = values["f1-score"]
    return scores


def _fmt(value: float | None) -> str:
    return "—" if value is None else f"{value:.3f}"


def block(title: str, result: dict, target: float) -> list[str]:
    met = (
        ""
        if result["macro_f1"] is None
        else f" (target ≥ {target:.2f}: " + ("met)" if result["macro_f1"] >= target else "not met)")
    )
    lines = [
        f"### {title}",
        "",
        (
            f"- Intent macro-F1: **{_fmt(result['macro_f1'])}**{met}; accuracy {_fmt(result['accuracy'])}; "
            f"{result['examples']} examples"
        ),
        "- Worst 5 intents (F1, examples): " + ", ".join(f"{n} {_fmt(f)} ({s})" for n, f, s in result["worst"]),
        "- Most frequent confusions (true → predicted, count): "
        + (", ".join(f"{a} → {b} ({c})" for (a, b), c in result["pairs"]) or "none"),
        f"- Wrong intents predicted with confidence > {OVERCONFIDENT}: {len(result.get('overconfident', []))}"
        + "".join(f"; “{t}” {a} → {b} ({c:.2f})" for a, b, c, t in result.get("overconfident", [])[:LISTED])
        + ("; …" if len(result.get("overconfident", [])) > LISTED else ""),
        "- Entity F1 (target ≥ 0.98 for the fixed-form ones, which are read by form): "
        + ", ".join(
            f"{n} {_fmt(f)}" + ("" if n not in FIXED_FORM_ENTITIES else (" ✓" if f >= TARGET_ENTITY_F1 else " ✗"))
            for n, f in sorted(result["entities"].items())
        ),
        "",
    ]
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.nlu", description=__doc__.split("\n")[0])
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--skip-cv", action="store_true")
    parser.add_argument("--reuse-cv", action="store_true")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "benchmarks.md")
    args = parser.parse_args(argv)
    started = datetime.datetime.now(datetime.timezone.utc)
    rasa_test_nlu(OUT_DIR / "held-out", "--nlu", "tests/nlu/test.yml", "--model", str(MODEL))
    sections = [
        MARKERS[0],
        "## NLU quality",
        "",
        (
            f"- Date: {started:%Y-%m-%d %H:%M} UTC; model `models/assistente.tar.gz`; "
            f"command `{shlex.join(['python', '-m', 'bench.nlu', *(sys.argv[1:] if argv is None else argv)])}`"
        ),
        "- Held-out set: `tests/nlu/test.yml` (written apart from the training data, never trained on).",
        "",
    ]
    sections += block("Held-out test set", summarize(OUT_DIR / "held-out"), TARGET_HELD_OUT_F1)
    if not args.skip_cv:
        if not args.reuse_cv:
            prepare_cv_data()
            rasa_test_nlu(OUT_DIR / "cross-validation", *CV_ARGS, str(args.folds))
        sections += block(
            f"{args.folds}-fold cross-validation on the written training data (without the generated variants)",
            summarize(OUT_DIR / "cross-validation"),
            TARGET_CV_F1,
        )
    sections.append(MARKERS[1])
    text = "\n".join(sections)
    print(text)
    write_section(args.out, text, MARKERS)
    return 0


if __name__ == "__main__":
    sys.exit(main())
