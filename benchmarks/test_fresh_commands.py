"""The commands that measure in fresh processes run, on tiny shapes: ``python -m benchmarks
scaling`` (the batch sharded over 1 and 2 host devices) and ``python -m benchmarks compile``
(first-call compile time), and a failing measurement fails the command. About 20 s.
"""

from __future__ import annotations

import json

import pytest

from benchmarks import compile_times, scaling


def test_scaling_runs_each_device_count_in_its_own_process(tmp_path):
    out = tmp_path / "scaling"
    args = ["--tiny", "--ops", "multibox_target", "--devices", "1,2", "--passes", "1"]
    assert scaling.main([*args, "--out", str(out)]) == 0
    rows = json.loads(out.with_suffix(".json").read_text())["rows"]
    # The workers report the devices JAX saw: the flag reached each process.
    assert [r["devices"] for r in rows] == [1, 2], rows
    assert all(r["compile_s"] > 0 and r["warm_s"] > 0 for r in rows), rows
    assert rows[1]["outputs"] == ["split"] * 3, rows  # offsets, mask, classes over 2 devices
    # Integer outputs equal, float ones equal or within rounding (test_sharding.py's check).
    assert rows[1]["vs_first"].startswith(("bit-identical", "max abs difference")), rows
    md = out.with_suffix(".md").read_text()
    assert "measure correctness and overhead, not speed-up" in md
    assert md.count("| `multibox_target` (4 x 80 anchors x 2 ground truths) |") == 2, md


def test_compile_reports_each_program_and_the_next_shape(tmp_path):
    out = tmp_path / "compile"
    assert compile_times.main(["--tiny", "--ops", "box_iou", "--out", str(out)]) == 0
    (row,) = json.loads(out.with_suffix(".json").read_text())["rows"]
    assert row["op"] == "box_iou" and row["size"] == "100x100", row
    # A fresh process compiles box_iou's kernel, and again for a shape it has not seen.
    for first in (row, row["next_shape"]):
        names = [name for name, _ in first["programs"]]
        assert "jit(iou)" in names, first
        assert 0 < first["backend_s"] <= first["first_s"], first
    assert row["warm_s"] < row["first_s"], row
    assert "| `box_iou` | 100 x 100 |" in out.with_suffix(".md").read_text()


def test_a_failing_worker_fails_the_command(tmp_path, monkeypatch):
    monkeypatch.setenv("BENCH_JAXIMPL", "benchmarks.no_such_module")
    with pytest.raises(RuntimeError, match="no_such_module"):
        scaling.main(["--tiny", "--ops", "multibox_target", "--devices", "1", "--passes", "1",
                      "--out", str(tmp_path / "c")])  # fmt: skip
    assert not (tmp_path / "c.md").exists()
