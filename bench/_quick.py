"""Quick mode for the bench scripts.

CI runs every script here with ``--quick`` so that none of them rots: small sizes, and a
missed target does not fail the run, because figures from a quick run on a shared machine
are not measurements. Without ``--quick`` a script measures and its exit code says whether
the targets were met.
"""

from __future__ import annotations

import sys

QUICK = "--quick" in sys.argv[1:]


def args() -> list[str]:
    """The script's own arguments, without ``--quick``."""
    return [a for a in sys.argv[1:] if a != "--quick"]


def size(full: int, quick: int) -> int:
    """The first positional argument if given, else ``quick`` in quick mode, else ``full``."""
    rest = args()
    if rest:
        return int(rest[0])
    return quick if QUICK else full


def exit_code(met: bool) -> int:
    """0 when the targets were met, or always in quick mode."""
    return 0 if met or QUICK else 1
