"""``python -m properties stats``: the generated statistics file keeps its history."""

from __future__ import annotations

import re
import subprocess
import sys

from properties import stats, suite_stats


def _run(wall: float, tests: int, exit_code: int = 0) -> dict:
    return {
        "wall": wall,
        "summary": f"{tests} passed in {wall:.2f}s",
        "exit": exit_code,
        "tests": tests,
        "load": "1.00 / 1.00 / 1.00 before, 1.00 / 1.00 / 1.00 after",
        "probe": f"compiles {wall / 100:.2f} s + Python 1.00 s before, 2.00 s + 1.50 s after",
    }


def test_history_grows_by_one_row_per_run(tmp_path):
    out = tmp_path / "stats.md"
    rows = {
        "properties/test_nms.py::test_a": {
            "compiles": 3,
            "compile_seconds": 1.25,
            "cache_hits": 2,
            "seconds": 1.5,
            "cpu_seconds": 2.5,
            "examples": 100,
        },
        "properties/test_nms.py::test_b": {
            "compiles": 1,
            "seconds": 0.5,
            "cpu_seconds": 0.25,
            "examples": 40,
        },
        "tests/test_x.py::test_c": {"compiles": 0, "seconds": 0.25},
    }
    tables = stats.render(rows)
    suite_stats.write(out, _run(200, 10), _run(300, 10), None, "first", tables)
    ci_run = {"wall": 600.0, "exit": 1, "stages": [("lint", "3"), ("total", "600")]}
    suite_stats.write(out, _run(100, 12), _run(130, 12), ci_run, "second", tables)
    history = suite_stats._history(out)
    assert len(history) == 2, history
    assert "| first |" in history[0] and "3 min 20.0 s" in history[0]
    assert "| second |" in history[1] and "10 min 00.0 s (FAILED)" in history[1]
    text = out.read_text()
    assert "lint 3, total 600" in text
    # The machine probe of each run, beside its wall time.
    assert "compiles 1.00 s + Python 1.00 s before, 2.00 s + 1.50 s after\n(dev run)" in text
    assert "compiles 1.30 s + Python 1.00 s before" in text
    # The per-file summary adds up its tests.
    # file | tests | examples | explicit | compiles | compile seconds | cache hits | seconds | CPU
    assert "| `properties/test_nms.py` | 2 | 140 | 0 | 4 | 1.2 | 2 | 2.0 | 2.8 |" in text
    assert "| **all** | 3 | 140 | 0 | 4 | 1.2 | 2 | 2.2 | 2.8 |" in text
    assert "| `properties/test_nms.py::test_a` | - | 0 | 3 | 1.25 | 2 | 1.50 | 2.50 |" in text


def test_ci_run_prints_the_stage_lines_the_command_reads():
    """``.ci/run``'s own ``stage`` function prints lines that ``run_ci``'s pattern reads."""
    ci = suite_stats.ROOT.joinpath(".ci/run").read_text()
    function = ci[ci.index("stage() {") : ci.index("\n}\n", ci.index("stage() {")) + 3]
    script = f'stage_name="" stage_start=$SECONDS\n{function}stage lint\nstage gate\nstage ""\n'
    out = subprocess.run(["bash", "-c", script], capture_output=True, text=True, check=True)
    assert re.findall(suite_stats.STAGE_LINE, out.stdout, flags=re.M) == [
        ("lint", "0"),
        ("gate", "0"),
    ]


def test_unknown_command_is_a_usage_error():
    proc = subprocess.run(
        [sys.executable, "-m", "properties", "nonsense"], capture_output=True, text=True
    )
    assert proc.returncode == 2
    assert "usage: python -m properties {stats,conformance}" in proc.stderr
