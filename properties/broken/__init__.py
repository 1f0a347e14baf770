"""Deliberately broken implementations of the anchor-box contract.

Each module here is a complete implementation with exactly one plausible bug,
the kind real code has shipped. Its docstring names the bug and where it comes
from, and its ``CAUGHT_BY`` lists the property tests
(``"test_file.py::test_name"``) that must fail for it.

A one-token bug is a checked edit of the reference's source
(:mod:`properties.broken._mutate`): ``BUG = Edit("nms.py", old, new)``, where
``old`` must occur exactly once, and the module exports the public functions
of a private copy of the reference with that edit. A bug in a shared core (the
IoU, the box coding) so reaches every function that uses it, as it would in a
real implementation. A structural bug (another algorithm) swaps a hand-written
core into the copy with ``Swap``.

``d2l_faithful`` is the chapter's own code ported to NumPy: it differs from
the contract in the four deliberate departures (CONTRACT.md §8) and must fail
the suite on each of them.

``tests/test_selftest.py`` runs the suite against every module here and
demands that each one is caught by each test of its ``CAUGHT_BY``; adding a
module needs no other edit. To try one by hand::

    pytest --pyargs properties --impl=properties/broken/nms_ge.py
"""
