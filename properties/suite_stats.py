"""``python -m properties stats``: time the suite and write the generated statistics file.

Runs the README's test command twice from the repository root, as a user and as CI run it:

- ``pytest -n auto`` with the default Hypothesis profile (``dev``: ``CI`` and
  ``HYPOTHESIS_PROFILE`` removed from the environment);
- ``CI=true HYPOTHESIS_PROFILE=ci pytest -n auto`` (the ``ci`` profile: derandomized, 100
  examples a property);

the ``ci`` one with ``--anchor-stats`` (examples, JAX compiles and seconds per test, see
:mod:`properties.stats`; the ``dev`` one runs as a user types it, since the per-test statistics
cost time of their own), and with ``--ci-run`` also ``.ci/run`` end to end (a fresh virtual
environment, the README's install, lint, the suite, the gates). It writes one Markdown file
(``docs/suite-stats.md`` by default): the wall times of this run added to the history of earlier
runs kept in the file, the machine, and the per-file and per-test tables of the ``ci`` run.

Wall times are of one run on a shared machine: compare runs made on the same machine, and read
the load averages and the machine probe printed beside them. The probe (:data:`PROBE`) is a
fixed amount of work, timed in CPU seconds just before and just after each run: the same code
on the project's machine has run 1.4 times slower in one run than in the next (tests that only
start subprocesses too), so a time is comparable only with the probe's beside it.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUT = ROOT / "docs" / "suite-stats.md"
HISTORY_BEGIN, HISTORY_END = "<!-- history: begin -->", "<!-- history: end -->"
STAGE_LINE = r"^\[ci\] (.+?): (\d+) s$"  # what .ci/run prints at the end of each stage
HISTORY_HEADER = (
    "| date | commit | tests | `pytest -n auto` (dev) | `CI=true pytest -n auto` (ci) "
    "| `.ci/run` | note |\n|---|---|---:|---:|---:|---:|---|"
)


def _env(ci: bool) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("CI", "HYPOTHESIS_PROFILE") and not k.startswith("PYTEST_")
    }
    if ci:
        env.update(CI="true", HYPOTHESIS_PROFILE="ci")
    return env


def _minutes(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    return f"{int(seconds // 60)} min {seconds % 60:04.1f} s"


def _load() -> str:
    try:
        return " / ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:  # pragma: no cover - not on every platform
        return "?"


# Fixed work, in a fresh process: compile two NMS programs (no compilation cache) and run a
# Python loop. Prints the CPU seconds of each part.
PROBE = """
import resource
import jax, jax.numpy as jnp
jax.config.update("jax_enable_compilation_cache", False)
import jaximpl

def cpu():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime

start = cpu()
for n in (64, 300):
    boxes, scores = jnp.zeros((n, 4), jnp.float32), jnp.zeros(n, jnp.float32)
    jax.jit(jaximpl.nms_padded, static_argnums=3).lower(boxes, scores, 0.5, n).compile()
compiles = cpu() - start
start = cpu()
total = 0
for i in range(10_000_000):
    total += i * i % 7
print(f"{compiles:.2f} {cpu() - start:.2f}")
"""


def probe() -> str:
    """CPU seconds of :data:`PROBE`: ``"compiles 2.61 s + Python 0.93 s"`` (``?`` if it failed)."""
    proc = subprocess.run(
        [sys.executable, "-c", PROBE], cwd=ROOT, env=_env(False), capture_output=True, text=True
    )
    parts = proc.stdout.split()
    if proc.returncode != 0 or len(parts) != 2:
        return "?"
    return f"compiles {parts[0]} s + Python {parts[1]} s"


def run_pytest(ci: bool, stats_file: Path | None) -> dict:
    """One ``pytest -n auto`` from the repository root (with ``--anchor-stats=stats_file``
    when given); its wall time, summary and load."""
    cmd = [sys.executable, "-m", "pytest", "-n", "auto", "-p", "no:cacheprovider", "-q"]
    if stats_file is not None:
        cmd.append(f"--anchor-stats={stats_file}")
    probe_before = probe()
    load_before = _load()
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=ROOT, env=_env(ci), capture_output=True, text=True)
    wall = time.perf_counter() - start
    tail = proc.stdout.strip().splitlines()[-1] if proc.stdout.strip() else ""
    summary = re.sub(r"[=]+", "", tail).strip()
    print(f"{'ci' if ci else 'dev'}: {summary} (exit {proc.returncode}, {wall:.0f} s)")
    if proc.returncode != 0:  # what failed, or the wall time means nothing
        failed = [line for line in proc.stdout.splitlines() if line.startswith(("FAILED", "ERROR"))]
        print("\n".join(failed) or proc.stdout[-3000:] + proc.stderr[-3000:])
    return {
        "wall": wall,
        "summary": summary,
        "exit": proc.returncode,
        "tests": sum(int(n) for n in re.findall(r"(\d+) (?:passed|failed|skipped)", summary)),
        "load": f"{load_before} before, {_load()} after",
        "probe": f"{probe_before} before, {probe()} after",
    }


def run_ci() -> dict:
    """``.ci/run`` end to end; its wall time and the time of each stage it prints."""
    start = time.perf_counter()
    proc = subprocess.run(
        ["bash", ".ci/run"], cwd=ROOT, env=_env(False), capture_output=True, text=True
    )
    wall = time.perf_counter() - start
    stages = re.findall(STAGE_LINE, proc.stdout, flags=re.M)
    print(f".ci/run: exit {proc.returncode}, {wall:.0f} s")
    if proc.returncode != 0:
        print(proc.stdout[-3000:] + proc.stderr[-3000:])
    return {"wall": wall, "exit": proc.returncode, "stages": stages}


def _history(out: Path) -> list[str]:
    if not out.exists():
        return []
    text = out.read_text()
    if HISTORY_BEGIN not in text:
        return []
    block = text.split(HISTORY_BEGIN, 1)[1].split(HISTORY_END, 1)[0]
    return [line for line in block.strip().splitlines()[2:] if line.startswith("|")]


def _commit() -> str:
    proc = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
    )
    dirty = subprocess.run(
        ["git", "status", "--porcelain", "--untracked-files=no"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    ).stdout.strip()
    return (proc.stdout.strip() or "?") + ("+" if dirty else "")


def _machine() -> str:
    cpu = "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:  # pragma: no cover - not Linux
        cpu = platform.processor() or "?"
    try:
        import jax

        jax_version = jax.__version__
    except ImportError:  # pragma: no cover - jax is a dependency
        jax_version = "?"
    return (
        f"{os.cpu_count()} CPUs ({cpu}), {platform.system()} {platform.machine()}, "
        f"Python {platform.python_version()}, jax {jax_version}"
    )


def write(out: Path, dev: dict, ci: dict, ci_run: dict | None, note: str, tables: str) -> None:
    status = {True: "", False: " (FAILED)"}
    row = (
        f"| {dt.date.today().isoformat()} | `{_commit()}` | {ci['tests']} "
        f"| {_minutes(dev['wall'])}{status[dev['exit'] == 0]} "
        f"| {_minutes(ci['wall'])}{status[ci['exit'] == 0]} "
        f"| {_minutes(ci_run['wall']) + status[ci_run['exit'] == 0] if ci_run else '-'} "
        f"| {note} |"
    )
    history = [*_history(out), row]
    stages = ""
    if ci_run and ci_run["stages"]:
        stages = (
            "\n`.ci/run`, seconds per stage: "
            + ", ".join(f"{name} {secs}" for name, secs in ci_run["stages"])
            + ".\n"
        )
    text = f"""# Suite statistics

Generated by `python -m properties stats` (add `--ci-run` to time `.ci/run` too); do not edit
by hand, except the notes of the history. Targets: `pytest -n auto` at most 5 minutes with the
default profile and at most 8 with `CI=true`, `.ci/run` at most 15 minutes, on the project's
2-core machine. The dev column times the README's command as it stands (since 2026-11-29,
evening; earlier rows ran it with `--anchor-stats`, which costs time of its own); the ci
column runs with `--anchor-stats`, for the tables below.

## Wall time, this run and earlier ones

{HISTORY_BEGIN}
{HISTORY_HEADER}
{chr(10).join(history)}
{HISTORY_END}

This run: {_machine()}; load average (1/5/15 min) {dev["load"]} (dev run), {ci["load"]}
(ci run). dev: {dev["summary"]}; ci: {ci["summary"]}.

Machine probe (CPU seconds of the same fixed work, lower is faster): {dev.get("probe", "-")}
(dev run); {ci.get("probe", "-")} (ci run).
{stages}
## Examples, compiles and seconds per test (`CI=true` run)

Generated examples are those that passed the generate phase, explicit ones the `@example`
cases; compiles are the XLA backend compiles while the test ran (a shape another test on the
same worker compiled first is not counted again); seconds are the test's own wall time on its
worker; CPU seconds its worker's CPU time (every thread: XLA compiles on several) plus that of
the subprocesses it ran. The run keeps both cores busy, so the CPU seconds are what a test
costs the run, and their sum over about 2 is the run's wall time.

{tables}"""
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text)
    print(f"wrote {out}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m properties stats", description=__doc__)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="the Markdown file")
    parser.add_argument("--ci-run", action="store_true", help="also time .ci/run end to end")
    parser.add_argument("--note", default="", help="a note for this run's history row")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        dev = run_pytest(False, None)  # the README's command as it stands
        ci_stats = Path(tmp) / "ci.md"
        ci = run_pytest(True, ci_stats)
        tables = ci_stats.read_text() if ci_stats.exists() else "(no statistics written)\n"
    ci_run = run_ci() if args.ci_run else None
    write(args.out, dev, ci, ci_run, args.note, tables)
    failed = dev["exit"] != 0 or ci["exit"] != 0 or (ci_run is not None and ci_run["exit"] != 0)
    return 1 if failed else 0
