"""Repository-level pytest configuration.

The suite's options (``--impl``), fixtures (``impl``) and Hypothesis profiles
come from the plugin ``properties.plugin``, installed as a ``pytest11`` entry
point, so they work the same from this checkout and from
``pytest --pyargs properties`` anywhere. Here we only make sure the profiles are
registered even if plugin autoloading is disabled (PYTEST_DISABLE_PLUGIN_AUTOLOAD),
and run this repository's longest tests first.
"""

from __future__ import annotations

import pytest

from properties.profiles import register_profiles

register_profiles()

# The tests that take longest (10 to 40 s: a subprocess, or seconds of compiles; see
# docs/suite-stats.md), by node id prefix. They run first: under `pytest -n` the workers
# then end on short tests, instead of one finishing a long test while the other waits.
LONG_FIRST = (
    "properties/test_sharding.py",
    "tests/test_selftest.py::test_suite_catches",
    "tests/test_readme.py",
    "tests/test_jaximpl_batched_nms.py::test_more_than_2_to_the_15_boxes",
    "tests/test_jaximpl_batched_nms.py::test_default_plan_sends_a_large_class_to_a_long_row",
    "tests/test_jaximpl.py::test_assign_indices_beyond_2_pow_31",
    "tests/test_plugin.py::test_jax_cache",
    "properties/test_batched_nms.py::test_batched_nms_padded_is_prefix_of_batched_nms",
    "tests/test_adapters.py::test_an_adapter_that_flips",
    "properties/test_jittable.py::test_nms_padded_is_prefix_of_nms",
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    long = [item for item in items if item.nodeid.startswith(LONG_FIRST)]
    if long:
        items[:] = long + [item for item in items if not item.nodeid.startswith(LONG_FIRST)]
