"""The conformance table's report (``python -m properties conformance``,
:mod:`properties.conformance`): each outcome classified (pass, finding, expected failure,
departure), docs/conformance.md's matrix and findings, and the README's section."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

from .conformance import (
    FILES,
    GROUPED,
    OPERATIONS,
    README_BEGIN,
    README_END,
    SYMBOLS,
    Implementation,
    expected_failures,
    upstream,
)
from .junit import Outcome, failure_parts


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
