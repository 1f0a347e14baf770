"""The speed-regression gate: every ratio named in ``floors.toml`` must reach its floor.

Only ratios (contender median / ``jaximpl`` median, same run) are gated, never
absolute times: CI machines differ. A floor whose ratio could not be measured (a
contender skipped or failing) counts as broken. A floor whose ratio is below it is
measured again (``--retries``, default once) and keeps the better of its ratios,
each from one attempt (jaximpl and the contender measured together).
"""

from __future__ import annotations

import json
import tomllib
from dataclasses import dataclass, replace
from pathlib import Path

from . import workloads as wl
from .report import Run, fmt_ratio, fmt_time

FLOORS = Path(__file__).with_name("floors.toml")


@dataclass
class Floor:
    workload: str
    contender: str
    min_ratio: float
    why: str


def load_floors(path: str | Path = FLOORS) -> list[Floor]:
    with open(path, "rb") as f:
        data = tomllib.load(f)
    return [
        Floor(fl["workload"], fl["contender"], float(fl["min_ratio"]), fl.get("why", ""))
        for fl in data.get("floor", [])
    ]


def write_floors(floors: list[Floor], path: str | Path) -> None:
    """Write ``floors`` as a floors TOML file (the gate's retry of the broken ones)."""
    out = []
    for fl in floors:
        out += [
            "[[floor]]",
            f"workload = {json.dumps(fl.workload)}",
            f"contender = {json.dumps(fl.contender)}",
            f"min_ratio = {fl.min_ratio!r}",
            f"why = {json.dumps(fl.why)}",
            "",
        ]
    Path(path).write_text("\n".join(out))


def is_low(run: Run, fl: Floor) -> bool:
    """Measured, and below its floor (a missing measurement is not "low": it is not retried)."""
    ratio = run.ratio(fl.workload, fl.contender)
    return ratio is not None and ratio < fl.min_ratio


def best_of(run: Run, retry: Run, floors: list[Floor]) -> Run:
    """``run`` where, for each floor, the retry's (jaximpl, contender) pair replaces the first
    measurement if its ratio is higher. Both records of a pair come from the same attempt."""
    records = list(run.records)
    for fl in floors:
        first, again = run.ratio(fl.workload, fl.contender), retry.ratio(fl.workload, fl.contender)
        if again is None or (first is not None and again <= first):
            continue
        pair = {wl.JAXIMPL, fl.contender}
        records = [r for r in records if not (r.workload == fl.workload and r.contender in pair)]
        records += [r for r in retry.records if r.workload == fl.workload and r.contender in pair]
    return replace(run, records=records)


def check(run: Run, floors: list[Floor]) -> tuple[list[str], list[str]]:
    """(report lines, broken-floor lines)."""
    lines = [
        "| workload | vs | ratio | floor | jaximpl | contender | status |",
        "|---|---|---|---|---|---|---|",
    ]
    broken = []
    for fl in floors:
        base, other = run.get(fl.workload, "jaximpl"), run.get(fl.workload, fl.contender)
        ratio = run.ratio(fl.workload, fl.contender)
        if ratio is None:
            missing = [
                f"{c}: {run.skip_reason(fl.workload, c) or 'not measured'}"
                for c, r in (("jaximpl", base), (fl.contender, other))
                if r is None
            ]
            status = "BROKEN (no measurement)"
            broken.append(
                f"{fl.workload} vs {fl.contender}: no ratio ({'; '.join(missing)}); "
                f"floor {fl.min_ratio:g}x"
            )
        elif ratio < fl.min_ratio:
            status = "BROKEN"
            broken.append(
                f"{fl.workload} vs {fl.contender}: ratio {ratio:.3g}x < floor {fl.min_ratio:g}x "
                f"(jaximpl {fmt_time(base.median)}, {fl.contender} {fmt_time(other.median)})"
            )
        else:
            status = "ok"
        lines.append(
            f"| `{fl.workload}` | {fl.contender} | {fmt_ratio(ratio)} | {fl.min_ratio:g}x | "
            f"{fmt_time(base.median if base else None)} | "
            f"{fmt_time(other.median if other else None)} | {status} |"
        )
    return lines, broken
