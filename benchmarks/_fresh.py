"""What the ``scaling`` and ``compile`` commands share: a measurement in a fresh Python process
(its own JAX, its own XLA flags), warm timing, and the machine line of their reports."""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
from pathlib import Path
from statistics import median
from time import perf_counter
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


def command_parser(command: str, doc: str, default_out: Path) -> argparse.ArgumentParser:
    """The parser of ``python -m benchmarks <command>``, with its ``--out`` option."""
    p = argparse.ArgumentParser(prog=f"python -m benchmarks {command}", description=doc)
    p.add_argument("--out", help=f"output prefix (default {default_out.relative_to(ROOT)})")
    return p


def in_fresh_process(module: str, args: list[str], devices: int | None = None) -> dict:
    """Run ``python -m module *args`` in a new process (``JAX_PLATFORMS=cpu`` unless set;
    ``devices`` host devices through ``--xla_force_host_platform_device_count``) and return
    the JSON object its last line of output prints. Raises ``RuntimeError`` with the end of
    its error output when it fails."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_XDIST_")}
    env.setdefault("JAX_PLATFORMS", "cpu")
    if devices is not None:
        flag = f"--xla_force_host_platform_device_count={devices}"
        env["XLA_FLAGS"] = f"{env.get('XLA_FLAGS', '')} {flag}".strip()
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    done = subprocess.run(
        [sys.executable, "-m", module, *args], cwd=ROOT, env=env, capture_output=True, text=True
    )
    if done.returncode != 0:
        raise RuntimeError(f"python -m {module} {' '.join(args)} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def warm_seconds(call, budget_s: float, min_calls: int = 5) -> float:
    """Median seconds of ``call()`` (which waits for its result) after two untimed calls:
    at least ``min_calls`` calls and until ``budget_s`` seconds have passed."""
    call()
    call()
    times: list[float] = []
    start = perf_counter()
    while len(times) < min_calls or perf_counter() - start < budget_s:
        t0 = perf_counter()
        call()
        times.append(perf_counter() - t0)
    return median(times)


def machine() -> dict[str, Any]:
    """The machine, as the reports state it (CPU, cores, load average at the start)."""
    model = "?"
    try:
        with open("/proc/cpuinfo") as f:
            model = next(ln.split(":", 1)[1].strip() for ln in f if ln.startswith("model name"))
    except (OSError, StopIteration):
        pass
    import jax

    return {
        "cpu": model,
        "cores": os.cpu_count(),
        "loadavg": [round(x, 2) for x in os.getloadavg()],
        "python": platform.python_version(),
        "jax": jax.__version__,
        "jaximpl_module": os.environ.get("BENCH_JAXIMPL", "jaximpl"),
    }


def machine_line(m: dict[str, Any]) -> str:
    return (
        f"{m['cpu']}, {m['cores']} logical CPUs, Python {m['python']}, JAX {m['jax']}, "
        f"module `{m['jaximpl_module']}`; load average at the start {tuple(m['loadavg'])}"
    )


def ms(s: float) -> str:
    """Seconds as milliseconds (3 significant digits), or microseconds below 1 ms."""
    return f"{s * 1e3:.3g} ms" if s >= 1e-3 else f"{s * 1e6:.0f} µs"


def write(out: Path, md: str, data: dict) -> None:
    """``out.md`` and ``out.json``, folders made."""
    out.parent.mkdir(parents=True, exist_ok=True)
    out.with_suffix(".md").write_text(md)
    out.with_suffix(".json").write_text(json.dumps(data, indent=1) + "\n")
    print(md)
    print(f"written: {out.with_suffix('.md')} and .json")
