"""``--anchor-stats=FILE``: how many examples each property ran and how many JAX compiles it cost.

For every test: the Hypothesis examples that passed in the generate phase (and the explicit
``@example`` cases, in the "explicit" phase), the number of XLA backend compiles that happened
while it ran (counted with ``jax.monitoring``; a jitted implementation compiles once per new
shape and dtype, so this is the number the strategies' size buckets bound), the seconds they
took, the programs loaded from the run's compilation cache instead (``--jax-cache``: compiled
by another process of the run), the test's wall time and its CPU time: the worker's (all its
threads: XLA compiles on several) plus that of the subprocesses it ran and waited for (the
self-test's, the sharding test's). On a machine the run keeps busy, the CPU time is the cost
of a test; its wall time also holds the time it waited for a core.
Written as a Markdown table to FILE; under ``pytest -n`` each worker writes a part and the
controller merges them.
"""

from __future__ import annotations

import json
import re
import resource
import time
from pathlib import Path

import pytest

_COMPILE_EVENT = "backend_compile"
_CACHE_HIT_EVENT = "/jax/compilation_cache/cache_hits"


class Stats:
    """The pytest plugin object, registered by the suite's plugin when ``--anchor-stats`` is set."""

    def __init__(self, path: Path, worker: str | None):
        self.path = path
        self.worker = worker
        self.rows: dict[str, dict] = {}
        self.compiles = 0
        self.compile_seconds = 0.0
        self.cache_hits = 0
        self._listening = False

    def _listen(self) -> None:
        if self._listening:
            return
        self._listening = True
        try:
            import jax.monitoring
        except ImportError:  # pragma: no cover - jax is a dependency
            return

        def on_duration(event: str, duration: float, **kwargs) -> None:
            if _COMPILE_EVENT in event:
                self.compiles += 1
                self.compile_seconds += duration

        def on_event(event: str, **kwargs) -> None:
            if event == _CACHE_HIT_EVENT:
                self.cache_hits += 1

        jax.monitoring.register_event_duration_secs_listener(on_duration)
        jax.monitoring.register_event_listener(on_event)

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_call(self, item: pytest.Item):
        self._listen()
        before, spent, hits = self.compiles, self.compile_seconds, self.cache_hits
        start, cpu = time.perf_counter(), _cpu_seconds()
        yield
        self.rows[item.nodeid] = {
            "compiles": self.compiles - before,
            "compile_seconds": self.compile_seconds - spent,
            "cache_hits": self.cache_hits - hits,
            "seconds": time.perf_counter() - start,
            "cpu_seconds": _cpu_seconds() - cpu,
        }

    def pytest_runtest_makereport(self, item: pytest.Item, call) -> None:
        if call.when != "call" or item.nodeid not in self.rows:
            return
        text = getattr(item, "hypothesis_statistics", "") or ""
        examples = {
            phase: int(passing)
            for phase, passing in re.findall(
                r"during (\w+) phase .*?\n.*?\n\s*- (\d+) passing", text, flags=re.S
            )
        }
        self.rows[item.nodeid]["examples"] = examples.get("generate", 0)
        inner = getattr(getattr(item.obj, "hypothesis", None), "inner_test", None)
        explicit = getattr(inner, "hypothesis_explicit_examples", None)
        if explicit is None:
            explicit = getattr(item.obj, "hypothesis_explicit_examples", [])
        self.rows[item.nodeid]["explicit"] = len(explicit)
        self.rows[item.nodeid]["hypothesis"] = bool(text)

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        if self.worker is not None:
            part = self.path.with_name(f"{self.path.name}.{self.worker}.json")
            part.write_text(json.dumps(self.rows))
            return
        rows = dict(self.rows)
        for part in sorted(self.path.parent.glob(f"{self.path.name}.*.json")):
            rows.update(json.loads(part.read_text()))
            part.unlink()
        self.path.write_text(render(rows))


def _cpu_seconds() -> float:
    """User and system CPU seconds of this process and of its waited-for children."""
    return sum(
        usage.ru_utime + usage.ru_stime
        for usage in (
            resource.getrusage(resource.RUSAGE_SELF),
            resource.getrusage(resource.RUSAGE_CHILDREN),
        )
    )


def _module(nodeid: str) -> str:
    """``properties/test_nms.py::test_x[a]`` -> ``properties/test_nms.py``."""
    return nodeid.split("::", 1)[0]


def render(rows: dict[str, dict]) -> str:
    """Markdown: one row per test file, then one row per test, each with totals."""
    by_module: dict[str, list[dict]] = {}
    for nodeid, r in rows.items():
        by_module.setdefault(_module(nodeid), []).append(r)
    lines = [
        "| file | tests | generated examples | explicit examples | JAX compiles | compile seconds "
        "| cache hits | seconds | CPU seconds |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for module in sorted(by_module):
        rs = by_module[module]
        lines.append(
            f"| `{module}` | {len(rs)} | {sum(r.get('examples', 0) for r in rs)} "
            f"| {sum(r.get('explicit', 0) for r in rs)} | {sum(r['compiles'] for r in rs)} "
            f"| {sum(r.get('compile_seconds', 0) for r in rs):.1f} "
            f"| {sum(r.get('cache_hits', 0) for r in rs)} | {sum(r['seconds'] for r in rs):.1f} "
            f"| {sum(r.get('cpu_seconds', 0) for r in rs):.1f} |"
        )
    total = sum(r["seconds"] for r in rows.values())
    compiles = sum(r["compiles"] for r in rows.values())
    compile_seconds = sum(r.get("compile_seconds", 0) for r in rows.values())
    hits = sum(r.get("cache_hits", 0) for r in rows.values())
    examples = sum(r.get("examples", 0) for r in rows.values())
    explicit = sum(r.get("explicit", 0) for r in rows.values())
    cpu = sum(r.get("cpu_seconds", 0) for r in rows.values())
    lines.append(
        f"| **all** | {len(rows)} | {examples} | {explicit} | {compiles} "
        f"| {compile_seconds:.1f} | {hits} | {total:.1f} | {cpu:.1f} |"
    )
    lines += [
        "",
        "| test | examples | explicit | compiles | compile seconds | cache hits | seconds "
        "| CPU seconds |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for nodeid in sorted(rows):
        r = rows[nodeid]
        examples = r.get("examples", 0) if r.get("hypothesis") else "-"
        lines.append(
            f"| `{nodeid}` | {examples} | {r.get('explicit', 0)} | {r['compiles']} "
            f"| {r.get('compile_seconds', 0):.2f} | {r.get('cache_hits', 0)} | {r['seconds']:.2f} "
            f"| {r.get('cpu_seconds', 0):.2f} |"
        )
    return "\n".join(lines) + "\n"


def configure(config: pytest.Config) -> None:
    """Register the stats plugin if ``--anchor-stats`` is set."""
    path = config.getoption("anchor_stats", None)
    if not path:
        return
    worker = getattr(config, "workerinput", {}).get("workerid")
    config.pluginmanager.register(Stats(Path(path).resolve(), worker), "anchor-stats")
