"""Self-test: the property suite must catch every deliberately broken implementation.

``properties/broken/`` ships complete implementations of the contract, each with exactly one
plausible bug and a ``CAUGHT_BY`` list naming the property tests (``"test_file.py::test_name"``)
that must fail for it. The self-test proves that

- each broken module fails EACH test of its ``CAUGHT_BY`` (a skip or a pass is a hole in the
  suite, or a stale ``CAUGHT_BY``);
- ``d2l_faithful`` (the chapter's own code) fails one named property per deliberate departure
  of CONTRACT.md (§8);
- the control: the reference passes every test named in a ``CAUGHT_BY``, or "caught" would
  mean nothing.

It runs the suite files in ``GROUPS`` pytest processes, one per xdist worker (at most 4; one
without xdist): ``pytest -n`` spreads them when the self-test runs alone, and in a run of the
whole suite this file goes to one worker (see conftest.py), where each further process is
about 2 s of start-up. Each runs against every implementation its files concern at once,
with the plugin's ``--impl-plan``::

    python -m pytest <suite>/test_nms.py <suite>/test_offsets.py ... --impl-plan=plan.json \\
        --hypothesis-profile=selftest --anchor-reports= -p no:cacheprovider -q --no-header \\
        --junitxml=junit.xml

where ``plan.json`` gives each broken module its own ``CAUGHT_BY`` tests of those files and
the reference all of them. The ``selftest`` profile does not shrink and ``--anchor-reports=`` draws
no PNG: only "did it fail" matters here, and shrinking was nearly all of the time.

Adding a broken module needs no edit here: modules are discovered from the package. A module
whose ``CAUGHT_BY`` is empty runs against every test of every suite file, and the failure lists
what caught it, ready to paste. Set ``SELFTEST_FULL=1`` to run the whole suite against every
module and print everything that catches it (slow; for refreshing the ``CAUGHT_BY`` lists).

Run it alone with ``pytest -m selftest tests/test_selftest.py -n auto``.
"""

from __future__ import annotations

import ast
import importlib.util
import json
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
# The chapter's four deliberate departures (CONTRACT.md §8), and the property that catches each.
D2L_DEPARTURES = {
    "nan_iou_for_empty_union": "test_box_iou.py::test_box_iou_empty_union_is_zero",
    "nms_ties_not_by_index": "test_nms.py::test_nms_score_ties_go_to_lower_index",
    "greedy_runs_g_rounds": "test_assign.py::test_assign_greedy_runs_min_a_g_rounds",
    "padding_claims_anchors": "test_multibox_target.py::test_multibox_target_ignores_padding",
}
CONTROL = "reference"
FULL = bool(os.environ.get("SELFTEST_FULL"))
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


def _suite_tests(test_file: str) -> set[str]:
    """The test functions defined in a suite file, as ``file.py::test_name``."""
    tree = ast.parse((SUITE / test_file).read_text())
    return {
        f"{test_file}::{node.name}"
        for node in tree.body
        if isinstance(node, ast.FunctionDef) and node.name.startswith("test_")
    }


def _base(test_id: str) -> str:
    """``file.py::test_name[param]`` -> ``file.py::test_name``."""
    return test_id.split("[", 1)[0]


def _label(module: str, test_id: str) -> str:
    """``module``, with the departure ``test_id`` pins when the module is d2l_faithful."""
    departure = [d for d, t in D2L_DEPARTURES.items() if t == test_id and module == D2L]
    return f"{module} (departure {departure[0]})" if departure else module


# --- what each suite file must show -------------------------------------------------


def _plans() -> dict[str, dict[str, dict]]:
    """``{suite file: --impl-plan}``: per file, every broken module with its ``CAUGHT_BY``
    tests there (all of the file's tests if its ``CAUGHT_BY`` is empty, or with
    ``SELFTEST_FULL``), and the control, the reference, with every test named in one."""
    plans: dict[str, dict[str, dict]] = {}
    named: set[str] = set()  # every test named in a CAUGHT_BY
    for path in _broken_modules():
        expected = _caught_by(path) or []
        named.update(expected)
        if FULL or not expected:  # every test of every file
            for test_file in _suite_files():
                plans.setdefault(test_file, {})[path.stem] = {"impl": str(path)}
            continue
        for test_file in sorted({t.split("::")[0] for t in expected}):
            tests = sorted(t for t in expected if t.split("::")[0] == test_file)
            plans.setdefault(test_file, {})[path.stem] = {"impl": str(path), "tests": tests}
    for test_file, plan in plans.items():
        tests = sorted(t for t in named if t.split("::")[0] == test_file)
        if tests:
            plan[CONTROL] = {"impl": "reference", "tests": tests}
    return dict(sorted(plans.items()))


def _file_of(case: ET.Element) -> str:
    """The suite file of a JUnit test case: classname ``properties.test_nms``, ``test_nms.py``."""
    module = [c for c in case.get("classname", "").split(".") if c.startswith("test_")]
    return f"{module[-1]}.py" if module else "?"


def run_plan(
    test_files: str | list[str], plan: dict[str, dict], tmp_path: Path
) -> dict[tuple[str, str], str]:
    """Run the suite file(s) ``test_files`` in one process with ``--impl-plan`` ``plan``.

    Returns ``{(implementation, "file.py::test_name"): outcome}`` for every test the run
    collected, the outcome of its worst parameter: ``errored`` (an error outside the test's
    body, such as an implementation that does not load: not a catch), ``failed``, ``passed``,
    ``skipped``.
    """
    files = [test_files] if isinstance(test_files, str) else list(test_files)
    plan_file, xml = tmp_path / "plan.json", tmp_path / "junit.xml"
    plan_file.write_text(json.dumps(plan, indent=1))
    cmd = [
        sys.executable,
        "-m",
        "pytest",
        *[str(SUITE / f) for f in files],
        f"--impl-plan={plan_file}",
        "--hypothesis-profile=selftest",
        "--anchor-reports=",
        "-p",
        "no:cacheprovider",
        "-q",
        "--no-header",
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
    # 0: all passed, 1: some failed; anything else (usage error, an internal error, nothing
    # collected) is a broken self-test, not a catch.
    if proc.returncode not in (0, 1) or not xml.exists():
        raise AssertionError(
            f"the suite did not run {' '.join(files)} (exit {proc.returncode}):\n"
            f"{' '.join(cmd)}\n{proc.stdout[-4000:]}\n{proc.stderr[-4000:]}"
        )
    outcomes: dict[tuple[str, str], str] = {}
    rank = {"skipped": 0, "passed": 1, "failed": 2, "errored": 3}  # the worst parameter wins
    for case in ET.parse(xml).getroot().iter("testcase"):
        props = {p.get("name"): p.get("value") for p in case.iter("property")}
        key = (props.get("impl", "?"), f"{_file_of(case)}::{_base(case.get('name', ''))}")
        if case.find("error") is not None:
            outcome = "errored"  # in a fixture: the implementation did not even load
        elif case.find("failure") is not None:
            outcome = "failed"
        elif case.find("skipped") is not None:
            outcome = "skipped"
        else:
            outcome = "passed"
        if rank[outcome] >= rank[outcomes.get(key, "skipped")]:
            outcomes[key] = outcome
    return outcomes


def problems_of(test_file: str, plan: dict[str, dict], outcomes: dict) -> list[str]:
    """Every way the run of ``test_file`` falls short, one line each naming module and test."""
    problems = []
    for module, entry in plan.items():
        ran = {
            t: o for (m, t), o in outcomes.items() if m == module and t.split("::")[0] == test_file
        }
        if module == CONTROL:
            problems += [
                f"the control: the reference does not pass {t} (it {ran.get(t, 'did not run')})"
                for t in entry["tests"]
                if ran.get(t) != "passed"
            ]
            continue
        caught = sorted(t for t, o in ran.items() if o == "failed")
        expected = _caught_by(BROKEN / f"{module}.py") or []
        if not expected:
            problems.append(
                f"{module}: CAUGHT_BY is empty; in {test_file} it is caught by {caught}"
            )
        if FULL:
            print(f"{module}: {test_file} catches it with {caught}")
        for t in expected:
            outcome = ran.get(t, "did not run")
            if t.split("::")[0] == test_file and outcome != "failed":
                why = (
                    "an error outside the test: does the module load?"
                    if outcome == "errored"
                    else "a hole in the suite, or a stale CAUGHT_BY"
                )
                problems.append(f"{_label(module, t)} was NOT caught by {t} (it {outcome}): {why}")
    return problems


def _size(plan: dict[str, dict]) -> int:
    """The (implementation, test) pairs of a file's plan; an entry without ``"tests"`` runs
    the whole file: counted 99."""
    return sum(len(e.get("tests", range(99))) for e in plan.values())


# Processes the self-test runs the suite files in: one per xdist worker (the workers collect
# with the same count), at most 4, so that start-up (about 2 s a process) does not dominate.
GROUPS = min(4, max(1, int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))))


def _groups(plans: dict[str, dict[str, dict]]) -> list[list[str]]:
    """The suite files in ``GROUPS`` groups of about equal size (the largest file first into
    the smallest group), the largest group first: under ``pytest -n`` it starts first."""
    groups: list[list[str]] = [[] for _ in range(min(GROUPS, len(plans)))]
    sizes = [0] * len(groups)
    for test_file in sorted(plans, key=lambda f: _size(plans[f]), reverse=True):
        i = sizes.index(min(sizes))
        groups[i].append(test_file)
        sizes[i] += _size(plans[test_file])
    order = sorted(range(len(groups)), key=lambda i: sizes[i], reverse=True)
    return [sorted(groups[i]) for i in order]


def _merged(plans: dict[str, dict[str, dict]], files: list[str]) -> dict[str, dict]:
    """One ``--impl-plan`` for several files: each implementation with the union of its tests
    there (no ``"tests"``, all of them, if it has none in some file)."""
    merged: dict[str, dict] = {}
    for test_file in files:
        for name, entry in plans[test_file].items():
            into = merged.setdefault(name, {"impl": entry["impl"], "tests": []})
            if "tests" not in entry or "tests" not in into:
                into.pop("tests", None)
            else:
                into["tests"] = sorted({*into["tests"], *entry["tests"]})
    return merged


@pytest.mark.parametrize("test_files", _groups(_plans()), ids=lambda fs: "+".join(fs))
def test_suite_catches_the_broken_and_passes_the_reference(test_files, tmp_path):
    """Per group of suite files (one process): in each file, each broken module fails each
    of its CAUGHT_BY tests there, d2l_faithful fails the file's departure properties, and the
    reference passes them all."""
    plans = _plans()
    outcomes = run_plan(test_files, _merged(plans, test_files), tmp_path)
    problems = [
        f"{test_file}: {problem}"
        for test_file in test_files
        for problem in problems_of(test_file, plans[test_file], outcomes)
    ]
    assert not problems, "\n".join(problems)


# --- every broken module, read without running the suite ------------------------------


def _load(path: Path):
    spec = importlib.util.spec_from_file_location(f"_selftest_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("path", _broken_modules(), ids=lambda p: p.stem)
def test_broken_module_is_well_formed(path):
    """A complete implementation with a docstring, a CAUGHT_BY list naming tests that exist,
    and a change: edits of the reference (``properties.broken._mutate``) or functions of its
    own."""
    module = _load(path)
    assert (module.__doc__ or "").strip(), f"{path.name}: no docstring saying the bug"
    assert isinstance(getattr(module, "CAUGHT_BY", None), list), f"{path.name}: no CAUGHT_BY list"
    assert module.CAUGHT_BY, (
        f"{path.name}: CAUGHT_BY is empty (the self-test lists what catches it)"
    )
    malformed = [t for t in module.CAUGHT_BY if t.count("::") != 1 or "[" in t]
    assert not malformed, f"{path.name}: CAUGHT_BY entries not 'file.py::test_name': {malformed}"
    unknown = [
        t
        for t in module.CAUGHT_BY
        if t.split("::")[0] not in _suite_files() or t not in _suite_tests(t.split("::")[0])
    ]
    assert not unknown, f"{path.name}: CAUGHT_BY names tests that do not exist: {unknown}"
    missing = [n for n in CONTRACT_FUNCTIONS if not callable(getattr(module, n, None))]
    assert not missing, f"{path.name}: not a complete implementation, lacks {missing}"
    own = [n for n in CONTRACT_FUNCTIONS if getattr(module, n).__module__ == module.__name__]
    changes = getattr(module, "CHANGES", ())
    assert own or changes, f"{path.name}: changes nothing, so it is the reference"


def test_d2l_faithful_is_caught_once_per_departure():
    """Its CAUGHT_BY is exactly one property per deliberate departure, so the runs above
    prove that each departure is caught."""
    assert sorted(_caught_by(BROKEN / f"{D2L}.py") or []) == sorted(D2L_DEPARTURES.values())


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
