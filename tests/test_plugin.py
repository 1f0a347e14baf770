"""The suite's pytest plugin as a user meets it: --impl, skips, report header, --anchor-stats."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from properties.plugin import CONTRACT_FUNCTIONS, Implementation, load_implementation

PARTIAL = textwrap.dedent(
    '''
    """An implementation that only has box_iou (the reference's)."""
    from reference import box_iou
    '''
)

TESTS = textwrap.dedent(
    """
    import numpy as np
    from hypothesis import example, given, strategies as st


    def test_uses_nms(impl):
        impl.nms(np.zeros((0, 4), np.float32), np.zeros(0, np.float32), 0.5)


    @given(st.integers(0, 3))
    @example(2)
    def test_uses_box_iou(impl, n):
        b = np.zeros((n, 4), np.float32)
        assert np.asarray(impl.box_iou(b, b)).shape == (n, n)
    """
)


def _pytest(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-rs", *args],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_missing_function_is_skipped_with_its_name_and_stats_are_written(tmp_path):
    (tmp_path / "partial_impl.py").write_text(PARTIAL)
    (tmp_path / "test_user.py").write_text(TESTS)
    proc = _pytest(
        tmp_path,
        "test_user.py",
        "--impl=partial_impl.py",
        "--hypothesis-profile=selftest",
        "--anchor-stats=stats.md",
    )
    out = proc.stdout
    assert proc.returncode == 0, out
    assert "nms not provided by partial_impl.py" in out
    assert "1 passed, 1 skipped" in out
    assert "anchor-box suite: implementation partial_impl.py (" in out
    assert "anchor-box suite: hypothesis profile selftest" in out
    assert "devices [CpuDevice(id=0)]" in out or "devices [" in out
    table = (tmp_path / "stats.md").read_text()
    row = next(line for line in table.splitlines() if "test_uses_box_iou" in line)
    cells = [c.strip() for c in row.strip("|").split("|")]
    # 4 distinct values of n: Hypothesis stops after exhausting them; one explicit example.
    assert cells[1] == "4" and cells[2] == "1", row


def test_unknown_names_are_attribute_errors_not_skips():
    impl = Implementation("reference", __import__("reference"))
    assert all(impl.has(name) for name in CONTRACT_FUNCTIONS)
    assert not impl.has("nms_padded")
    with pytest.raises(AttributeError):
        impl.hypothesis_internal_is_this_a_mock_check  # noqa: B018 - probed by Hypothesis


def test_bad_impl_is_a_usage_error(tmp_path):
    with pytest.raises(pytest.UsageError, match="no such file"):
        load_implementation(str(tmp_path / "missing.py"))
    with pytest.raises(pytest.UsageError, match="cannot import"):
        load_implementation("no_such_module_anywhere")
