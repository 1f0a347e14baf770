"""Repository-level pytest configuration.

The suite's options (``--impl``), fixtures (``impl``) and Hypothesis profiles
come from the plugin ``properties.plugin``, installed as a ``pytest11`` entry
point, so they work the same from this checkout and from
``pytest --pyargs properties`` anywhere. Here we only make sure the profiles are
registered even if plugin autoloading is disabled (PYTEST_DISABLE_PLUGIN_AUTOLOAD),
and spread this repository's test files over the workers of ``pytest -n``.

The order: the costliest files first, by their CPU seconds in the per-file table of
docs/suite-stats.md (written by ``python -m properties stats``; a file not in it counts as
costliest). Under ``pytest -n`` on the whole suite (no paths given), when no file costs more
than a worker's share, each worker runs whole files, taking the next one in that order as it
finishes its own (largest first: the run ends on small files). xdist's default sends a worker
runs of consecutive tests, up to a quarter of those left: near the end one worker could go on
with a run of heavy tests while the other had none left (measured: the history note of
commit 00389d4 in docs/suite-stats.md).
"""

from __future__ import annotations

import math
import re
from pathlib import Path

import pytest

from properties.profiles import register_profiles

register_profiles()

STATS = Path(__file__).resolve().parent / "docs" / "suite-stats.md"
# A row of the per-file table: | `file.py` | tests | ... | CPU seconds |
_FILE_ROW = re.compile(r"^\| `([^`:]+\.py)` \|.*\| ([0-9.]+) \|$", re.M)


def file_costs(text: str | None = None) -> dict[str, float]:
    """``{test file: CPU seconds}`` from the per-file table of the statistics file (``{}`` if
    it cannot be read)."""
    if text is None:
        try:
            text = STATS.read_text()
        except OSError:
            return {}
    return {path: float(cpu) for path, cpu in _FILE_ROW.findall(text)}


def _file(item: pytest.Item) -> str:
    return item.nodeid.split("::", 1)[0]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    costs = file_costs()
    # Stable: the tests of a file keep their order.
    items.sort(key=lambda item: -costs.get(_file(item), math.inf))


def whole_files(costs: dict[str, float], workers: object) -> bool:
    """Whether ``workers`` workers should run whole files: no file costs more than a share."""
    if not costs or not isinstance(workers, int) or workers < 1:
        return False
    return max(costs.values()) * workers <= sum(costs.values())


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log):
    """``pytest -n`` on the whole suite, without ``--dist``: whole files (see the module doc)."""
    if config.getoption("dist") != "load" or config.args_source != config.ArgsSource.TESTPATHS:
        return None  # a scheduler the user chose, or a part of the suite: xdist's default
    if not whole_files(file_costs(), len(config.getoption("tx") or [])):
        return None
    from xdist.scheduler import LoadFileScheduling

    config.option.loadscopereorder = False  # in the order above, not the most tests first
    return LoadFileScheduling(config, log)
