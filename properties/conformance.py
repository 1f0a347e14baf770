"""``python -m properties conformance``: the suite against real libraries, as a table.

Runs the property suite under the ``conformance`` Hypothesis profile (``ci``'s settings with
fewer examples: :data:`properties.plugin.CONFORMANCE_EXAMPLES`), in one pytest process with an
``--impl-plan``, against ``reference``, ``jaximpl`` and every adapter of
``properties/adapters/`` whose library is installed (``pip install -e ".[conformance]"``):

- each under its declared conventions (CONTRACT.md §7): a failure there is a *finding*, a real
  disagreement with the library's own rules;
- each adapter whose conventions differ from the contract's once more under the contract's
  (its box format kept: a format is how boxes are passed, not what is computed), in a second
  run, on the tests that passed under its own and read a convention that differs (the plugin
  records them per test, ``conventions_read``): a test that fails there is a *departure*,
  explained by those conventions.

Each adapter runs only the suite files of the operations it provides. ``--reuse NAME=XML``
takes an implementation's results from the JUnit XML of a run made already (CI reuses the main
suite run for ``jaximpl`` and the run from outside the checkout for ``reference``); ``--reuse
plan=XML`` the entries of an earlier run of this command (its ``plan.json``'s JUnit XML).

Known findings are listed in ``properties/adapters/expected/<adapter>.toml``, each with the
upstream issue (or, not reported yet, the upstream code that causes it); a listed failure is an
"expected failure". The run fails (exit 1) on a finding
that is not listed, on a departure no convention explains, and on an error; a listed failure
that passes is reported, so that the list can shrink.

It writes ``docs/conformance.json`` (every outcome: library, version, operation, property, run,
outcome, and for each failure the shrunk counterexample, the repro snippet that calls the library
itself and the drawing), ``docs/conformance.md`` (the matrix and the findings, drawings under
``docs/conformance/``) and the README's matrix between its ``conformance`` markers.
"""

from __future__ import annotations

import argparse
import ast
import datetime as dt
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import textwrap
import tomllib
import xml.etree.ElementTree as ET
from collections import Counter
from pathlib import Path
from typing import Any, NamedTuple

from . import conventions as conv

SUITE = Path(__file__).resolve().parent
ROOT = SUITE.parent
ADAPTERS = SUITE / "adapters"
EXPECTED = ADAPTERS / "expected"
README_BEGIN, README_END = "<!-- conformance: begin -->", "<!-- conformance: end -->"
IOU_FAMILY = tuple(
    f"{kind}_box_iou{suffix}"
    for kind in ("generalized", "distance", "complete")
    for suffix in ("", "_loss", "_loss_grad")
)
# Suite files, and the contract functions whose tests they hold ("*": any).
FILES = {
    "test_box_iou.py": ("box_iou",),
    "test_conversions.py": ("box_corner_to_center", "box_center_to_corner"),
    "test_multibox_prior.py": ("multibox_prior",),
    "test_offsets.py": ("offset_boxes", "offset_inverse"),
    "test_assign.py": ("assign_anchor_to_bbox",),
    "test_multibox_target.py": ("multibox_target",),
    "test_nms.py": ("nms",),
    "test_multibox_detection.py": ("multibox_detection",),
    "test_golden.py": ("*",),
    "test_jittable.py": ("nms_padded", "nms_keep_mask", "multibox_target", "box_iou"),
    "test_bad_input.py": ("*",),
    # The detector operations (CONTRACT.md §3).
    "test_box_convert.py": ("box_convert",),
    "test_batched_nms.py": ("batched_nms", "batched_nms_padded"),
    "test_box_coder.py": ("BoxCoder",),
    "test_matcher.py": ("Matcher",),
    "test_iou_losses.py": IOU_FAMILY,
    "test_clipping.py": (
        "clip_boxes_to_image",
        "remove_small_boxes",
        "remove_small_boxes_keep_mask",
    ),
}
OPERATIONS = (
    "box_iou",
    "box_corner_to_center",
    "box_center_to_corner",
    "multibox_prior",
    "offset_boxes",
    "offset_inverse",
    "assign_anchor_to_bbox",
    "multibox_target",
    "nms",
    "multibox_detection",
    "box_convert",
    "batched_nms",
    "BoxCoder",
    "Matcher",
    "iou_losses",
    "clipping",
)
# Suite files of several functions that the table shows as one operation.
GROUPED = {
    "test_batched_nms.py": "batched_nms",
    "test_iou_losses.py": "iou_losses",
    "test_clipping.py": "clipping",
}
SYMBOLS = {"pass": "✓", "finding": "✗", "expected failure": "⚠", "skip": "·", "error": "E"}


class Implementation(NamedTuple):
    name: str  # the --impl name
    library: str  # the distribution whose version is reported
    version: str
    conventions: conv.Conventions  # declared
    provides: tuple[str, ...]  # contract functions
    adapter: bool


# --- what to run -----------------------------------------------------------------------------


def _module_facts(path: Path) -> dict[str, Any]:
    """``LIBRARY``, ``CONVENTIONS`` and the functions an adapter defines, read without importing
    it (importing keras-hub alone takes seconds)."""
    facts: dict[str, Any] = {"functions": []}
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.FunctionDef) and not node.name.startswith("_"):
            facts["functions"].append(node.name)
        if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name):
            if node.targets[0].id in ("LIBRARY", "CONVENTIONS"):
                facts[node.targets[0].id] = ast.literal_eval(node.value)
    return facts


def implementations(only: list[str] | None = None) -> list[Implementation]:
    """``reference``, ``jaximpl`` and the adapters whose library is installed."""
    from .adapters import version
    from .plugin import CONTRACT_FUNCTIONS, OPTIONAL_FUNCTIONS, adapter_names

    own = version("anchor-box-suite")
    out = [
        Implementation(
            "reference", "anchor-box-suite", own, conv.CONTRACT, CONTRACT_FUNCTIONS, False
        ),
        Implementation(
            "jaximpl",
            "anchor-box-suite",
            own,
            conv.CONTRACT,
            CONTRACT_FUNCTIONS + OPTIONAL_FUNCTIONS,
            False,
        ),
    ]
    for name in adapter_names():
        facts = _module_facts(ADAPTERS / f"{name}.py")
        installed = version(facts["LIBRARY"])
        if installed == "not installed":
            print(f"conformance: {name}: {facts['LIBRARY']} is not installed, skipped")
            continue
        provides = tuple(
            f for f in facts["functions"] if f in CONTRACT_FUNCTIONS + OPTIONAL_FUNCTIONS
        )
        declared = conv.resolve(facts.get("CONVENTIONS"))
        out.append(Implementation(name, facts["LIBRARY"], installed, declared, provides, True))
    return [i for i in out if only is None or i.name in only]


def suite_tests(test_file: str) -> list[str]:
    tree = ast.parse((SUITE / test_file).read_text())
    return [
        f"{test_file}::{node.name}"
        for node in tree.body
        if isinstance(node, ast.FunctionDef) and node.name.startswith("test_")
    ]


def tests_for(impl: Implementation) -> list[str]:
    """The tests of the suite files of the operations ``impl`` provides (all for our own)."""
    files = [
        f
        for f, functions in FILES.items()
        if not impl.adapter
        or (f != "test_bad_input.py" and ("*" in functions or set(functions) & set(impl.provides)))
    ]
    return [t for f in files for t in suite_tests(f)]


def plan(impls: list[Implementation], reused: set[str], known: bool = False) -> dict[str, dict]:
    """The ``--impl-plan`` of a run: each implementation not ``reused`` under its own
    conventions, on the tests not listed in its expected failures (``known``: only on those)."""
    entries = {}
    for impl in impls:
        listed = set(expected_failures(impl.name))
        tests = [t for t in tests_for(impl) if (t in listed) == known]
        if impl.name not in reused and tests:
            entries[impl.name] = {"impl": impl.name, "tests": tests}
    return entries


def contract_plan(
    impls: list[Implementation], outcomes: list[Outcome], reused: set[str]
) -> dict[str, dict]:
    """The second run: each implementation whose conventions differ from the contract's (its
    box format kept), as ``NAME@contract``, on the tests that passed under its own conventions
    and read a convention that differs. Any other test does the same under both (the examples
    are derandomized and the calls the same), so it need not run again."""
    entries: dict[str, dict] = {}
    for impl in impls:
        contract = impl.conventions.contract_with_format()
        differs = set(impl.conventions.differences(contract))
        tests = sorted(
            o.test
            for o in outcomes
            if o.entry == impl.name and o.outcome == "pass" and differs & set(o.read)
        )
        if differs and tests and f"{impl.name}@contract" not in reused:
            entries[f"{impl.name}@contract"] = {
                "impl": impl.name,
                "tests": tests,
                "conventions": dict(contract.items()),
            }
    return entries


# --- reading JUnit XML -----------------------------------------------------------------------


class Outcome(NamedTuple):
    entry: str  # plan entry (implementation, or implementation@contract)
    test: str  # file.py::test_name
    outcome: str  # pass, fail, skip, error
    read: tuple[str, ...]  # the convention keys the test read
    text: str  # failure or skip text


def read_junit(path: Path, entry: str | None = None) -> list[Outcome]:
    """Outcomes of the suite's tests in a JUnit XML: from a plan run (entry from each case's
    ``impl`` property), or from a plain run when ``entry`` is given (tests outside the suite's
    package, such as the project's own tests/, are left out)."""
    out: dict[tuple[str, str], Outcome] = {}
    rank = {"skip": 0, "pass": 1, "fail": 2, "error": 3}
    for case in ET.parse(path).getroot().iter("testcase"):
        classname = case.get("classname", "")
        if not classname.startswith("properties.") and "properties" not in classname.split("."):
            continue
        props = {p.get("name"): p.get("value") for p in case.iter("property")}
        name = entry or props.get("impl")
        if not name:
            continue
        test = f"{classname.rsplit('.', 1)[-1]}.py::{case.get('name', '').split('[', 1)[0]}"
        text = ""
        if case.find("error") is not None:
            outcome, text = "error", _text(case.find("error"))
        elif case.find("failure") is not None:
            outcome, text = "fail", _text(case.find("failure"))
        elif case.find("skipped") is not None:
            outcome, text = "skip", case.find("skipped").get("message", "")
        else:
            outcome = "pass"
        read = tuple(k for k in (props.get("conventions_read") or "").split(",") if k)
        key = (name, test)
        if key not in out or rank[outcome] > rank[out[key].outcome]:
            out[key] = Outcome(name, test, outcome, read, text)
    return list(out.values())


def _text(element: ET.Element) -> str:
    """pytest's full report (the ``message`` attribute is cut after a few lines)."""
    return (element.text or element.get("message", "")).strip()


def failure_parts(text: str) -> dict[str, str]:
    """The message, the shrunk counterexample, the repro snippet and the drawing of a failure
    (from pytest's report: its ``E`` prefixes are taken off first)."""
    text = "\n".join(re.sub(r"^E(?: {1,7}|$)", "", ln) for ln in text.splitlines())
    message = next(
        (ln.split("Error: ", 1)[1] for ln in text.splitlines() if "Error: " in ln), text[:300]
    )
    example = re.search(
        r"(?:Falsifying (?:explicit )?example|Failing test case): (.*?\n\s*\)|[^\n]*)", text, re.S
    )
    repro = re.search(
        r"To reproduce:\n(.*?)(?:\n\s*\n|\n\s*(?:Drawing of this example|Failing test case)|$)",
        text,
        re.S,
    )
    drawing = re.search(r"Drawing of this example: (\S+\.png)", text)
    snippet = ""
    if repro:
        snippet = textwrap.dedent(repro.group(1)).strip()
    return {
        "message": re.sub(r" \[\w+\(.*\)\]$", "", message.strip()),
        "counterexample": example.group(1).strip() if example else "",
        "repro": snippet,
        "drawing": drawing.group(1) if drawing else "",
    }


# --- expected failures -----------------------------------------------------------------------


def expected_failures(name: str) -> dict[str, dict]:
    """``{test: entry}`` of ``expected/<name>.toml``: ``[[failure]]`` tables with ``test``
    (``file.py::test_name``), ``finding`` (one sentence) and where it stands upstream:
    ``issue``, the upstream issue's URL, or, for a finding not reported upstream yet,
    ``source``, a link to the upstream code that causes it (pinned to the version tested)."""
    path = EXPECTED / f"{name}.toml"
    if not path.is_file():
        return {}
    entries = tomllib.loads(path.read_text()).get("failure", [])
    for e in entries:
        missing = [k for k in ("test", "finding") if not e.get(k)]
        if not (e.get("issue") or e.get("source")):
            missing.append("issue (or source)")
        if missing:
            raise ValueError(f"{path}: an entry lacks {missing}: {e}")
        if not str(e.get("issue") or e.get("source")).startswith("https://"):
            raise ValueError(f"{path}: issue/source must be an https:// link: {e}")
    return {e["test"]: e for e in entries}


def upstream(entry: dict) -> str:
    """Where a listed failure stands upstream, as one sentence."""
    if entry.get("issue"):
        return f"Upstream: {entry['issue']}."
    return f"Not reported upstream yet; the cause: {entry['source']}."


# --- the report ------------------------------------------------------------------------------


def operation_of(test: str) -> str:
    file, name = test.split("::")
    if file in GROUPED:
        return GROUPED[file]
    ops = FILES.get(file, ("*",))
    if ops[0] != "*" and len(ops) == 1:
        return ops[0]
    named = [op for op in OPERATIONS if op in name or op.replace("box_", "") in name]
    if "conversion" in name or "corner_to_center" in name:
        return "box_corner_to_center"
    return named[0] if named else file.removeprefix("test_").removesuffix(".py")


def classify(impls: list[Implementation], outcomes: list[Outcome]) -> tuple[list[dict], list[str]]:
    """One record per (implementation, test, run), and the problems that fail the run."""
    by_entry: dict[str, dict[str, Outcome]] = {}
    for o in outcomes:
        by_entry.setdefault(o.entry, {})[o.test] = o
    records, problems = [], []
    for impl in impls:
        listed = expected_failures(impl.name)
        declared = by_entry.get(impl.name, {})
        contract_runs = by_entry.get(f"{impl.name}@contract", {})
        differs = impl.conventions.differences(impl.conventions.contract_with_format())
        for test in sorted(set(declared) | set(contract_runs)):
            for run, o in (("declared", declared.get(test)), ("contract", contract_runs.get(test))):
                if o is None:
                    continue
                record = {
                    "implementation": impl.name,
                    "library": impl.library,
                    "version": impl.version,
                    "run": run,
                    "conventions": dict(
                        (
                            impl.conventions
                            if run == "declared"
                            else impl.conventions.contract_with_format()
                        ).items()
                    ),
                    "operation": operation_of(test),
                    "property": test,
                    "outcome": o.outcome,
                }
                if o.outcome in ("fail", "error"):
                    record.update(failure_parts(o.text))
                if run == "declared":
                    if o.outcome in ("fail", "error") and test in listed:
                        record["outcome"] = "expected failure"
                        record["upstream"] = upstream(listed[test])
                        record["finding"] = listed[test]["finding"]
                    elif o.outcome == "fail":
                        record["outcome"] = "finding"
                        problems.append(
                            f"{impl.name}: {test} fails and is not in "
                            f"expected/{impl.name}.toml: {record['message']}"
                        )
                    elif o.outcome == "error":
                        problems.append(f"{impl.name}: {test} errored: {o.text[:300]}")
                    elif test in listed and o.outcome == "pass":
                        record["listed_but_passing"] = upstream(listed[test])
                else:
                    base = declared.get(test)
                    if o.outcome == "fail" and base is not None and base.outcome == "pass":
                        why = [k for k in o.read if k in differs]
                        record["outcome"] = "departure"
                        record["why"] = {k: getattr(impl.conventions, k) for k in why}
                        if not why:
                            problems.append(
                                f"{impl.name}: {test} fails under the contract's, passes "
                                f"under its own, and read none that differ ({o.read})"
                            )
                    elif o.outcome == "fail":
                        record["outcome"] = "fails under both"
                    elif o.outcome == "error":
                        problems.append(f"{impl.name}@contract: {test} errored: {o.text[:300]}")
                records.append(record)
        for test, entry in listed.items():
            if test in declared and declared[test].outcome == "pass":
                print(
                    f"conformance: {impl.name}: {test} is listed as a known failure "
                    f"({upstream(entry)}) but passes: remove it from expected/{impl.name}.toml"
                )
    return records, problems


def _cell(records: list[dict]) -> str:
    """One matrix cell: the outcome under the declared conventions, and the conventions a
    departure from the contract comes from."""
    declared = next((r for r in records if r["run"] == "declared"), None)
    contract = next((r for r in records if r["run"] == "contract"), None)
    if declared is None:
        return ""
    cell = SYMBOLS.get(declared["outcome"], declared["outcome"])
    if declared["outcome"] == "fail":
        cell = SYMBOLS["finding"]
    if contract is not None and contract["outcome"] == "departure":
        cell += " ≠ " + ", ".join(f"{k}={v}" for k, v in contract["why"].items())
    return cell


def _anchor(record: dict) -> str:
    text = f"{record['implementation']}-{record['property']}".lower()
    return re.sub(r"[^a-z0-9_-]+", "-", text).strip("-")


def markdown(impls: list[Implementation], records: list[dict], date: str, profile: str) -> str:
    names = [i.name for i in impls]
    cells: dict[tuple[str, str], list[dict]] = {}
    for r in records:
        cells.setdefault((r["property"], r["implementation"]), []).append(r)
    tests = sorted(
        {r["property"] for r in records},
        key=lambda t: (
            OPERATIONS.index(operation_of(t)) if operation_of(t) in OPERATIONS else 99,
            t,
        ),
    )
    adapters = [i.name for i in impls if i.adapter]
    shown = [
        t
        for t in tests
        if not adapters
        or any(any(r["outcome"] != "skip" for r in cells.get((t, a), [])) for a in adapters)
    ]
    lines = [
        "# Conformance of real libraries",
        "",
        f"Generated by `python -m properties conformance` on {date} (Hypothesis profile "
        f"`{profile}`). Each implementation is judged by the conventions it declares "
        "(CONTRACT.md §7), and each library whose conventions differ once more by the "
        "contract's. Legend: ✓ passes; ✗ a finding not yet listed; ⚠ a listed finding "
        "(`properties/adapters/expected/`, with its upstream issue or cause); · not provided; "
        "≠ `key=value`: passes under its own conventions, departs from the contract because of "
        "that convention.",
        "",
        "## Libraries",
        "",
        "| implementation | library | version | declared conventions |",
        "|---|---|---|---|",
    ]
    for i in impls:
        presets = i.conventions.preset_names()
        named = f" (preset {' = '.join(presets)})" if presets else ""
        lines.append(
            f"| `{i.name}` | {i.library} | {i.version} | `{i.conventions.describe()}`{named} |"
        )
    lines += [
        "",
        "## By operation",
        "",
        "| operation | " + " | ".join(names) + " |",
        "|---" * (len(names) + 1) + "|",
    ]
    for op in OPERATIONS:
        row = [op]
        for name in names:
            rs = [
                r
                for r in records
                if r["implementation"] == name and r["operation"] == op and r["run"] == "declared"
            ]
            if not rs or all(r["outcome"] == "skip" for r in rs):
                row.append("·")
                continue
            count = Counter(
                SYMBOLS.get(r["outcome"], r["outcome"]) for r in rs if r["outcome"] != "skip"
            )
            departs = sorted(
                {
                    f"{k}={v}"
                    for r in records
                    if r["implementation"] == name
                    and r["operation"] == op
                    and r["run"] == "contract"
                    and r["outcome"] == "departure"
                    for k, v in r["why"].items()
                }
            )
            text = " ".join(f"{n} {s}" for s, n in sorted(count.items()))
            row.append(text + (f" ≠ {', '.join(departs)}" if departs else ""))
        lines.append("| " + " | ".join(row) + " |")
    lines += [
        "",
        "## By property",
        "",
        f"The properties of the operations at least one library provides ({len(shown)} of "
        f"{len(tests)}; `reference` and `jaximpl` pass the others too, see above).",
        "",
        "| property | " + " | ".join(names) + " |",
        "|---" * (len(names) + 1) + "|",
    ]
    for t in shown:
        lines.append(f"| `{t}` | " + " | ".join(_cell(cells.get((t, n), [])) for n in names) + " |")
    failures = [
        r
        for r in records
        if r["run"] == "declared" and r["outcome"] in ("finding", "expected failure", "error")
    ]
    lines += ["", "## Findings", ""]
    if not failures:
        lines.append("None: every implementation passes every property under its own conventions.")
    for r in failures:
        lines += [
            f'<a id="{_anchor(r)}"></a>',
            f"### `{r['implementation']}`: `{r['property']}`",
            "",
        ]
        sentence = r.get("finding") or r.get("message", "")
        lines.append(
            sentence
            + " "
            + r.get("upstream", "Not listed in the expected failures: not reported upstream yet.")
        )
        lines.append("")
        if r.get("message") and r.get("finding"):
            lines += [f"The suite: {r['message']}", ""]
        if r.get("counterexample"):
            lines += ["Shrunk counterexample:", "", "```", r["counterexample"], "```", ""]
        if r.get("repro"):
            lines += [
                f"Reproduce with {r['library']} itself:",
                "",
                "```python",
                r["repro"],
                "```",
                "",
            ]
        if r.get("drawing"):
            lines += [f"![drawing]({r['drawing']})", ""]
    departures = [r for r in records if r["run"] == "contract" and r["outcome"] == "departure"]
    lines += ["## Departures from the contract", ""]
    for name in names:
        mine = [r for r in departures if r["implementation"] == name]
        if mine:
            keys = sorted({f"{k}={v}" for r in mine for k, v in r["why"].items()})
            lines.append(
                f"- `{name}` ({', '.join(keys)}): " + ", ".join(f"`{r['property']}`" for r in mine)
            )
    return "\n".join(lines) + "\n"


def readme_section(
    impls: list[Implementation], records: list[dict], date: str, profile: str
) -> str:
    """The README's part: the matrix by operation, versions and date, the findings."""
    adapters = [i for i in impls if i.adapter]
    head = [
        "## Conformance of real libraries",
        "",
        "Real libraries under the suite through the adapters of `properties/adapters/` ("
        + ", ".join(f"`--impl={i.name}`" for i in adapters)
        + '; `pip install -e ".[conformance]"`), each judged by the conventions it declares '
        "(CONTRACT.md §7) and once more by the contract's. From `python -m properties "
        f"conformance` on {date}: "
        + ", ".join(f"{i.library} {i.version}" for i in adapters)
        + ". Every property and repro: [docs/conformance.md](docs/conformance.md).",
        "",
    ]
    md = markdown(impls, records, date, profile)
    table = md.split("## By operation\n\n", 1)[1].split("\n\n", 1)[0].splitlines()
    # Only the operations some implementation here provides.
    table = "\n".join(row for row in table if set(row.split("|")[2:-1]) != {" · "})
    findings = [
        r
        for r in records
        if r["run"] == "declared" and r["outcome"] in ("finding", "expected failure")
    ]
    lines = head + [
        table,
        "",
        "✓ passes, ✗ a finding not yet listed, ⚠ a listed finding "
        "(`properties/adapters/expected/`), · not provided; ≠ `key=value`: departs "
        "from the contract by that convention. Findings (real disagreements with the library's "
        "own rules):",
        "",
    ]
    if not findings:
        lines.append("- none")
    grouped: dict[tuple[str, str], list[dict]] = {}  # one line per finding, not per property
    for r in findings:
        grouped.setdefault((r["implementation"], r.get("finding") or r["message"]), []).append(r)
    for (name, sentence), rs in grouped.items():
        shown = next((r for r in rs if r.get("repro")), rs[0])  # a repro that calls the library
        link = f"docs/conformance.md#{_anchor(shown)}"
        fails = f"{len(rs)} properties" if len(rs) > 1 else f"`{rs[0]['property']}`"
        lines.append(f"- `{name}` ({fails}): {sentence} ([repro]({link}))")
    return "\n".join(lines)


def write_readme(path: Path, section: str) -> None:
    text = path.read_text()
    if README_BEGIN not in text or README_END not in text:
        raise SystemExit(f"{path}: no {README_BEGIN} ... {README_END} markers")
    before, rest = text.split(README_BEGIN, 1)
    _, after = rest.split(README_END, 1)
    path.write_text(f"{before}{README_BEGIN}\n{section}\n{README_END}{after}")


# --- the command -----------------------------------------------------------------------------


def run(entries: dict[str, dict], out_dir: Path, workers: str, profile: str) -> Path:
    """The plan in one pytest process; its JUnit XML."""
    tmp = Path(tempfile.mkdtemp(prefix="conformance-"))
    (tmp / "plan.json").write_text(json.dumps(entries, indent=1))
    xml = tmp / "junit.xml"
    cmd = [
        sys.executable, "-m", "pytest", str(SUITE), f"--impl-plan={tmp / 'plan.json'}",
        f"--hypothesis-profile={profile}", f"--anchor-reports={out_dir / 'conformance'}",
        "-p", "no:cacheprovider", "-q", "--no-header", f"--junitxml={xml}", "-n", workers,
    ]  # fmt: skip
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    env["HYPOTHESIS_PROFILE"] = profile
    proc = subprocess.run(cmd, cwd=tmp, env=env, capture_output=True, text=True)
    if proc.returncode not in (0, 1) or not xml.exists():
        raise SystemExit(
            f"conformance: the suite did not run (exit {proc.returncode}):\n"
            f"{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
        )
    print(proc.stdout.strip().splitlines()[-1] if proc.stdout.strip() else "")
    print(f"conformance: the run's JUnit XML (for --reuse plan=...): {xml}")
    return xml


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m properties conformance", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--out", default=str(ROOT / "docs"), help="folder for conformance.json/.md")
    parser.add_argument(
        "--readme", default=str(ROOT / "README.md"), help="README to update ('' for none)"
    )
    parser.add_argument(
        "--reuse",
        action="append",
        default=[],
        metavar="NAME=XML",
        help="take NAME's results from the JUnit XML of a run made already (plan=XML: the "
        "entries of a plan run of this command)",
    )
    parser.add_argument("--only", default=None, help="comma-separated implementations")
    parser.add_argument("-n", dest="workers", default="2", help="pytest-xdist workers (default 2)")
    parser.add_argument(
        "--known-profile",
        default="conformance-known",
        help="Hypothesis profile for the listed failures and the runs under the contract's "
        "conventions (default conformance-known: no shrinking; conformance to shrink them)",
    )
    parser.add_argument(
        "--profile",
        default="conformance",
        help="Hypothesis profile (default conformance: ci's settings, fewer examples)",
    )
    args = parser.parse_args(argv)
    out_dir = Path(args.out).resolve()
    out_dir.mkdir(parents=True, exist_ok=True)
    impls = implementations(args.only.split(",") if args.only else None)
    outcomes: list[Outcome] = []
    for item in args.reuse:
        name, _, xml = item.partition("=")
        # "plan": a plan run of this command (its entries named in the XML); else one
        # implementation's plain run.
        outcomes += read_junit(Path(xml), entry=None if name == "plan" else name)
    reused = {o.entry for o in outcomes}
    entries = plan(impls, reused)
    if entries:  # what may hold a new finding: shrunk
        outcomes += read_junit(run(entries, out_dir, args.workers, args.profile))
    # What is known already, in one run: the listed failures, and the departures from the
    # contract (both without shrinking under the default profiles).
    entries = plan(impls, reused, known=True) | contract_plan(impls, outcomes, reused)
    if entries:
        outcomes += read_junit(run(entries, out_dir, args.workers, args.known_profile))
    records, problems = classify(impls, outcomes)
    for r in records:  # drawings next to the report (a reused run's copied), paths relative
        drawing = Path(r.get("drawing") or "")
        if r["run"] != "declared":  # the findings' drawings only (departures: see the repro)
            r.pop("drawing", None)
            continue
        if r.get("drawing") and drawing.is_file() and out_dir not in drawing.parents:
            (out_dir / "conformance").mkdir(exist_ok=True)
            drawing = Path(shutil.copy(drawing, out_dir / "conformance" / drawing.name))
        if r.get("drawing") and out_dir in drawing.parents:
            r["drawing"] = os.path.relpath(drawing, out_dir)
    date = dt.date.today().isoformat()
    report = {
        "date": date,
        "profile": args.profile,
        "implementations": [
            {
                "name": i.name,
                "library": i.library,
                "version": i.version,
                "conventions": dict(i.conventions.items()),
                "provides": list(i.provides),
            }
            for i in impls
        ],
        "results": records,
        "problems": problems,
    }
    (out_dir / "conformance.json").write_text(json.dumps(report, indent=1) + "\n")
    (out_dir / "conformance.md").write_text(markdown(impls, records, date, args.profile))
    if args.readme:
        write_readme(Path(args.readme), readme_section(impls, records, date, args.profile))
    counts = Counter((r["run"], r["outcome"]) for r in records)
    print(
        "conformance: "
        + ", ".join(f"{run} {outcome}: {n}" for (run, outcome), n in sorted(counts.items()))
    )
    for p in problems:
        print(f"conformance: FAIL: {p}")
    return 1 if problems else 0
