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
import tomllib
from collections import Counter
from pathlib import Path
from typing import Any, NamedTuple

from . import conventions as conv
from .junit import Outcome, failure_parts, read_junit  # noqa: F401  (re-exported)

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


def portable(text: str) -> str:
    """``text`` without the paths of this machine: files of the checkout by their path in the
    repository, and installed packages under ``<site-packages>/`` (the reprs and tracebacks of
    the failures name both), so that the report points at nothing outside the repository."""
    text = text.replace(f"{ROOT}{os.sep}", "")
    return re.sub(r"(?:/[^/\s'\"]+)+/site-packages/", "<site-packages>/", text)


def main(argv: list[str]) -> int:
    from .conformance_report import classify, markdown, readme_section, write_readme

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
    (out_dir / "conformance.json").write_text(portable(json.dumps(report, indent=1)) + "\n")
    (out_dir / "conformance.md").write_text(portable(markdown(impls, records, date, args.profile)))
    if args.readme:
        section = portable(readme_section(impls, records, date, args.profile))
        write_readme(Path(args.readme), section)
    counts = Counter((r["run"], r["outcome"]) for r in records)
    print(
        "conformance: "
        + ", ".join(f"{run} {outcome}: {n}" for (run, outcome), n in sorted(counts.items()))
    )
    for p in problems:
        print(f"conformance: FAIL: {p}")
    return 1 if problems else 0


# The report builds on this module's plan and expected failures, so it is imported from here on
# first use (``from properties.conformance import markdown`` keeps working).
_REPORT = ("operation_of", "classify", "markdown", "readme_section", "write_readme")


def __getattr__(name: str) -> Any:
    if name in _REPORT:
        from . import conformance_report

        return getattr(conformance_report, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
