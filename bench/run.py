"""REST load benchmark: our esqueci_senha flow vs the vanilla `rasa init` moodbot.

    python -m bench.run [--concurrency 1,10,50] [--conversations-per-level K]
                        [--skip-ours | --skip-vanilla] [--out docs/benchmarks.md]

Both assistants are served by `rasa run --enable-api` with the REST channel and driven with
4- and 5-turn conversations by the same client. Levels are interleaved (ours, then vanilla, per level)
so that a change in the machine's background load hits both alike. The results replace only
this benchmark's section of the output file. The exit status is 1 when a conversation got a
wrong answer or failed (its logs are then kept under var/bench/); no timing is ever asserted.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime
import math
import os
import platform
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from importlib.metadata import version
from pathlib import Path

import yaml

from bench.load import LevelResult, Script, Stats, Turn, client_session, run_level, stats
from scripts.stack import BIN, ROOT, Process, Stack, free_port, tracker_store_config

MODEL = ROOT / "models" / "assistente.tar.gz"
BENCH_DIR = ROOT / "var" / "bench"
START_TIMEOUT_S = 300
WARMUP_CONVERSATIONS = 2
TARGET_THROUGHPUT = 0.9  # ours/vanilla turns/s, at least
TARGET_SINGLE_USER_P50 = 1.3  # ours/vanilla p50 at concurrency 1, at most
SECTION_START, SECTION_END = "<!-- bench:rest:start -->", "<!-- bench:rest:end -->"
RASA_ENV = {"RASA_TELEMETRY_ENABLED": "false", "TF_CPP_MIN_LOG_LEVEL": "2", "SQLALCHEMY_SILENCE_UBER_WARNING": "1"}

OURS = Script(
    "esqueci_senha",
    (
        Turn("esqueci minha senha", "carteirinha"),
        Turn("100200300401", "cpf"),
        Turn("945.807.302-24", "nascimento"),
        Turn("12/03/1985", "m***@exemplo.com.br"),  # identity check; asks whether the e-mail is still right
        Turn("sim", "Enviei uma senha temporária"),  # bcrypt cost 12 + e-mail
    ),
)
# The same assistant and the same first four turns (identity check included), ending with
# "cancelar" instead of "sim": no bcrypt. Measures the throughput without the deliberate cost.
OURS_NO_RESET = Script("esqueci_senha, cancelado no 5º turno", (*OURS.turns[:4], Turn("cancelar", "cancel")))
VANILLA = Script(
    "moodbot",
    (
        Turn("hello", "how are you"),
        Turn("I am sad", "did that help"),
        Turn("yes", "great, carry on"),
        Turn("bye", "bye"),
    ),
)
ALL_TURNS, WITHOUT_RESET, RESET_TURN = range(1, 6), range(1, 5), range(5, 6)


# --- the two assistants ---------------------------------------------------------------------


@contextlib.contextmanager
def our_assistant(var_dir: Path) -> Iterator[str]:
    if not MODEL.exists():
        raise SystemExit(f"{MODEL.relative_to(ROOT)} is missing: run `make model` (or use --skip-ours)")
    stack = Stack(
        var_dir=var_dir,
        backend_port=free_port(),
        actions_port=free_port(),
        rasa_port=free_port(),
        model=MODEL,
        extra_env={**RASA_ENV, "DATABASE_URL": f"sqlite:///{var_dir / 'backend.db'}", "MAIL_BACKEND": "maildir"},
    )
    stack.prepare_database()
    stack.start(timeout_s=START_TIMEOUT_S)
    try:
        yield stack.rasa_url
    finally:
        stack.stop()


def vanilla_project() -> Path:
    """The `rasa init` project with its trained model, created once per rasa version."""
    project = BENCH_DIR / "vanilla" / f"rasa-{version('rasa')}"
    if any(project.glob("models/*.tar.gz")):
        return project
    project.parent.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix="init-", dir=project.parent))
    log = scratch / "init.log"
    print(f"training the vanilla `rasa init` model once for rasa {version('rasa')} (log: {log})")
    try:
        with open(log, "wb") as out:
            subprocess.run(
                [str(BIN / "rasa"), "init", "--no-prompt", "--init-dir", str(scratch)],
                cwd=scratch,
                env={**os.environ, **RASA_ENV},
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                check=True,
            )
        shutil.rmtree(project, ignore_errors=True)
        scratch.rename(project)
    except BaseException:
        shutil.rmtree(scratch, ignore_errors=True)
        raise
    return project


@contextlib.contextmanager
def vanilla_assistant(project: Path, run_dir: Path) -> Iterator[str]:
    """Served the same way as ours: same server entry point, same kind of tracker store."""
    port = free_port()
    log_path = run_dir / "vanilla-rasa.log"
    endpoints = run_dir / "vanilla-endpoints.yml"
    endpoints.write_text(yaml.safe_dump({"tracker_store": tracker_store_config(run_dir / "vanilla")}))
    (run_dir / "vanilla").mkdir(parents=True, exist_ok=True)
    argv = [
        sys.executable,
        "-m",
        "bot.rasa_server",
        "run",
        "--enable-api",
        "--port",
        str(port),
        "--model",
        str(project / "models"),
        "--endpoints",
        str(endpoints),
    ]
    server = Process("vanilla rasa", argv, f"http://127.0.0.1:{port}/", log_path, {**os.environ, **RASA_ENV})
    try:
        with open(log_path, "ab") as log:  # Process.start() would run it from our repository
            server.popen = subprocess.Popen(
                argv,
                cwd=project,
                env=server.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        server.wait_ready(START_TIMEOUT_S)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()  # the whole process group


# --- measuring ------------------------------------------------------------------------------


async def measure(
    servers: dict[str, tuple[str, Script]], levels: list[int], budgets: dict[int, int]
) -> dict[str, list[LevelResult]]:
    results: dict[str, list[LevelResult]] = {name: [] for name in servers}
    async with client_session(max(levels)) as session:
        for name, (url, script) in servers.items():
            warmup = await run_level(session, url, script, 1, WARMUP_CONVERSATIONS)
            if warmup.error_count:
                raise SystemExit(f"{name}: warm-up failed: {describe_errors(warmup)}")
        for level in levels:
            for name, (url, script) in servers.items():
                result = await run_level(session, url, script, level, budgets[level])
                results[name].append(result)
                whole = stats(result.turn_latencies(ALL_TURNS), result.wall_s)
                print(
                    f"{name:>13} x{level:<3} {result.conversations} conversations, {whole.turns} turns "
                    f"in {result.wall_s:.1f}s: {whole.per_s:.1f} turns/s, p50 {whole.p50_ms:.0f} ms, "
                    f"p95 {whole.p95_ms:.0f} ms, errors {result.error_count}",
                    flush=True,
                )
                if result.error_count:
                    print(f"         {describe_errors(result)}", flush=True)
    return results


def describe_errors(result: LevelResult) -> str:
    return "; ".join(
        f"{count}x {reason} (e.g. {result.examples[reason]!r})" for reason, count in result.errors.most_common()
    )


# --- reporting ------------------------------------------------------------------------------


def machine() -> str:
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        "unknown CPU",
    )
    return (
        f"{len(os.sched_getaffinity(0))} cores (nproc), {cpu}; Python {platform.python_version()}, "
        f"rasa {version('rasa')}, rasa-sdk {version('rasa-sdk')}, aiohttp {version('aiohttp')}"
    )


def _row(label: str, s: Stats, conversations: str) -> str:
    return (
        f"| {label} | {conversations} | {s.turns} | {s.per_s:.1f} | {s.p50_ms:.0f} | {s.p95_ms:.0f} | {s.p99_ms:.0f} |"
    )


def _conversations(result: LevelResult) -> str:
    return f"{result.conversations} ({result.error_count} errors)"


def _met(ours: float, vanilla: float, ok) -> str:
    """`ours/vanilla` and whether `ok(ratio)`; n/a when a side has nothing to measure."""
    if not vanilla or math.isnan(ours) or math.isnan(vanilla):
        return "n/a (nothing measured)"
    ratio = ours / vanilla
    return f"{ratio:.2f}× — {'met' if ok(ratio) else '**not met**'}"


def level_table(ours: LevelResult | None, no_reset: LevelResult | None, vanilla: LevelResult | None) -> list[str]:
    level = (ours or vanilla).concurrency
    lines = [
        f"### {level} concurrent user{'s' if level > 1 else ''}",
        "",
        "| assistant, turns | conversations | turns | turns/s | p50 ms | p95 ms | p99 ms |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    walls = []
    if ours:
        conv = _conversations(ours)
        lines += [
            _row("ours, all turns", stats(ours.turn_latencies(ALL_TURNS), ours.wall_s), conv),
            _row("ours, turns 1–4 (no bcrypt)", stats(ours.turn_latencies(WITHOUT_RESET), ours.wall_s), ""),
            _row("ours, turn 5 (reset, bcrypt 12)", stats(ours.turn_latencies(RESET_TURN), ours.wall_s), ""),
        ]
        walls.append(f"ours {ours.wall_s:.1f} s")
    if no_reset:
        lines.append(
            _row(
                'ours, 5th turn "cancelar" (no bcrypt at all)',
                stats(no_reset.turn_latencies(ALL_TURNS), no_reset.wall_s),
                _conversations(no_reset),
            )
        )
        walls.append(f"ours without reset {no_reset.wall_s:.1f} s")
    if vanilla:
        lines.append(
            _row(
                "vanilla `rasa init`, all turns",
                stats(vanilla.turn_latencies(ALL_TURNS), vanilla.wall_s),
                _conversations(vanilla),
            )
        )
        walls.append(f"vanilla {vanilla.wall_s:.1f} s")
    lines += ["", f"Wall time: {', '.join(walls)}."]
    for name, result in (("ours", ours), ("ours without reset", no_reset), ("vanilla", vanilla)):
        if result and result.error_count:
            lines.append(f"Errors ({name}): {describe_errors(result)}.")
    return lines + [""]


def ratios(ours: list[LevelResult], no_reset: list[LevelResult], vanilla: list[LevelResult]) -> list[str]:
    lines = [
        "### Ours vs vanilla",
        "",
        (
            f"Targets: throughput ≥ {TARGET_THROUGHPUT}× vanilla at every level; "
            f"single-user p50 ≤ {TARGET_SINGLE_USER_P50}× vanilla."
        ),
        "",
        '| concurrency | throughput ours/vanilla, with the bcrypt reset | without it (5th turn "cancelar") |',
        "|---:|---|---|",
    ]
    for o, n, v in zip(ours, no_reset, vanilla, strict=False):
        vanilla_per_s = stats(v.turn_latencies(ALL_TURNS), v.wall_s).per_s
        with_reset, without = (
            _met(stats(r.turn_latencies(ALL_TURNS), r.wall_s).per_s, vanilla_per_s, lambda x: x >= TARGET_THROUGHPUT)
            for r in (o, n)
        )
        lines.append(f"| {o.concurrency} | {with_reset} | {without} |")
    single = [(o, v) for o, v in zip(ours, vanilla, strict=False) if o.concurrency == 1]
    lines.append("")
    if single:
        o, v = single[0]
        base = stats(v.turn_latencies(ALL_TURNS), v.wall_s).p50_ms
        for label, turns in (
            ("all turns (with the deliberate bcrypt cost)", ALL_TURNS),
            ("turns 1–4 (without it)", WITHOUT_RESET),
        ):
            p50 = stats(o.turn_latencies(turns), o.wall_s).p50_ms
            lines.append(
                f"- Single-user p50, ours {label} / vanilla: {p50:.0f} / {base:.0f} ms = "
                f"{_met(p50, base, lambda r: r <= TARGET_SINGLE_USER_P50)}"
            )
    else:
        lines.append("- Single-user p50: not measured (no concurrency level 1).")
    lines += [
        "",
        (
            "The reset turn hashes a temporary password with bcrypt at cost 12 (~250 ms of CPU, "
            "deliberate, never lowered), so with two cores the password resets alone cap the "
            'throughput of the full flow. The "cancelar" run drives the same assistant, the same '
            "form and the same action-server round trips without that cost."
        ),
        "",
    ]
    return lines


def section(
    results: dict[str, list[LevelResult]],
    command: str,
    started: datetime.datetime,
    loads: tuple[tuple[float, ...], tuple[float, ...]],
    ours_tracker: str,
) -> str:
    ours, no_reset, vanilla = results.get("ours"), results.get("ours-no-reset"), results.get("vanilla")
    first = ours or vanilla
    lines = [
        SECTION_START,
        "## REST load: esqueci_senha vs vanilla `rasa init`",
        "",
        f"- Date: {started:%Y-%m-%d %H:%M} UTC",
        (
            f"- Machine: {machine()}; load average (1/5/15 min) "
            f"{'/'.join(f'{x:.2f}' for x in loads[0])} at start, "
            f"{'/'.join(f'{x:.2f}' for x in loads[1])} at end (the machine is shared)"
        ),
        f"- Command: `make bench` (ran `{command}`)",
        (
            "- Method: `POST /webhooks/rest/webhook` against `rasa run --enable-api` (1 Sanic worker); "
            "per level, N workers run conversations (ours 5 turns, vanilla 4) back to back, each with a new sender id, "
            "until the level's conversations are done; latency = POST sent → whole response read; "
            "turns/s = turns / wall time of the level. "
            f"{WARMUP_CONVERSATIONS} warm-up conversations each, not counted. "
            "With both assistants, each level runs ours, then vanilla."
        ),
        "- Ours: backend + action server + Rasa (`models/assistente.tar.gz`), conversation "
        '"esqueci minha senha" → "100200300401" → "945.807.302-24" → "12/03/1985" → "sim"; turn 4 verifies '
        "the identity and shows the masked e-mail on file, turn 5 hashes a temporary password with bcrypt "
        f"cost 12 (deliberate, ~250 ms CPU) and writes the e-mail. Tracker store: {ours_tracker}."
        if ours
        else "- Ours: not measured in this run (`--skip-ours`).",
        "- Vanilla: `rasa init --no-prompt` moodbot, no action server, served the same way as ours "
        f"(`python -m bot.rasa_server run`, tracker store: {ours_tracker}); "
        '"hello" → "I am sad" → "yes" → "bye".'
        if vanilla
        else "- Vanilla: not measured in this run (`--skip-vanilla`).",
        "- A conversation is an error when a call fails or an answer lacks its expected text.",
        "",
    ]
    for i, _level in enumerate(first):
        lines += level_table(
            ours[i] if ours else None, no_reset[i] if no_reset else None, vanilla[i] if vanilla else None
        )
    if ours and vanilla:
        lines += ratios(ours, no_reset, vanilla)
    return "\n".join(lines).rstrip() + "\n" + SECTION_END + "\n"


def write_section(path: Path, text: str, markers: tuple[str, str] = (SECTION_START, SECTION_END)) -> None:
    """Replaces one benchmark's section (between `markers`), keeping everything else in the file."""
    current = path.read_text() if path.exists() else "# Benchmarks\n"
    start, end = current.find(markers[0]), current.find(markers[1])
    if start != -1 and end > start:
        rest = current[end + len(markers[1]) :].lstrip("\n")
        current = current[:start] + text + ("\n" + rest if rest else "")
    else:
        current = current.rstrip("\n") + "\n\n" + text
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(current)


# --- command line ---------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__.split("\n")[0])
    parser.add_argument(
        "--concurrency", default="1,10,50", help="comma-separated concurrency levels (default: 1,10,50)"
    )
    parser.add_argument(
        "--conversations-per-level", type=int, help="conversations per level (default: 2 x concurrency, at least 10)"
    )
    skip = parser.add_mutually_exclusive_group()
    skip.add_argument("--skip-ours", action="store_true", help="measure only the vanilla assistant")
    skip.add_argument("--skip-vanilla", action="store_true", help="measure only our assistant")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "benchmarks.md")
    args = parser.parse_args(argv)
    try:
        args.levels = [int(x) for x in args.concurrency.split(",")]
    except ValueError:
        parser.error("--concurrency: integers separated by commas, e.g. 1,10,50")
    if any(n < 1 for n in args.levels):
        parser.error("--concurrency: levels must be at least 1")
    if args.conversations_per_level is not None and args.conversations_per_level < max(args.levels):
        parser.error("--conversations-per-level must be at least the highest concurrency level")
    args.budgets = {n: args.conversations_per_level or max(10, 2 * n) for n in args.levels}
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # so the finally blocks stop the servers
    started = datetime.datetime.now(datetime.timezone.utc)
    load_start = os.getloadavg()
    project = None if args.skip_vanilla else vanilla_project()
    BENCH_DIR.mkdir(parents=True, exist_ok=True)
    run_dir = Path(tempfile.mkdtemp(prefix="run-", dir=BENCH_DIR))
    try:
        with contextlib.ExitStack() as running:
            servers = {}
            if not args.skip_ours:
                url = running.enter_context(our_assistant(run_dir / "ours"))
                servers["ours"] = (url, OURS)
                servers["ours-no-reset"] = (url, OURS_NO_RESET)
            if project:
                servers["vanilla"] = (running.enter_context(vanilla_assistant(project, run_dir)), VANILLA)
            results = asyncio.run(measure(servers, args.levels, args.budgets))
    except BaseException:
        print(f"benchmark aborted; logs kept in {run_dir}", file=sys.stderr)
        raise
    failed = any(r.error_count for rs in results.values() for r in rs)
    if failed:
        print(f"some conversations failed; logs kept in {run_dir}", file=sys.stderr)
    else:
        shutil.rmtree(run_dir)
    command = shlex.join(["python", "-m", "bench.run", *(sys.argv[1:] if argv is None else argv)])
    text = section(
        results, command, started, (load_start, os.getloadavg()), tracker_store_config(run_dir / "ours")["dialect"]
    )
    print("\n" + text)
    write_section(args.out, text)
    print(f"written to {args.out}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
