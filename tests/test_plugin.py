"""The suite's pytest plugin as a user meets it: --impl, --impl-plan, skips, report header,
--anchor-stats, --jax-cache."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import textwrap
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from properties.plugin import CONTRACT_FUNCTIONS, Implementation, load_implementation, read_plan

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
    # Not this run's compilation cache either: --jax-cache's tests need a clean start.
    own = ("PYTEST_", "JAX_COMPILATION_CACHE_DIR")
    env = {k: v for k, v in os.environ.items() if not k.startswith(own)}
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
    assert re.search(r"^anchor-box suite: jax \S+, devices \[.+\]$", out, re.M), out
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


WRONG_IOU = textwrap.dedent(
    '''
    """The reference, but box_iou returns the wrong shape."""
    import numpy as np
    from reference import *  # noqa: F403


    def box_iou(boxes1, boxes2):
        return np.zeros((1, 1))
    '''
)

PLAN_TESTS = TESTS + textwrap.dedent(
    """
    from properties.asserts import Call, check


    def test_repro_loads_the_failing_implementation(impl):
        call = Call(impl, "box_iou", boxes1=np.zeros((1, 4)), boxes2=np.zeros((1, 4)))
        check(impl.name != "wrong", "fails for wrong only", call)

    def test_selected_by_nobody(impl):
        raise AssertionError("must be deselected")


    def test_without_impl():
        raise AssertionError("must be deselected")
    """
)


def test_impl_plan_runs_each_implementation_on_its_own_tests(tmp_path):
    (tmp_path / "partial_impl.py").write_text(PARTIAL)
    (tmp_path / "wrong_iou.py").write_text(WRONG_IOU)
    (tmp_path / "test_user.py").write_text(PLAN_TESTS)
    both = ["test_user.py::test_uses_nms", "test_user.py::test_uses_box_iou"]
    repro = ["test_user.py::test_repro_loads_the_failing_implementation"]
    plan = {
        "partial": {"impl": "partial_impl.py", "tests": ["test_user.py::test_uses_nms"]},
        "wrong": {"impl": str(tmp_path / "wrong_iou.py"), "tests": both + repro},
        "reference": {"impl": "reference", "tests": both + repro},
    }
    (tmp_path / "plan.json").write_text(json.dumps(plan))
    options = "--impl-plan=plan.json --hypothesis-profile=selftest --anchor-reports= -v"
    proc = _pytest(tmp_path, "test_user.py", "--junitxml=junit.xml", *options.split())
    out = proc.stdout
    assert proc.returncode == 1, out
    assert "anchor-box suite: implementation plan of 3: partial, wrong, reference" in out
    assert "nms not provided by partial" in out
    assert "2 failed, 4 passed, 1 skipped, 2 deselected" in out, out
    cases = ET.parse(tmp_path / "junit.xml").getroot().iter("testcase")
    outcomes = {}
    for case in cases:
        impl = {p.get("name"): p.get("value") for p in case.iter("property")}["impl"]
        result = [c.tag for c in case if c.tag in ("failure", "skipped")] or ["passed"]
        outcomes[case.get("name")] = (impl, result[0])
    assert outcomes == {
        "test_uses_nms[partial]": ("partial", "skipped"),
        "test_uses_nms[wrong]": ("wrong", "passed"),
        "test_uses_box_iou[wrong]": ("wrong", "failure"),
        "test_uses_nms[reference]": ("reference", "passed"),
        "test_uses_box_iou[reference]": ("reference", "passed"),
        "test_repro_loads_the_failing_implementation[wrong]": ("wrong", "failure"),
        "test_repro_loads_the_failing_implementation[reference]": ("reference", "passed"),
    }, outcomes
    # The failure's repro snippet loads the implementation that failed.
    assert f"impl = load_implementation({str(tmp_path / 'wrong_iou.py')!r})" in out, out


@pytest.mark.parametrize(
    "content, message",
    [
        ("not json", "cannot read"),
        ("[]", "non-empty JSON object"),
        ('{"a": {"tests": []}}', 'needs an "impl" string'),
        ('{"a": {"impl": "reference", "tests": ["test_x"]}}', "file.py::test_name"),
    ],
)
def test_bad_impl_plan_is_a_usage_error(tmp_path, content, message):
    (tmp_path / "plan.json").write_text(content)
    with pytest.raises(pytest.UsageError, match=re.escape(message)):
        read_plan(str(tmp_path / "plan.json"))


CACHE_TESTS = textwrap.dedent(
    """
    import os

    import jax
    import jax.numpy as jnp


    def test_a_program():
        jax.jit(lambda x: x * 2)(jnp.arange(3.0)).block_until_ready()
        path = jax.config.jax_compilation_cache_dir
        entries = sorted(os.listdir(path)) if path else []
        with open(f"cache-{os.environ.get('PYTEST_XDIST_WORKER', 'main')}.json", "w") as f:
            f.write(repr((path, entries)))
    """
)


def _cache_seen(tmp_path: Path, *options: str) -> dict[str, tuple]:
    """``{process: (cache folder, its entries)}`` as each process of a run saw them."""
    (tmp_path / "test_cache.py").write_text(CACHE_TESTS)
    proc = _pytest(tmp_path, "test_cache.py", *options)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return {f.stem: eval(f.read_text()) for f in tmp_path.glob("cache-*.json")}


def test_jax_cache_is_shared_by_the_run_and_removed_at_its_end(tmp_path):
    """``--jax-cache=run`` (the default): both xdist workers use one fresh folder, the first
    program compiled there is saved (the other worker may load it), and the folder is gone
    after the run; ``off``: no cache; ``DIR``: that folder, kept."""
    seen = _cache_seen(tmp_path, "-n", "2", "--dist", "each")
    assert set(seen) == {"cache-gw0", "cache-gw1"}, seen
    (path, _), (other, _) = seen.values()
    assert path == other and "anchor-jax-cache-" in path, seen
    assert any(entries for _, entries in seen.values()), seen  # the program was saved
    assert not os.path.exists(path), f"{path} outlived the run"
    for f in tmp_path.glob("cache-*.json"):
        f.unlink()
    assert _cache_seen(tmp_path, "--jax-cache=off") == {"cache-main": (None, [])}
    keep = tmp_path / "kept"
    ((path, entries),) = _cache_seen(tmp_path, f"--jax-cache={keep}").values()
    assert path == str(keep) and entries and os.listdir(keep), (path, entries)
