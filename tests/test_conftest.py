"""The repository's conftest.py: the order of the test files and the choice of scheduler."""

from __future__ import annotations

import conftest

TABLE = """
| file | tests | generated examples | explicit examples | JAX compiles | compile seconds | cache hits | seconds | CPU seconds |
|---|---:|---:|---:|---:|---:|---:|---:|---:|
| `properties/test_a.py` | 10 | 1000 | 19 | 14 | 2.2 | 12 | 16.3 | 14.5 |
| `tests/test_b.py` | 48 | 0 | 0 | 145 | 114.5 | 14 | 146.5 | 150.0 |
| **all** | 58 | 1000 | 19 | 159 | 116.7 | 26 | 162.8 | 164.5 |
| `tests/test_b.py::test_one` | - | 0 | 2 | 12.54 | 0 | 14.20 | 17.65 |
"""  # noqa: E501


def test_file_costs_are_the_last_column_of_the_per_file_table():
    assert conftest.file_costs(TABLE) == {"properties/test_a.py": 14.5, "tests/test_b.py": 150.0}
    # The project's own file parses: the order of a run comes from it.
    costs = conftest.file_costs()
    assert len(costs) >= 20 and all(c >= 0 for c in costs.values()), costs


def test_whole_files_while_no_file_costs_more_than_a_workers_share():
    costs = {"big": 150.0} | {f"small{i}": 50.0 for i in range(9)}  # 600 in all
    assert conftest.whole_files(costs, 2) and conftest.whole_files(costs, 4)
    assert not conftest.whole_files(costs, 5)  # 150 > 600 / 5: split it across workers
    assert not conftest.whole_files({}, 2) and not conftest.whole_files(costs, 0)
