"""The strategies package's private cache of strategies (``properties.strategies._once``).

The strategy modules draw from strategies built once per set of arguments instead of building
a new one inside every draw. That must not change what is drawn.
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from properties import strategies as S
from properties.strategies._once import once, permutations, sampled


def test_one_object_per_arguments():
    assert sampled("a", "b") is sampled("a", "b")
    assert sampled("a", "b") is not sampled("b", "a")
    assert permutations(5) is permutations(5)
    assert once(st.integers, 0, 3) is once(st.integers, 0, 3)
    assert once(S.boxes, 3, lattice=False) is once(S.boxes, 3, lattice=False)
    assert once(S.boxes, 3, lattice=False) is not once(S.boxes, 3, lattice=True)
    assert S.sizes(8) is S.sizes(8)  # drawn inside other strategies: built once


def _drawn(strategy: st.SearchStrategy):
    out = []

    @settings(max_examples=1, database=None)
    @given(strategy)
    def draw(value):
        out.append(value)

    draw()
    return out[0]


def test_equal_arguments_of_other_types_are_other_options():
    """0 == 0.0 == False as cache keys unless the cache is typed: a ``sampled(0.0)`` that
    returned the earlier ``sampled(0)`` would draw an int where a float was asked for."""
    for value in (0, 0.0, False):  # in this order: each would hit the one before
        assert type(_drawn(sampled(value))) is type(value), value
        assert type(_drawn(once(st.just, value))) is type(value), value
