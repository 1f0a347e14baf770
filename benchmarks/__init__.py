"""Benchmarks of ``jaximpl`` against the NumPy reference, torchvision and a naive d2l port.

Entry point: ``python -m benchmarks`` (see ``benchmarks/README.md``).
"""
