"""``python -m properties conformance`` (:mod:`properties.conformance`) without running the suite.

Outcomes are made by hand, as the JUnit XML of a plan run would give them: a failure under an
implementation's own conventions that is not listed fails the run, a listed one is an expected
failure (and passes the run), a listed one that passes is reported, a failure only under the
contract's conventions is a departure explained by the conventions the test read; then the
JUnit reading, the failure text's parts, the plan, and the README's markers.
"""

from __future__ import annotations

import textwrap

import pytest

from properties import conformance as cf
from properties import conventions as conv

ISSUE = "https://github.com/example/lib/issues/1"
NMS_TEST = "test_nms.py::test_nms_kept_boxes_pairwise_iou_at_most_threshold"
TIE_TEST = "test_nms.py::test_nms_score_ties_go_to_lower_index"
IOU_TEST = "test_box_iou.py::test_box_iou_empty_union_is_zero"
FAILURE = textwrap.dedent(
    """\
    AssertionError: nms kept 2 boxes with IoU 0.75 > 0.5 [nms(boxes, scores, iou_threshold=0.5)]
    Falsifying example: test_x(
        impl=lib,
        problem=NmsProblem(boxes=[[0, 0, 1, 1]]),
    )

    To reproduce:
        import numpy as np
        print(lib.nms(boxes, scores, 0.5))

    Drawing of this example: /tmp/reports/x.png
    """
)


@pytest.fixture
def lib(tmp_path, monkeypatch) -> cf.Implementation:
    """An adapter "lib" declaring the torchvision preset, its expected failures in tmp_path."""
    monkeypatch.setattr(cf, "EXPECTED", tmp_path)
    declared = conv.PRESETS["torchvision"].conventions
    return cf.Implementation("lib", "lib", "1.0", declared, ("nms", "box_iou"), True)


def outcome(entry, test, result, read=(), text=""):
    return cf.Outcome(entry, test, result, tuple(read), text)


def test_unlisted_failure_fails_the_run_and_a_listed_one_is_expected(lib, tmp_path):
    outcomes = [outcome("lib", NMS_TEST, "fail", text=FAILURE)]
    records, problems = cf.classify([lib], outcomes)
    assert [r["outcome"] for r in records] == ["finding"]
    assert len(problems) == 1 and NMS_TEST in problems[0] and "expected/lib.toml" in problems[0]
    assert records[0]["counterexample"].startswith("test_x(")
    assert records[0]["repro"] == "import numpy as np\nprint(lib.nms(boxes, scores, 0.5))"
    assert records[0]["drawing"] == "/tmp/reports/x.png"
    assert records[0]["message"] == "nms kept 2 boxes with IoU 0.75 > 0.5"

    (tmp_path / "lib.toml").write_text(
        f'[[failure]]\ntest = "{NMS_TEST}"\nissue = "{ISSUE}"\nfinding = "It keeps overlaps."\n'
    )
    records, problems = cf.classify([lib], outcomes)
    assert problems == []
    assert records[0]["outcome"] == "expected failure"
    assert records[0]["upstream"] == f"Upstream: {ISSUE}."


def test_a_listed_failure_that_passes_is_reported(lib, tmp_path, capsys):
    (tmp_path / "lib.toml").write_text(
        f'[[failure]]\ntest = "{NMS_TEST}"\nissue = "{ISSUE}"\nfinding = "It keeps overlaps."\n'
    )
    # Listed: run apart from the others (the known profile: no shrinking).
    assert cf.plan([lib], set(), known=True) == {"lib": {"impl": "lib", "tests": [NMS_TEST]}}
    assert NMS_TEST not in cf.plan([lib], set())["lib"]["tests"]
    records, problems = cf.classify([lib], [outcome("lib", NMS_TEST, "pass")])
    assert problems == [] and records[0]["listed_but_passing"] == f"Upstream: {ISSUE}."
    assert f"{NMS_TEST} is listed as a known failure (Upstream: {ISSUE}.) but passes" in (
        capsys.readouterr().out
    )


def test_an_entry_without_its_upstream_issue_is_refused(lib, tmp_path):
    (tmp_path / "lib.toml").write_text(f'[[failure]]\ntest = "{NMS_TEST}"\nfinding = "x"\n')
    with pytest.raises(ValueError, match=r"lacks \['issue \(or source\)'\]"):
        cf.classify([lib], [outcome("lib", NMS_TEST, "fail")])
    (tmp_path / "lib.toml").write_text(
        f'[[failure]]\ntest = "{NMS_TEST}"\nfinding = "x"\nsource = "https://x/y.py#L3"\n'
    )
    records, problems = cf.classify([lib], [outcome("lib", NMS_TEST, "fail")])
    assert records[0]["upstream"] == "Not reported upstream yet; the cause: https://x/y.py#L3."


def test_departures_are_explained_by_the_conventions_read(lib):
    outcomes = [
        outcome("lib", TIE_TEST, "pass", read=["nms_ties"]),
        outcome("lib@contract", TIE_TEST, "fail", read=["nms_suppress", "nms_ties"]),
        outcome("lib", IOU_TEST, "pass", read=["empty_union"]),
        outcome("lib@contract", IOU_TEST, "fail", read=[]),
    ]
    records, problems = cf.classify([lib], outcomes)
    by = {(r["property"], r["run"]): r for r in records}
    assert by[(TIE_TEST, "contract")]["outcome"] == "departure"
    assert by[(TIE_TEST, "contract")]["why"] == {"nms_ties": "any"}  # ">" is the contract's
    # A test that fails only under the contract's but read no convention that differs: the
    # suite itself is wrong somewhere, and the run fails.
    assert len(problems) == 1 and IOU_TEST in problems[0] and "read none" in problems[0]
    md = cf.markdown([lib], records, "2026-01-01", "conformance")
    assert "≠ nms_ties=any" in md


def test_plan_runs_each_under_its_own_then_the_departing_tests_under_the_contract(lib):
    entries = cf.plan([lib], reused=set())
    assert set(entries) == {"lib"}
    assert all(t.startswith(("test_nms.py", "test_box_iou.py", "test_golden.py", "test_jittable"))
               for t in entries["lib"]["tests"])  # fmt: skip
    assert not any(t.startswith("test_bad_input.py") for t in entries["lib"]["tests"])
    assert cf.plan([lib], reused={"lib"}) == {}
    assert cf.plan([lib], reused=set(), known=True) == {}  # nothing listed
    outcomes = [
        outcome("lib", TIE_TEST, "pass", read=["nms_suppress", "nms_ties"]),  # ties differ
        outcome("lib", IOU_TEST, "fail", read=["empty_union"]),  # fails already
        outcome("lib", NMS_TEST, "pass", read=["nms_suppress"]),  # ">" is the contract's
    ]
    second = cf.contract_plan([lib], outcomes, reused=set())
    assert second == {
        "lib@contract": {
            "impl": "lib",
            "tests": [TIE_TEST],
            "conventions": dict(conv.CONTRACT.items()),
        }
    }
    keep = cf.Implementation("keep", "keep", "1", conv.resolve("onnx"), ("nms",), True)
    outcomes = [outcome("keep", TIE_TEST, "pass", read=["box_format", "nms_ties"])]
    assert cf.contract_plan([keep], outcomes, set()) == {}  # onnx: the contract's, in yxyx


def test_junit_of_a_plan_run_and_of_a_plain_run(tmp_path):
    (tmp_path / "plan.xml").write_text(
        textwrap.dedent(
            """\
            <testsuites><testsuite>
             <testcase classname="properties.test_nms" name="test_a[lib]">
              <properties><property name="impl" value="lib"/>
               <property name="conventions_read" value="nms_ties,empty_union"/></properties>
              <failure message="AssertionError: boom">trace</failure></testcase>
             <testcase classname="properties.test_nms" name="test_a[lib@contract]">
              <properties><property name="impl" value="lib@contract"/></properties>
              <skipped message="nms not provided"/></testcase>
             <testcase classname="tests.test_selftest" name="test_b"/>
            </testsuite></testsuites>
            """
        )
    )
    got = {(o.entry, o.test): o for o in cf.read_junit(tmp_path / "plan.xml")}
    assert set(got) == {("lib", "test_nms.py::test_a"), ("lib@contract", "test_nms.py::test_a")}
    assert got[("lib", "test_nms.py::test_a")].outcome == "fail"
    assert got[("lib", "test_nms.py::test_a")].read == ("nms_ties", "empty_union")
    assert got[("lib@contract", "test_nms.py::test_a")].outcome == "skip"
    plain = cf.read_junit(tmp_path / "plan.xml", entry="jaximpl")
    assert {(o.entry, o.outcome) for o in plain} == {("jaximpl", "fail")}  # the worst wins


def test_readme_region_is_replaced_between_its_markers(tmp_path):
    readme = tmp_path / "README.md"
    readme.write_text(f"# x\n\nbefore\n{cf.README_BEGIN}\nold\n{cf.README_END}\nafter\n")
    cf.write_readme(readme, "new table")
    assert (
        readme.read_text()
        == f"# x\n\nbefore\n{cf.README_BEGIN}\nnew table\n{cf.README_END}\nafter\n"
    )
    readme.write_text("no markers\n")
    with pytest.raises(SystemExit, match="markers"):
        cf.write_readme(readme, "new")


def test_the_report_names_no_path_of_this_machine():
    """Reprs and tracebacks in the report name checkout files by their repository path and
    installed packages under ``<site-packages>/``; other text is left as it is."""
    text = (
        f"impl=Implementation('lib', '{cf.ROOT}/properties/adapters/lib.py')\n"
        '  File "/opt/venv-x/lib/python3.11/site-packages/keras/src/ops/numpy.py", line 7\n'
        "got [1], expected [1, 0]: see docs/conformance.md"
    )
    assert cf.portable(text) == (
        "impl=Implementation('lib', 'properties/adapters/lib.py')\n"
        '  File "<site-packages>/keras/src/ops/numpy.py", line 7\n'
        "got [1], expected [1, 0]: see docs/conformance.md"
    )


def test_the_shipped_expected_failures_files_are_well_formed():
    """Each entry names a suite test and an upstream issue; each file an adapter."""
    from properties.plugin import adapter_names

    for path in sorted(cf.EXPECTED.glob("*.toml")):
        assert path.stem in adapter_names(), path
        for test, entry in cf.expected_failures(path.stem).items():
            file, name = test.split("::")
            assert name in {t.split("::")[1] for t in cf.suite_tests(file)}, test
            assert (entry.get("issue") or entry["source"]).startswith("https://"), entry
