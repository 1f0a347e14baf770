"""Self-test: the property suite must catch every deliberately broken implementation.

``properties/broken/`` ships complete implementations of the contract, each
with exactly one plausible bug and a ``CAUGHT_BY`` list naming the property
tests (``"test_file.py::test_name"``) that must fail for it. For each module
this test runs those tests against it in a fresh pytest process::

    python -m pytest <suite>/test_file.py::test_name ... --impl=<module.py> \\
        -p no:cacheprovider -q --no-header --hypothesis-profile=selftest --junitxml=...

and demands that every one of them fails (a skip or a pass is a hole in the
suite, or a stale ``CAUGHT_BY``). ``d2l_faithful`` (the chapter's own code) gets
one test per deliberate departure of CONTRACT.md. The control: the same tests
must pass against the reference, or "caught" would mean nothing.

Adding a broken module needs no edit here: modules are discovered from the
package. A module whose ``CAUGHT_BY`` is empty is run against the whole suite
and the test fails listing what caught it, ready to paste. Set
``SELFTEST_FULL=1`` to run the whole suite against every module and print
everything that catches it (slow; for refreshing the ``CAUGHT_BY`` lists).

Run it alone with ``pytest -m selftest tests/test_selftest.py -n auto``.
"""

from __future__ import annotations

import ast
import importlib.util
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest

import properties
import reference
from properties.broken._mutate import Edit, EditError, Swap, edited_reference
from properties.plugin import CONTRACT_FUNCTIONS

pytestmark = pytest.mark.selftest

SUITE = Path(properties.__file__).resolve().parent
BROKEN = SUITE / "broken"
D2L = "d2l_faithful"
D2L_NAMES = CONTRACT_FUNCTIONS
# The chapter's four deliberate departures (CONTRACT.md), and the property that catches each.
D2L_DEPARTURES = {
    "nan_iou_for_empty_union": "test_box_iou.py::test_box_iou_empty_union_is_zero",
    "nms_ties_not_by_index": "test_nms.py::test_nms_score_ties_go_to_lower_index",
    "greedy_runs_g_rounds": "test_assign.py::test_assign_greedy_runs_min_a_g_rounds",
    "padding_claims_anchors": "test_multibox_target.py::test_multibox_target_ignores_padding",
}
TIMEOUT_S = 600


def _caught_by(path: Path) -> list[str] | None:
    """The module's ``CAUGHT_BY`` list, read without importing it (None if absent)."""
    for node in ast.parse(path.read_text()).body:
        targets = (
            [node.target]
            if isinstance(node, ast.AnnAssign)
            else node.targets
            if isinstance(node, ast.Assign)
            else []
        )
        if any(isinstance(t, ast.Name) and t.id == "CAUGHT_BY" for t in targets):
            return list(ast.literal_eval(node.value)) if node.value is not None else None
    return None


def _broken_modules() -> list[Path]:
    return sorted(p for p in BROKEN.glob("*.py") if not p.name.startswith("_"))


def _suite_files() -> list[str]:
    return sorted(p.name for p in SUITE.glob("test_*.py"))


def _base(test_id: str) -> str:
    """``file.py::test_name[param]`` -> ``file.py::test_name``."""
    return test_id.split("[", 1)[0]


def run_suite(impl: str | Path, targets: list[str], tmp_path: Path) -> dict[str, str]:
    """Run the suite's ``targets`` (``file.py`` or ``file.py::test``) against ``impl``.

    Returns ``{"file.py::test_name[param]": outcome}`` with outcome one of
    ``passed``, ``failed`` (a failure or an error) and ``skipped``, for every
    test the run collected.
    """
    xml = tmp_path / "junit.xml"
    cmd = [
        sys.executable,
        "-m",
        "pytest",
        *(str(SUITE / t) for t in targets),
        f"--impl={impl}",
        "-p",
        "no:cacheprovider",
        "-q",
        "--no-header",
        "--hypothesis-profile=selftest",
        f"--junitxml={xml}",
    ]
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("PYTEST_XDIST", "PYTEST_CURRENT_TEST", "PYTEST_ADDOPTS"))
    }
    env["HYPOTHESIS_PROFILE"] = "selftest"
    proc = subprocess.run(
        cmd, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=TIMEOUT_S
    )
    # 0: all passed, 1: some failed; anything else (usage error, a CAUGHT_BY test
    # that does not exist, an internal error) is a broken self-test, not a catch.
    if proc.returncode not in (0, 1) or not xml.exists():
        raise AssertionError(
            f"the suite did not run against {impl} (exit {proc.returncode}):\n"
            f"{' '.join(cmd)}\n{proc.stdout[-4000:]}\n{proc.stderr[-4000:]}"
        )
    outcomes: dict[str, str] = {}
    for case in ET.parse(xml).getroot().iter("testcase"):
        module = case.get("classname", "").rsplit(".", 1)[-1]
        test_id = f"{module}.py::{case.get('name')}"
        if case.find("failure") is not None or case.find("error") is not None:
            outcomes[test_id] = "failed"
        elif case.find("skipped") is not None:
            outcomes.setdefault(test_id, "skipped")
        else:
            outcomes.setdefault(test_id, "passed")
    return outcomes


def _failed(outcomes: dict[str, str]) -> list[str]:
    return sorted({_base(t) for t, o in outcomes.items() if o == "failed"})


def _check_caught(name: str, impl: Path, expected: list[str], tmp_path: Path) -> None:
    outcomes = run_suite(impl, expected, tmp_path)
    caught = _failed(outcomes)
    print(f"{name}: caught by {caught}")
    collected = {_base(t) for t in outcomes}
    missing = [t for t in expected if _base(t) not in collected]
    assert not missing, f"{name}: CAUGHT_BY names tests that do not exist: {missing}"
    not_caught = [t for t in expected if _base(t) not in caught]
    assert not not_caught, (
        f"{name} was NOT caught by {not_caught} (outcomes: "
        f"{ {t: o for t, o in outcomes.items() if _base(t) in not_caught} }): "
        "a hole in the suite, or a stale CAUGHT_BY"
    )


# --- every broken module ------------------------------------------------------------


@pytest.mark.parametrize("path", _broken_modules(), ids=lambda p: p.stem)
def test_broken_module_is_well_formed(path):
    """A complete implementation with a docstring, a CAUGHT_BY list and an override."""
    spec = importlib.util.spec_from_file_location(f"_selftest_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)

    assert (module.__doc__ or "").strip(), f"{path.name}: no docstring saying the bug"
    assert isinstance(getattr(module, "CAUGHT_BY", None), list), f"{path.name}: no CAUGHT_BY list"
    missing = [n for n in D2L_NAMES if not callable(getattr(module, n, None))]
    assert not missing, f"{path.name}: not a complete implementation, lacks {missing}"
    overridden = [n for n in D2L_NAMES if getattr(module, n) is not getattr(reference, n)]
    assert overridden, f"{path.name}: overrides nothing, so it is the reference"
    assert all(t.count("::") == 1 and t.split("::")[0].endswith(".py") for t in module.CAUGHT_BY)


@pytest.mark.parametrize(
    "path", [p for p in _broken_modules() if p.stem != D2L], ids=lambda p: p.stem
)
def test_suite_catches_broken_module(path, tmp_path):
    expected = _caught_by(path) or []
    if os.environ.get("SELFTEST_FULL") or not expected:
        outcomes = run_suite(path, _suite_files(), tmp_path)
        caught = _failed(outcomes)
        print(f"{path.stem}: the whole suite catches it with {caught}")
        assert caught, f"{path.stem} is NOT caught by any test of the suite: a hole in the suite"
        assert expected, f"{path.stem}: CAUGHT_BY is empty; the suite catches it with {caught}"
        missing = [t for t in expected if _base(t) not in caught]
        assert not missing, f"{path.stem}: CAUGHT_BY names {missing}, which did not fail"
        return
    _check_caught(path.stem, path, expected, tmp_path)


# --- the chapter's own code ---------------------------------------------------------


@pytest.mark.parametrize("departure", sorted(D2L_DEPARTURES))
def test_suite_catches_d2l_departure(departure, tmp_path):
    """d2l_faithful fails the property that pins each of the contract's departures."""
    test_id = D2L_DEPARTURES[departure]
    assert test_id in (_caught_by(BROKEN / f"{D2L}.py") or [])
    _check_caught(f"{D2L} ({departure})", BROKEN / f"{D2L}.py", [test_id], tmp_path)


# --- the control --------------------------------------------------------------------


def _control_targets() -> dict[str, list[str]]:
    """Every test named in a CAUGHT_BY, grouped by file."""
    by_file: dict[str, set[str]] = {}
    for path in _broken_modules():
        for test_id in _caught_by(path) or []:
            by_file.setdefault(test_id.split("::")[0], set()).add(test_id)
    return {f: sorted(ids) for f, ids in sorted(by_file.items())}


@pytest.mark.parametrize("test_file", sorted(_control_targets()) or ["<none>"])
def test_reference_passes_what_catches_the_broken(test_file, tmp_path):
    """The tests that catch the broken modules pass on the reference."""
    if test_file == "<none>":
        pytest.skip("no CAUGHT_BY lists yet")
    outcomes = run_suite("reference", _control_targets()[test_file], tmp_path)
    bad = {t: o for t, o in outcomes.items() if o != "passed"}
    assert outcomes, f"no test of {test_file} ran against the reference"
    assert not bad, f"the reference itself does not pass: {bad}"


# --- the checked edits --------------------------------------------------------------


def test_edit_fails_loudly_unless_its_snippet_occurs_once():
    """No occurrence (the reference changed) and two (ambiguous) are errors naming the file
    and the snippet; exactly one makes the copy, and the bug reaches the copy's callers."""
    with pytest.raises(EditError, match=r"reference/nms\.py.*'no such text' occurs 0 times"):
        edited_reference("selftest_zero", Edit("nms.py", "no such text", "x"))
    with pytest.raises(EditError, match=r"reference/boxes\.py.*'b\[:, 0\]' occurs 2 times"):
        edited_reference("selftest_two", Edit("boxes.py", "b[:, 0]", "b[:, 1]"))
    with pytest.raises(EditError, match="changes nothing"):
        edited_reference("selftest_same", Edit("nms.py", "iou", "iou"))
    with pytest.raises(EditError, match="no edits"):
        edited_reference("selftest_none")
    with pytest.raises(EditError, match="not part of the implementation"):
        edited_reference("selftest_oracles", Edit("oracles.py", "import shapely", "pass"))
    with pytest.raises(EditError, match="no function 'no_such_core'"):
        edited_reference("selftest_swap", Swap("nms.py", "no_such_core", len))

    # The union counts the overlap twice.
    copy = edited_reference("selftest_one", Edit("boxes.py", "- inter\n", "\n"))
    box = np.array([[0.0, 0.0, 1.0, 1.0]])
    assert copy.box_iou(box, box)[0, 0] == 0.5 and reference.box_iou(box, box)[0, 0] == 1.0
    # The IoU core's bug reaches nms in the copy: two identical boxes no longer suppress
    # each other at threshold 0.5.
    assert copy.nms(np.repeat(box, 2, 0), np.array([1.0, 0.5]), 0.5).tolist() == [0, 1]
    assert reference.nms(np.repeat(box, 2, 0), np.array([1.0, 0.5]), 0.5).tolist() == [0]
