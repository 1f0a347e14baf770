"""Deliberately broken implementations of the anchor-box contract.

Each module here is a complete implementation (it re-exports the NumPy
reference with ``from reference import *``) that overrides one or two
functions with exactly one plausible bug, the kind real code has shipped. Its
docstring names the bug and where it comes from, and its ``CAUGHT_BY`` lists
the property tests (``"test_file.py::test_name"``) that must fail for it.

``d2l_faithful`` is the chapter's own code ported to NumPy: it differs from
the contract in the four deliberate departures and must fail the suite on
each of them.

``tests/test_selftest.py`` runs the suite against every module here and
demands that each one is caught; adding a module needs no other edit. To try
one by hand::

    pytest --pyargs properties --impl=properties/broken/nms_ge.py
"""
