"""The conventions machinery (CONTRACT.md §7), tested both ways.

For each value ``X`` of each convention, the reference computing under ``X``
(``properties.conventions.reference_under``):

- passes the property that ``X`` changes when ``X`` is declared;
- fails it when the contract's value is declared, and the contract's own reference fails it when
  ``X`` is declared (except for the tie order "any", which every order satisfies).

Each suite file runs once, in a subprocess, with an ``--impl-plan`` of all its cases (the
``selftest`` profile: small, derandomized, no shrinking). Then bad names and values: usage
errors that list the valid ones, and the report header.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest

import properties
from properties import conventions as conv

SUITE = Path(properties.__file__).resolve().parent

# (key, value, the suite test that the value changes)
CASES = [
    ("box_format", "yxyx", "test_multibox_prior.py::test_multibox_prior_matches_reference"),
    ("box_format", "xywh", "test_box_iou.py::test_box_iou_matches_reference_on_lattice"),
    ("box_format", "cxcywh", "test_box_iou.py::test_box_iou_matches_reference_on_lattice"),
    ("empty_union", "nan", "test_box_iou.py::test_box_iou_empty_union_is_zero"),
    ("empty_union", "eps:1e-07", "test_box_iou.py::test_box_iou_of_box_with_itself_is_one"),
    ("pixel_offset", "1", "test_box_iou.py::test_box_iou_is_zero_for_disjoint_and_touching_boxes"),
    ("nms_suppress", ">=", "test_nms.py::test_nms_iou_exactly_at_threshold_is_kept"),
    ("nms_ties", "highest", "test_nms.py::test_nms_score_ties_go_to_lower_index"),
    ("nms_ties", "any", "test_nms.py::test_nms_score_ties_go_to_lower_index"),
]


def _slug(text: str) -> str:
    return "".join(c if c.isalnum() else "_" for c in text)


def plan_for(tmp_path: Path) -> tuple[dict, dict]:
    """The plan of every case, and what each entry must do with its test."""
    plan, expect = {}, {}
    for key, value, test in CASES:
        module = tmp_path / f"ref_{_slug(key)}_{_slug(value)}.py"
        module.write_text(
            "from properties.conventions import reference_under\n"
            f"globals().update(reference_under({key}={value!r}))\n"
        )
        name = f"{key}={value}"
        plan[f"{name} as {name}"] = {
            "impl": str(module),
            "tests": [test],
            "conventions": {key: value},
        }
        expect[f"{name} as {name}"] = (test, "passed")
        plan[f"{name} as contract"] = {
            "impl": str(module),
            "tests": [test],
            "conventions": "contract",
        }
        expect[f"{name} as contract"] = (test, "failed")
        if value != "any":  # every order is a valid "any"
            plan[f"contract as {name}"] = {
                "impl": "reference",
                "tests": [test],
                "conventions": {key: value},
            }
            expect[f"contract as {name}"] = (test, "failed")
    return plan, expect


def run_plan(test_files: list[str], plan: dict, tmp_path: Path) -> dict[str, str]:
    """``{entry: outcome}`` of a plan run of ``test_files`` (one process)."""
    (tmp_path / "plan.json").write_text(json.dumps(plan))
    xml = tmp_path / "junit.xml"
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", *[str(SUITE / f) for f in test_files],
         "--impl-plan=plan.json", "--hypothesis-profile=selftest", "--anchor-reports=",
         "-p", "no:cacheprovider", "-q", f"--junitxml={xml}"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert proc.returncode in (0, 1) and xml.exists(), proc.stdout[-3000:] + proc.stderr[-3000:]
    outcomes = {}
    for case in ET.parse(xml).getroot().iter("testcase"):
        entry = {p.get("name"): p.get("value") for p in case.iter("property")}["impl"]
        failed = case.find("failure") is not None or case.find("error") is not None
        outcomes[entry] = (
            "failed" if failed else "skipped" if case.find("skipped") is not None else "passed"
        )
    return outcomes


def test_each_convention_is_followed_both_ways(tmp_path):
    """The reference under each value passes when it is declared and fails, on the named
    property, when another is; the contract's reference fails it under each other value.
    (All cases in one process: each costs about 2 s of start-up.)"""
    plan, expect = plan_for(tmp_path)
    outcomes = run_plan(sorted({t.split("::")[0] for _, _, t in CASES}), plan, tmp_path)
    wrong = {
        entry: f"{test}: {outcomes.get(entry, 'did not run')}, expected {want}"
        for entry, (test, want) in expect.items()
        if outcomes.get(entry) != want
    }
    assert not wrong, wrong


# --- the closed set ------------------------------------------------------------------------


def test_every_value_has_a_case_and_every_preset_a_citation():
    covered = {(k, v) for k, v, _ in CASES}
    for key, values in conv.VALID.items():
        for value in values:
            if value == "eps:VALUE":
                value = "eps:1e-07"
            if value != getattr(conv.CONTRACT, key):
                assert (key, conv.parse_value(key, value)) in covered, (key, value)
    for name, preset in conv.PRESETS.items():
        for key, (value, citation) in preset.values.items():
            conv.parse_value(key, value)
            assert citation and (name == "contract" or "http" in citation), (name, key)


@pytest.mark.parametrize(
    "spec, message",
    [
        (
            {"box_format": "xy"},
            "box_format: unknown value 'xy'; valid values: xyxy, yxyx, xywh, cxcywh",
        ),
        ({"empty_union": "eps:0"}, "needs a finite epsilon > 0"),
        ({"empty_union": "zero-ish"}, "valid values: 0, nan, eps:VALUE"),
        ({"nms_ties": "first"}, "valid values: lowest, highest, any"),
        ({"nms_suppress": "=>"}, "valid values: >, >="),
        ({"colour": "red"}, "unknown convention 'colour'; the conventions are: box_format"),
        ("tensorflw", "unknown conventions preset 'tensorflw'; the presets are: contract"),
        (3, "a preset name or a mapping"),
    ],
)
def test_bad_names_and_values_list_the_valid_ones(spec, message):
    with pytest.raises(conv.ConventionError) as info:
        conv.resolve(spec)
    assert message in str(info.value)
    with pytest.raises(conv.ConventionError, match="expects KEY=VALUE, got 'nms_ties'"):
        conv.resolve(None, overrides=["nms_ties"])


def test_resolution_order_and_canonical_values():
    """A module's declaration, replaced by a preset, then single overrides; values canonical."""
    c = conv.resolve({"preset": "keras", "nms_ties": "highest"}, overrides=["nms_suppress=ge"])
    assert c.describe() == (
        "box_format=yxyx empty_union=eps:1e-07 pixel_offset=0 nms_suppress=>= nms_ties=highest"
    )
    assert conv.resolve("keras", preset="contract") == conv.CONTRACT
    assert conv.resolve(None, overrides={"empty_union": "eps:1e-6"}).union_eps == 1e-6
    assert conv.PRESETS["torchvision"].conventions.contract_with_format() == conv.CONTRACT
    assert conv.PRESETS["onnx"].conventions.contract_with_format().box_format == "yxyx"


@pytest.mark.parametrize("fmt", conv.BOX_FORMATS)
def test_box_formats_round_trip_exactly_on_the_lattice(fmt):
    rng = np.random.default_rng(0)
    b = np.sort(rng.integers(0, 129, (50, 2, 2)), axis=1).transpose(0, 2, 1).reshape(50, 4)
    b = (b[:, [0, 1, 2, 3]] / 64).astype(np.float32)
    there = conv.convert(b, "corner", fmt, True)
    assert there.dtype == np.float32
    assert np.array_equal(conv.convert(there, "corner", fmt, False), b)
    labels = np.concatenate([np.full((50, 1), 3, np.float32), b], axis=1)
    back = conv.convert(conv.convert(labels, "labels", fmt, True), "labels", fmt, False)
    assert np.array_equal(back, labels)


# --- on the command line -------------------------------------------------------------------


def _pytest(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *args],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip


TEST = textwrap.dedent(
    """
    def test_reads(impl, conventions):
        assert conventions.nms_ties in ("lowest", "highest", "any")
    """
)


def test_usage_errors_and_the_report_header(tmp_path):
    (tmp_path / "test_user.py").write_text(TEST)
    (tmp_path / "bad_impl.py").write_text("CONVENTIONS = {'nms_ties': 'sideways'}\n")
    for args, message in (
        (
            ["--convention", "nms_ties=first"],
            "nms_ties: unknown value 'first'; valid values: lowest, highest, any",
        ),
        (
            ["--conventions=nope"],
            "unknown conventions preset 'nope'; the presets are: contract, torchvision",
        ),
        (["--impl=bad_impl.py"], "bad_impl.py: convention nms_ties: unknown value 'sideways'"),
    ):
        proc = _pytest(tmp_path, "test_user.py", *args)
        assert proc.returncode == 4, (args, proc.stdout[-2000:], proc.stderr[-2000:])
        assert message in proc.stderr, (args, proc.stderr[-2000:])
        assert "Traceback" not in proc.stderr, proc.stderr[-2000:]
    proc = _pytest(
        tmp_path,
        "test_user.py",
        "--impl=reference",
        "--conventions=keras_hub",
        "--convention",
        "nms_ties=any",
    )
    assert proc.returncode == 0, proc.stdout[-2000:]
    assert (
        "anchor-box suite: conventions: box_format=yxyx empty_union=eps:1e-08 pixel_offset=0 "
        "nms_suppress=>= nms_ties=any" in proc.stdout
    ), proc.stdout[:2000]
