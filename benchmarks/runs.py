"""A pytest-benchmark JSON run as records, with ratios against ``jaximpl`` (see
:mod:`benchmarks.report`), and the time and ratio formats of the report and the gate."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from . import workloads as wl


@dataclass
class Record:
    workload: str
    op: str
    name: str
    size: int
    series: str
    contender: str
    median: float
    iqr: float
    rounds: int
    extra: dict


@dataclass
class Run:
    records: list[Record]
    skipped: list[dict]
    meta: dict
    datetime: str

    def get(self, workload: str, contender: str) -> Record | None:
        for r in self.records:
            if r.workload == workload and r.contender == contender:
                return r
        return None

    def ratio(self, workload: str, contender: str) -> float | None:
        base, other = self.get(workload, wl.JAXIMPL), self.get(workload, contender)
        if base is None or other is None or base.median <= 0:
            return None
        return other.median / base.median

    def skip_reason(self, workload: str, contender: str) -> str | None:
        for s in self.skipped:
            if f"[{workload}-{contender}]" in s["nodeid"]:
                return s["reason"].split(": ", 1)[-1]
        return None


def load(path: str | Path) -> Run:
    data = json.loads(Path(path).read_text())
    records = []
    for b in data.get("benchmarks", []):
        e = b.get("extra_info", {})
        if "workload" not in e:
            continue
        records.append(
            Record(
                workload=e["workload"],
                op=e["op"],
                name=e["name"],
                size=int(e["size"]),
                series=e.get("series", ""),
                contender=e["contender"],
                median=b["stats"]["median"],
                iqr=b["stats"]["iqr"],
                rounds=b["stats"]["rounds"],
                extra=e,
            )
        )
    extra = data.get("anchor_bench", {})
    return Run(records, extra.get("skipped", []), extra, data.get("datetime", "?"))


def fmt_time(s: float | None) -> str:
    if s is None:
        return "-"
    if s < 1e-3:
        return f"{s * 1e6:.0f} µs"
    if s < 1:
        return f"{s * 1e3:.3g} ms"
    return f"{s:.3g} s"


def fmt_ratio(r: float | None) -> str:
    if r is None:
        return "-"
    return f"{r:.3g}x" if r < 100 else f"{r:.0f}x"
