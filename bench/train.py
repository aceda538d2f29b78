"""Training time against NLU quality: trains the assistant with each candidate configuration and
compares them in one table (`make bench-train`).

    python -m bench.train [--only NAME,...] [--cv NAME,...|all] [--folds 5] [--fresh] [--out docs/benchmarks.md]

For each candidate: `rasa train` from scratch (NLU and dialogue, an empty Rasa cache, so nothing is
reused between candidates) timed by wall clock and CPU; the held-out intent macro-F1 and entity F1
(`tests/nlu/test.yml`, never trained on); and, for the candidates named by `--cv`, the 5-fold
cross-validated intent macro-F1 on the training data (five more NLU trainings each, so it is
opt-in). Results are kept per candidate in var/bench/train/<name>/result.json, so a later run
measures only what is missing (`--fresh` measures again). It measures; it asserts nothing.

Each candidate is the repository's config.yml with the DIETClassifier and character n-gram settings
replaced by the candidate's, and the environment's TensorFlow thread settings; the row whose
settings equal config.yml is marked as the one in use.
"""

from __future__ import annotations

import argparse
import copy
import dataclasses
import datetime
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

import yaml

from bench.nlu import CV_ARGS, FIXED_FORM_ENTITIES, prepare_cv_data, summarize
from bench.run import write_section
from scripts.stack import BIN, ROOT

OUT_DIR = ROOT / "var" / "bench" / "train"
MARKERS = ("<!-- bench:train:start -->", "<!-- bench:train:end -->")
DIET = "DIETClassifier"


@dataclasses.dataclass(frozen=True)
class Candidate:
    name: str
    note: str
    diet: dict
    char_ngrams: tuple[int, int] = (1, 4)
    env: dict = dataclasses.field(default_factory=dict)


# DIET's Rasa 3.6 defaults, for reference: 2 transformer layers of size 256, batch 64 -> 256.
CANDIDATES = [
    Candidate("before", "the configuration before this change: 100 epochs, 2 x 256 transformer", {"epochs": 100}),
    Candidate("e30", "same network, 30 epochs", {"epochs": 30}),
    Candidate(
        "t1-128-e40",
        "1 transformer layer of 128, 40 epochs",
        {"epochs": 40, "number_of_transformer_layers": 1, "transformer_size": 128},
    ),
    Candidate(
        "t1-128-e30-b128",
        "1 layer of 128, 30 epochs, batches of 128 -> 512",
        {"epochs": 30, "number_of_transformer_layers": 1, "transformer_size": 128, "batch_size": [128, 512]},
    ),
    Candidate(
        "t1-128-e30-b128-threads",
        "as t1-128-e30-b128, TensorFlow told to use both cores in one op",
        {"epochs": 30, "number_of_transformer_layers": 1, "transformer_size": 128, "batch_size": [128, 512]},
        env={"TF_INTRA_OP_PARALLELISM_THREADS": "2", "TF_INTER_OP_PARALLELISM_THREADS": "1"},
    ),
    Candidate(
        "t1-128-e30-b128-c2-4",
        "as t1-128-e30-b128, character n-grams 2 to 4",
        {"epochs": 30, "number_of_transformer_layers": 1, "transformer_size": 128, "batch_size": [128, 512]},
        char_ngrams=(2, 4),
    ),
    Candidate(
        "t1-128-e30-b128-lr2",
        "as t1-128-e30-b128, learning rate 0.002 (twice the default: half as many steps)",
        {
            "epochs": 30,
            "number_of_transformer_layers": 1,
            "transformer_size": 128,
            "batch_size": [128, 512],
            "learning_rate": 0.002,
        },
    ),
    Candidate(
        "t1-128-e40-b128-lr2",
        "as t1-128-e30-b128-lr2, 40 epochs",
        {
            "epochs": 40,
            "number_of_transformer_layers": 1,
            "transformer_size": 128,
            "batch_size": [128, 512],
            "learning_rate": 0.002,
        },
    ),
    Candidate(
        "t1-128-e40-b32-lr2",
        "as t1-128-e40-b128-lr2, batches of 32 -> 128 (four times the updates per epoch)",
        {
            "epochs": 40,
            "number_of_transformer_layers": 1,
            "transformer_size": 128,
            "batch_size": [32, 128],
            "learning_rate": 0.002,
        },
    ),
    Candidate(
        "t1-256-e30-b128",
        "1 transformer layer of 256, 30 epochs, batches of 128 -> 512",
        {"epochs": 30, "number_of_transformer_layers": 1, "transformer_size": 256, "batch_size": [128, 512]},
    ),
    Candidate(
        "t0-e40-b128",
        "no transformer (feed-forward DIET), 40 epochs, batches of 128 -> 512",
        {"epochs": 40, "number_of_transformer_layers": 0, "batch_size": [128, 512]},
    ),
]


def candidate_config(base: dict, candidate: Candidate) -> dict:
    config = copy.deepcopy(base)
    for component in config["pipeline"]:
        if component["name"] == DIET:
            for key in ("epochs", "number_of_transformer_layers", "transformer_size", "batch_size", "learning_rate"):
                component.pop(key, None)
            component.update(candidate.diet)
        if component["name"] == "CountVectorsFeaturizer" and component.get("analyzer") == "char_wb":
            component["min_ngram"], component["max_ngram"] = candidate.char_ngrams
    return config


def in_use(base: dict, candidate: Candidate) -> bool:
    """True when config.yml (with this process's TensorFlow thread settings) is this candidate."""
    threads = {
        k: os.environ[k]
        for k in ("TF_INTRA_OP_PARALLELISM_THREADS", "TF_INTER_OP_PARALLELISM_THREADS")
        if k in os.environ
    }
    return candidate_config(base, candidate) == base and threads == candidate.env


def _run(command: list[str], env: dict, log: Path) -> tuple[float, float]:
    """Runs `command`; returns (wall seconds, CPU seconds of the children)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.monotonic()
    with log.open("w") as out:
        subprocess.run(command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, check=True)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return time.monotonic() - started, cpu


def measure(base: dict, candidate: Candidate, folds: int, with_cv: bool, fresh: bool) -> dict:
    work = OUT_DIR / candidate.name
    result_path = work / "result.json"
    result = json.loads(result_path.read_text()) if result_path.exists() and not fresh else {}
    config_path = work / "config.yml"
    work.mkdir(parents=True, exist_ok=True)
    config_path.write_text(yaml.safe_dump(candidate_config(base, candidate), allow_unicode=True, sort_keys=False))
    env = {**os.environ, "RASA_TELEMETRY_ENABLED": "false", "TF_CPP_MIN_LOG_LEVEL": "2", **candidate.env}
    if "train_s" not in result:
        cache = work / "cache"
        shutil.rmtree(cache, ignore_errors=True)  # from scratch: nothing reused from an earlier training
        env_train = {**env, "RASA_CACHE_DIRECTORY": str(cache)}
        print(f"[{candidate.name}] training from scratch…", flush=True)
        load_start = os.getloadavg()[0]
        wall, cpu = _run(
            [
                str(BIN / "rasa"),
                "train",
                "--data",
                "bot/data",
                "--config",
                str(config_path),
                "--domain",
                "domain.yml",
                "--out",
                str(work),
                "--fixed-model-name",
                "model",
            ],
            env_train,
            work / "train.log",
        )
        result.update(
            train_s=round(wall, 1),
            load_start=load_start,
            train_cpu_s=round(cpu, 1),
            load=os.getloadavg()[0],
            date=f"{datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M}",
        )
        shutil.rmtree(cache, ignore_errors=True)
        result.pop("held_out", None)
    if "held_out" not in result:
        print(f"[{candidate.name}] held-out test…", flush=True)
        out = work / "held-out"
        _run(
            [
                str(BIN / "rasa"),
                "test",
                "nlu",
                "--nlu",
                "tests/nlu/test.yml",
                "--model",
                str(work / "model.tar.gz"),
                "--out",
                str(out),
            ],
            env,
            work / "held-out.log",
        )
        result["held_out"] = summarize(out)
    if with_cv and "cv" not in result:
        print(f"[{candidate.name}] {folds}-fold cross-validation…", flush=True)
        prepare_cv_data()
        out = work / "cross-validation"
        wall, _ = _run(
            [
                str(BIN / "rasa"),
                "test",
                "nlu",
                "--out",
                str(out),
                *CV_ARGS[:2],
                "--config",
                str(config_path),
                *CV_ARGS[4:],
                str(folds),
            ],
            env,
            work / "cv.log",
        )
        result["cv"] = {**summarize(out), "folds": folds, "wall_s": round(wall, 1)}
    result_path.write_text(json.dumps(result, indent=1, ensure_ascii=False))
    return result


def _f1(value: float | None) -> str:
    return "—" if value is None else f"{value:.3f}"


def _fixed_form(entities: dict[str, float]) -> float | None:
    scores = [f for name, f in entities.items() if name in FIXED_FORM_ENTITIES]
    return min(scores) if scores else None


def _load(result: dict) -> str:
    """The machine's 1-minute load average when the training started and ended (other work on the
    same two cores stretches the wall time; the CPU time is less sensitive to it)."""
    end = f"{result['load']:.1f}"
    return f"{result['load_start']:.1f} → {end}" if "load_start" in result else f"{end} at the end"


def written_rows(path: Path) -> dict[str, str]:
    """The rows of the section already in `path`, by candidate name: a candidate not measured in this run
    (no result.json here, e.g. on a fresh checkout) keeps the row an earlier run wrote."""
    text = path.read_text() if path.exists() else ""
    start, end = text.find(MARKERS[0]), text.find(MARKERS[1])
    rows = {}
    for line in text[start:end].splitlines() if start != -1 and end > start else []:
        cells = line.split("|")
        if len(cells) > 2 and line.startswith("| ") and not line.startswith("| candidate"):
            name = cells[1].strip().split()[0].strip("*")
            rows[name] = line
    return rows


def _unmark(row: str) -> str:
    """A kept row without the "(config.yml)" mark, which this run puts on the candidate in use."""
    return row.replace(" (config.yml)", "").replace("| **", "| ", 1).replace("** |", " |", 1)


def table(base: dict, results: dict[str, dict], kept: dict[str, str] | None = None) -> list[str]:
    lines = [
        (
            "| candidate | what | train from scratch (wall) | CPU | held-out intent macro-F1 | held-out fixed-form "
            "entities (min F1) | held-out other entities (min F1) | 5-fold intent macro-F1 | load (1 min) |"
        ),
        "|---|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for candidate in CANDIDATES:
        r = results.get(candidate.name)
        if not r:
            if kept and candidate.name in kept:
                row = _unmark(kept[candidate.name])
                if in_use(base, candidate):
                    row = row.replace(f"| {candidate.name} |", f"| **{candidate.name}** (config.yml) |", 1)
                lines.append(row)
            continue
        held = r.get("held_out", {})
        others = [f for n, f in held.get("entities", {}).items() if n not in FIXED_FORM_ENTITIES]
        name = f"**{candidate.name}** (config.yml)" if in_use(base, candidate) else candidate.name
        minutes = f"{r['train_s'] / 60:.1f} min ({r['train_s']:.0f} s)"
        lines.append(
            f"| {name} | {candidate.note} | {minutes} | {r['train_cpu_s']:.0f} s | "
            f"{_f1(held.get('macro_f1'))} | {_f1(_fixed_form(held.get('entities', {})))} | "
            f"{_f1(min(others) if others else None)} | {_f1(r.get('cv', {}).get('macro_f1'))} | {_load(r)} |"
        )
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.train", description=__doc__.split("\n")[0])
    parser.add_argument("--only", help="comma-separated candidate names (default: all)")
    parser.add_argument("--cv", default="", help="candidates to cross-validate too ('all' or names)")
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--fresh", action="store_true", help="measure again what is already measured")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "benchmarks.md")
    args = parser.parse_args(argv)
    base = yaml.safe_load((ROOT / "config.yml").read_text())
    names = [c.name for c in CANDIDATES]
    chosen = args.only.split(",") if args.only else names
    cv = names if args.cv == "all" else [n for n in args.cv.split(",") if n]
    unknown = sorted(set(chosen + cv) - set(names))
    if unknown:
        parser.error(f"unknown candidates {unknown}; known: {names}")
    results = {}
    for candidate in CANDIDATES:
        if candidate.name in chosen:
            results[candidate.name] = measure(base, candidate, args.folds, candidate.name in cv, args.fresh)
        elif (OUT_DIR / candidate.name / "result.json").exists():
            results[candidate.name] = json.loads((OUT_DIR / candidate.name / "result.json").read_text())
    kept = written_rows(args.out)
    dates = sorted(r["date"] for r in results.values() if "date" in r)
    text = "\n".join(
        [
            MARKERS[0],
            "## Training time and NLU quality",
            "",
            (
                f"- Measured {dates[0] if dates else '—'} to {dates[-1] if dates else '—'} UTC; command "
                f"`python -m bench.train {' '.join(sys.argv[1:] if argv is None else argv)}` (`make bench-train`)"
                + ("; the other rows are kept from earlier runs (each on the data of its day)" if kept else "")
            ),
            (
                f"- Machine: {os.cpu_count()} cores, {platform.processor() or platform.machine()}; Python "
                f"{platform.python_version()}; each training from scratch with an empty Rasa cache; "
                "the held-out set is `tests/nlu/test.yml` (never trained on)"
            ),
            (
                "- Fixed-form entities (cpf, carteirinha, email, protocolo, data) are read by "
                "`bot/fixed_form_extractor.py`; the other entities are DIET's."
            ),
            "",
            *table(base, results, kept),
            "",
            MARKERS[1],
        ]
    )
    print(text)
    write_section(args.out, text, MARKERS)
    return 0


if __name__ == "__main__":
    sys.exit(main())
