"""Commands of the suite: ``python -m properties COMMAND [options]``.

- ``stats``: time the suite as a user and as CI run it, and write ``docs/suite-stats.md``
  (:mod:`properties.suite_stats`).
- ``conformance``: run the suite against every installed library's adapter under its own
  conventions and the contract's, and write ``docs/conformance.{json,md}`` and the README's
  matrix (:mod:`properties.conformance`).
"""

from __future__ import annotations

import sys

COMMANDS = {
    "stats": "properties.suite_stats",
    "conformance": "properties.conformance",
}


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in COMMANDS:
        print(__doc__.strip(), file=sys.stderr)
        print(f"\nusage: python -m properties {{{','.join(COMMANDS)}}} [options]", file=sys.stderr)
        return 2
    import importlib

    return importlib.import_module(COMMANDS[argv[0]]).main(argv[1:])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
