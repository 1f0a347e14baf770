"""Command line of the benchmarks. Run from the repository root:

    python -m benchmarks                 # full suite, then the ratio table and the plot
    python -m benchmarks run --short     # the same with few rounds
    python -m benchmarks report RUN.json # table + plot from an earlier run
    python -m benchmarks gate            # the CI speed-regression gate (short mode)
    python -m benchmarks scaling         # the batch sharded over 1, 2 and 4 host devices
    python -m benchmarks compile         # compile time per shape bucket, fresh processes

``run`` writes ``PREFIX.json`` (pytest-benchmark's JSON), ``PREFIX.md`` (the table)
and ``PREFIX.png`` (the plot), PREFIX being ``.benchmarks/latest`` unless ``--out``
says otherwise (``--out benchmarks/results/cpu`` refreshes the committed results).
Arguments after ``--`` go to pytest (e.g. ``-- -k nms``).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUT = ROOT / ".benchmarks" / "latest"


BENCHES = "benchmarks/bench_ops.py"
BASELINE_TESTS = "benchmarks/test_naive_d2l.py"


def _pytest(
    json_path: Path, mode: str, extra: list[str], paths: list[str], env_extra: dict | None = None
) -> int:
    json_path.parent.mkdir(parents=True, exist_ok=True)
    json_path.unlink(missing_ok=True)  # never report an earlier run's numbers as this one's
    cmd = [
        sys.executable,
        "-m",
        "pytest",
        *paths,
        "-q",
        f"--bench-mode={mode}",
        f"--benchmark-json={json_path}",
        "--benchmark-columns=median,iqr,rounds,iterations",
        "--benchmark-sort=name",
        "--benchmark-group-by=group",
        *extra,
    ]
    print("+", " ".join(cmd[2:]), flush=True)
    # Started from a pytest-xdist worker (benchmarks/test_gate.py under `pytest -n`),
    # the worker's variables would make pytest-benchmark believe it runs under xdist
    # too and disable itself: the run is a fresh, serial pytest.
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_XDIST_")}
    return subprocess.call(cmd, cwd=ROOT, env={**env, **(env_extra or {})})


def _gate_cache(tmp: str) -> dict:
    """The gate's JAX compilation cache: workloads of the same shapes (uniform and clustered
    boxes) and the retries load the program compiled first instead of compiling it again
    (a fresh folder per gate run; a cache the caller configured is used as it is). Only
    compile times change, and the gate checks run times."""
    if os.environ.get("JAX_COMPILATION_CACHE_DIR"):
        return {}
    return {
        "JAX_COMPILATION_CACHE_DIR": tmp,
        "JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS": "0",
        "JAX_PERSISTENT_CACHE_MIN_ENTRY_SIZE_BYTES": "0",
    }


def _report(json_path: Path, out: Path, title: str | None) -> str:
    from . import report

    run = report.load(json_path)
    md = report.markdown(run, **({"title": title} if title else {}))
    md_path, png_path = out.with_suffix(".md"), out.with_suffix(".png")
    md_path.parent.mkdir(parents=True, exist_ok=True)
    md += f"\n![time against size]({png_path.name})\n"
    md_path.write_text(md)
    report.plot(run, png_path, title)
    print(md)
    print(f"Table written to {md_path}\nPlot written to {png_path}")
    return md


def cmd_run(args) -> int:
    out = Path(args.out).resolve() if args.out else DEFAULT_OUT
    json_path = out.with_suffix(".json")
    extra = list(args.pytest_args)
    if args.all:
        extra.append("--bench-all")
    t0 = time.perf_counter()
    rc = _pytest(json_path, "short" if args.short else "full", extra, [BENCHES])
    print(f"benchmarks took {time.perf_counter() - t0:.0f} s (pytest exit status {rc})")
    if not json_path.exists():
        print("no benchmark JSON was written", file=sys.stderr)
        return rc or 1
    _report(json_path, out, args.title)
    return rc


def cmd_report(args) -> int:
    json_path = Path(args.json)
    out = Path(args.out) if args.out else json_path.with_suffix("")
    _report(json_path, out, args.title)
    return 0


def cmd_gate(args) -> int:
    with tempfile.TemporaryDirectory(prefix="anchor-gate-jax-cache-") as tmp:
        return _gate(args, _gate_cache(tmp))


def _gate(args, env_extra: dict) -> int:
    from . import gate, report
    from .report import fmt_ratio

    floors_path = Path(args.floors).resolve()
    floors = gate.load_floors(floors_path)
    rc = 0
    t0 = time.perf_counter()
    if args.from_json:
        json_path = Path(args.from_json)
    else:
        json_path = Path(args.json).resolve()
        paths = [BENCHES] if args.no_tests else [BENCHES, BASELINE_TESTS]
        extra = [f"--bench-floors={floors_path}", *args.pytest_args]
        rc = _pytest(json_path, args.mode, extra, paths, env_extra)
    if not json_path.exists():
        print(f"GATE FAILED: no benchmark JSON at {json_path} (pytest exit status {rc})")
        return 1
    run = report.load(json_path)
    lines, broken = gate.check(run, floors)
    # A shared machine can slow one contender's rounds and not the other's: a floor broken
    # by a measured ratio is measured again (those pairs only) and keeps its best ratio.
    # A real regression breaks it every time; a missing measurement is not retried.
    retries = 0 if args.from_json else args.retries
    for attempt in range(1, retries + 1):
        low = [fl for fl in floors if gate.is_low(run, fl)]
        if not low:
            break
        print(f"\n{len(low)} floor(s) below: measuring those pairs again ({attempt}/{retries}):")
        for fl in low:
            ratio = run.ratio(fl.workload, fl.contender)
            print(f"  {fl.workload} vs {fl.contender}: {ratio:.3g}x < {fl.min_ratio:g}x")
        retry_floors = json_path.with_name(f"{json_path.stem}.retry{attempt}.toml")
        gate.write_floors(low, retry_floors)
        retry_json = json_path.with_name(f"{json_path.stem}.retry{attempt}.json")
        extra = [f"--bench-floors={retry_floors}", *args.pytest_args]
        retry_rc = _pytest(retry_json, args.mode, extra, [BENCHES], env_extra)
        if retry_json.exists():
            again = report.load(retry_json)
            for fl in low:
                ratio = again.ratio(fl.workload, fl.contender)
                print(f"  again: {fl.workload} vs {fl.contender}: {fmt_ratio(ratio)}")
            run = gate.best_of(run, again, low)
        elif retry_rc:
            print(f"retry failed (pytest exit status {retry_rc}); keeping the first measurement")
        lines, broken = gate.check(run, floors)
    elapsed = time.perf_counter() - t0
    print(f"\n## Speed-regression gate ({floors_path.name}, mode {run.meta.get('mode', '?')})\n")
    module = run.meta.get("machine", {}).get("jaximpl_module", "jaximpl")
    if module != "jaximpl":
        print(f"(jaximpl replaced by module {module!r} through BENCH_JAXIMPL)\n")
    print("\n".join(lines))
    if not args.from_json:
        print(f"\ngate run took {elapsed:.0f} s")
    if rc != 0:
        print(
            f"\nGATE FAILED: pytest exited with status {rc} (a benchmark or a baseline test failed)"
        )
    if broken:
        print(f"\nGATE FAILED: {len(broken)} floor(s) broken:")
        for b in broken:
            print(f"  - {b}")
        return 1
    if rc != 0:
        return 1
    print(f"\nGATE PASSED: {len(floors)} floor(s) held.")
    return 0


OWN_COMMANDS = {"scaling": "scaling", "compile": "compile_times"}


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] in OWN_COMMANDS:
        import importlib

        return importlib.import_module(f"benchmarks.{OWN_COMMANDS[argv[0]]}").main(argv[1:])
    pytest_args: list[str] = []
    if "--" in argv:
        i = argv.index("--")
        argv, pytest_args = argv[:i], argv[i + 1 :]
    if not argv or argv[0].startswith("-"):
        argv = ["run", *argv]

    p = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.split("\n")[0])
    sub = p.add_subparsers(dest="cmd", required=True)

    r = sub.add_parser("run", help="run the benchmarks, print the ratio table, save table + plot")
    r.add_argument("--short", action="store_true", help="few rounds (the gate's mode)")
    r.add_argument("--all", action="store_true", help="also run pairs skipped as too slow")
    r.add_argument("--out", help=f"output prefix (default {DEFAULT_OUT.relative_to(ROOT)})")
    r.add_argument("--title", help="title of the table and plot")
    r.set_defaults(func=cmd_run)

    rep = sub.add_parser("report", help="table (.md) and plot (.png) from a benchmark JSON")
    rep.add_argument("json")
    rep.add_argument("--out", help="output prefix (default: the JSON's path without .json)")
    rep.add_argument("--title")
    rep.set_defaults(func=cmd_report)

    g = sub.add_parser("gate", help="short run; exit 1 if a ratio is below its floor")
    g.add_argument("--floors", default=str(ROOT / "benchmarks" / "floors.toml"))
    g.add_argument("--json", default=str(ROOT / ".benchmarks" / "gate.json"))
    g.add_argument("--mode", default="short", choices=["short", "full"])
    g.add_argument("--from-json", help="check an existing run instead of running")
    g.add_argument(
        "--retries",
        type=int,
        default=1,
        help="measure the pairs of floors found broken again, this many times (default 1)",
    )
    g.add_argument(
        "--no-tests",
        action="store_true",
        help=f"skip the baseline's correctness tests ({BASELINE_TESTS})",
    )
    g.set_defaults(func=cmd_gate)

    # Commands with their own options, parsed by their modules (listed here for --help).
    for name, module in OWN_COMMANDS.items():
        sub.add_parser(name, help=f"benchmarks/{module}.py (python -m benchmarks {name} --help)")

    args = p.parse_args(argv)
    args.pytest_args = pytest_args
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
