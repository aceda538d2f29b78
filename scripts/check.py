"""`make test`: every check of the repository, fastest first, one summary at the end.

    python -m scripts.check [--only STAGE,...] [--no-model]

The model is trained (or fine-tuned, or found up to date: `make model`) in the background while the
checks that do not need it run: lint, `rasa data validate`, and the tests that start no assistant
(`pytest -m "not integration"`). Then, with the model: the NLU gate on the held-out set, the tests
against the real processes (`pytest -m integration`), and `rasa test core` on the test stories.

A failing stage does not stop the others (a lint error should not hide a broken conversation);
the run ends with one list of every failure — the failed tests by name — and exits non-zero if
there was any.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from pathlib import Path

from scripts.stack import BIN, ROOT

REPORTS = ROOT / "var" / "test-reports"
MODEL = ROOT / "models" / "assistente.tar.gz"


@dataclasses.dataclass
class Result:
    stage: str
    ok: bool
    seconds: float
    failures: list[str] = dataclasses.field(default_factory=list)


def _env() -> dict[str, str]:
    return {
        **os.environ,
        "RASA_TELEMETRY_ENABLED": "false",
        "TF_CPP_MIN_LOG_LEVEL": "2",
        "SQLALCHEMY_SILENCE_UBER_WARNING": "1",
    }


def run(stage: str, *commands: list[str]) -> Result:
    """Runs the commands one after the other (all of them, even after a failure)."""
    print(f"\n=== {stage} ===", flush=True)
    started, failures = time.monotonic(), []
    for command in commands:
        code = subprocess.run(command, check=False, cwd=ROOT, env=_env()).returncode
        if code != 0:
            failures.append(
                f"`{' '.join(Path(c).name if c.startswith(str(ROOT)) else c for c in command)}` exited with {code}"
            )
    return Result(stage, not failures, time.monotonic() - started, failures)


def pytest_stage(stage: str, marker: str) -> Result:
    report = REPORTS / f"{stage}.xml"
    report.unlink(missing_ok=True)
    result = run(
        stage, [str(BIN / "python"), "-m", "pytest", "-q", "-m", marker, f"--junitxml={report}", "--durations=10"]
    )
    if report.exists():
        failed = failed_tests(report)
        if failed:
            result.failures = failed
    return result


def failed_tests(report: Path) -> list[str]:
    failed = []
    for case in ET.parse(report).getroot().iter("testcase"):  # noqa: S314 (our own JUnit report)
        for child in case:
            if child.tag in ("failure", "error"):
                name = f"{case.get('classname', '')}::{case.get('name', '')}"
                first_line = (child.get("message") or "").strip().splitlines()[:1]
                failed.append(f"{name} — {first_line[0][:160] if first_line else child.tag}")
    return failed


STAGES = ("lint", "validate", "unit", "model", "nlu", "integration", "stories")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m scripts.check", description=__doc__.split("\n")[0])
    parser.add_argument("--only", help=f"comma-separated stages among {', '.join(STAGES)}")
    args = parser.parse_args(argv)
    only = set(args.only.split(",")) if args.only else set(STAGES)
    if only - set(STAGES):
        parser.error(f"unknown stages {sorted(only - set(STAGES))}")
    REPORTS.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    results: list[Result] = []

    training = None
    if only & {"model", "nlu", "integration", "stories"}:
        log = (REPORTS / "model.log").open("w")
        print(f"training the model in the background if its inputs changed (log: {log.name})", flush=True)
        training = (
            subprocess.Popen(
                ["make", "--no-print-directory", "model"], cwd=ROOT, env=_env(), stdout=log, stderr=subprocess.STDOUT
            ),
            time.time(),
            log,
        )

    if "lint" in only:
        results.append(
            run(
                "lint",
                [str(BIN / "ruff"), "check", "."],
                [str(BIN / "ruff"), "format", "--check", "."],
                [str(BIN / "mypy")],
            )
        )
    if "validate" in only:
        results.append(
            run(
                "validate",
                [
                    str(BIN / "rasa"),
                    "data",
                    "validate",
                    "--data",
                    "bot/data",
                    "--domain",
                    "domain.yml",
                    "--config",
                    "config.yml",
                ],
            )
        )
    if "unit" in only:
        results.append(pytest_stage("unit", "not integration"))

    model_ok = True
    if training:
        process, since, log = training
        print("\n=== model ===", flush=True)
        code = process.wait()
        log.close()
        model_ok = code == 0 and MODEL.exists()
        tail = Path(log.name).read_text(errors="replace").splitlines()[-3:]
        print("\n".join(tail), flush=True)
        results.append(
            Result(
                "model",
                model_ok,
                # how long make took: its log's last write, not when the other stages let us look
                Path(log.name).stat().st_mtime - since,
                [] if model_ok else [f"training failed ({code}); see {log.name}"],
            )
        )
    if model_ok:
        if "nlu" in only:
            results.append(run("nlu", [str(BIN / "python"), "-m", "scripts.nlu_gate"]))
        if "integration" in only:
            results.append(pytest_stage("integration", "integration"))
        if "stories" in only:
            results.append(
                run(
                    "stories",
                    [
                        str(BIN / "rasa"),
                        "test",
                        "core",
                        "--stories",
                        "tests/stories",
                        "--model",
                        str(MODEL),
                        "--out",
                        "var/rasa-test",
                        "--fail-on-prediction-errors",
                    ],
                )
            )

    print("\n=== summary ===")
    for result in results:
        print(f"{'ok  ' if result.ok else 'FAIL'} {result.stage:<12} {result.seconds:6.0f} s")
        for failure in result.failures:
            print(f"       {failure}")
    print(f"total {time.monotonic() - started:.0f} s")
    failed = [r.stage for r in results if not r.ok]
    if failed:
        print(f"failed: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
