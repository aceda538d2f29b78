"""What the phone-noise augmentation (`make augment`, bot/data/nlu/generated/) does to the held-out
figures and to the training time: trains the assistant twice from scratch, on the written examples
only and with the generated variants, and tests both on the held-out set.

    python -m bench.augment [--only written,augmented] [--fresh] [--out docs/benchmarks.md]

Each training is `rasa train` (NLU and dialogue, as `make model` from scratch) on a copy of bot/data,
with an empty Rasa cache, timed by wall clock and CPU; then `rasa test nlu` on tests/nlu/test.yml
(never trained on). Reported: intent macro-F1, the wrong intents predicted with confidence above
0.90 (by name), the especialidade F1, the fixed-form entities' lowest F1 and the training time.
Results are kept in var/bench/augment/<name>/result.json; a later run measures only what is missing
(`--fresh` measures again). It measures; it asserts nothing.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import shutil
import sys
from pathlib import Path

from bench.nlu import FIXED_FORM_ENTITIES, OVERCONFIDENT, summarize
from bench.run import write_section
from bench.train import _run
from scripts.augment_nlu import HELD_OUT, OUTPUT, intent_examples, variant
from scripts.stack import BIN, ROOT

OUT_DIR = ROOT / "var" / "bench" / "augment"
MARKERS = ("<!-- bench:augment:start -->", "<!-- bench:augment:end -->")
NOISY_SEED = 7  # not the generator's seed: other slips than the training variants have
SETS = {
    "written": "the written examples only (bot/data without bot/data/nlu/generated)",
    "augmented": "the written examples and the generated variants (bot/data, as `make model` trains)",
}


def data_copy(name: str, work: Path) -> Path:
    data = work / "data"
    shutil.rmtree(data, ignore_errors=True)
    generated = OUTPUT.parent.name
    ignore = shutil.ignore_patterns(generated) if name == "written" else None
    shutil.copytree(ROOT / "bot" / "data", data, ignore=ignore)
    return data


def noisy_held_out() -> Path:
    """The held-out set as typed on a phone: each example through the generator's noise (another seed)."""
    path = OUT_DIR / "test-noisy.yml"
    by_intent: dict[str, list[str]] = {}
    for intent, example in intent_examples(HELD_OUT):
        by_intent.setdefault(intent, []).append(variant(intent, example, NOISY_SEED) or example)
    lines = ['version: "3.1"', "nlu:"]
    for intent, examples in by_intent.items():
        lines += [f"- intent: {intent}", "  examples: |", *(f"    - {e}" for e in examples)]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def measure(name: str, fresh: bool) -> dict:
    work = OUT_DIR / name
    result_path = work / "result.json"
    result = json.loads(result_path.read_text()) if result_path.exists() and not fresh else {}
    work.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "RASA_TELEMETRY_ENABLED": "false", "TF_CPP_MIN_LOG_LEVEL": "2"}
    if "train_s" not in result:
        data = data_copy(name, work)
        cache = work / "cache"
        shutil.rmtree(cache, ignore_errors=True)  # from scratch: nothing reused from an earlier training
        print(f"[{name}] training from scratch…", flush=True)
        load_start = os.getloadavg()[0]
        command = [str(BIN / "rasa"), "train", "--data", str(data), "--config", "config.yml", "--domain", "domain.yml"]
        wall, cpu = _run(
            [*command, "--out", str(work), "--fixed-model-name", "model"],
            {**env, "RASA_CACHE_DIRECTORY": str(cache)},
            work / "train.log",
        )
        result = {
            "examples": sum(len(intent_examples(path)) for path in sorted(data.rglob("*.yml"))),
            "train_s": round(wall, 1),
            "train_cpu_s": round(cpu, 1),
            "load_start": load_start,
            "load": os.getloadavg()[0],
            "date": f"{datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M}",
        }
        shutil.rmtree(cache, ignore_errors=True)
    if "held_out" not in result:
        print(f"[{name}] held-out test…", flush=True)
        out = work / "held-out"
        _run(
            [str(BIN / "rasa"), "test", "nlu", "--nlu", "tests/nlu/test.yml", "--model", str(work / "model.tar.gz")]
            + ["--out", str(out)],
            env,
            work / "held-out.log",
        )
        result["held_out"] = summarize(out)
    if "held_out_noisy" not in result:
        print(f"[{name}] held-out test with phone noise…", flush=True)
        out = work / "held-out-noisy"
        _run(
            [str(BIN / "rasa"), "test", "nlu", "--nlu", str(noisy_held_out()), "--model", str(work / "model.tar.gz")]
            + ["--out", str(out)],
            env,
            work / "held-out-noisy.log",
        )
        result["held_out_noisy"] = summarize(out)
    result_path.write_text(json.dumps(result, indent=1, ensure_ascii=False))
    return result


def _f1(value: float | None) -> str:
    return "—" if value is None else f"{value:.3f}"


def table(results: dict[str, dict]) -> list[str]:
    lines = [
        (
            "| training data | examples | held-out intent macro-F1 | same, with phone noise "
            f"| wrong intents with confidence > {OVERCONFIDENT} | especialidade F1 | fixed-form entities (min F1) "
            "| train from scratch (wall) | CPU | load (1 min) |"
        ),
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name, what in SETS.items():
        r = results.get(name)
        if not r:
            continue
        held = r["held_out"]
        fixed = [f for n, f in held["entities"].items() if n in FIXED_FORM_ENTITIES]
        lines.append(
            f"| {name}: {what} | {r['examples']} | {_f1(held['macro_f1'])} | "
            f"{_f1(r.get('held_out_noisy', {}).get('macro_f1'))} | {len(held.get('overconfident', []))} | "
            f"{_f1(held['entities'].get('especialidade'))} | {_f1(min(fixed) if fixed else None)} | "
            f"{r['train_s'] / 60:.1f} min ({r['train_s']:.0f} s) | {r['train_cpu_s']:.0f} s | "
            f"{r['load_start']:.1f} → {r['load']:.1f} |"
        )
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.augment", description=__doc__.split("\n")[0])
    parser.add_argument("--only", default=",".join(SETS), help="comma-separated: written, augmented")
    parser.add_argument("--fresh", action="store_true", help="measure again what is already measured")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "benchmarks.md")
    args = parser.parse_args(argv)
    chosen = [n for n in args.only.split(",") if n]
    unknown = sorted(set(chosen) - set(SETS))
    if unknown:
        parser.error(f"unknown sets {unknown}; known: {list(SETS)}")
    results = {}
    for name in SETS:
        if name in chosen:
            results[name] = measure(name, args.fresh)
        elif (OUT_DIR / name / "result.json").exists():
            results[name] = json.loads((OUT_DIR / name / "result.json").read_text())
    dates = sorted(r["date"] for r in results.values())
    lines = [
        MARKERS[0],
        "### Phone-noise augmentation (`make augment`): with and without",
        "",
        (
            f"- Measured {dates[0] if dates else '—'} to {dates[-1] if dates else '—'} UTC; command "
            f"`{' '.join(['python -m bench.augment', *(sys.argv[1:] if argv is None else argv)])}`; each training from "
            "scratch (`rasa train`, NLU and dialogue) with an empty Rasa cache on the 2-core machine; held-out set "
            "`tests/nlu/test.yml`."
        ),
        "",
        *table(results),
        "",
    ]
    for name in SETS:
        if name in results:
            wrong = results[name]["held_out"].get("overconfident", [])
            lines.append(
                f"- {name}: wrong intents with confidence > {OVERCONFIDENT}: "
                + ("; ".join(f"“{t}” {a} → {b} ({c:.2f})" for a, b, c, t in wrong) or "none")
            )
    lines += ["", MARKERS[1]]
    text = "\n".join(lines)
    print(text)
    write_section(args.out, text, MARKERS)
    return 0


if __name__ == "__main__":
    sys.exit(main())
