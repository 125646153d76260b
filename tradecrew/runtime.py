"""Process-level tuning that applications (the CLI, the MCP server, benchmarks) opt into."""

from __future__ import annotations

import ctypes
import ctypes.util

_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3


def tune_allocator() -> bool:
    """Keep freed analysis buffers in the process instead of returning them to the OS.

    glibc hands large freed blocks back at once, and faulting those pages in again on the
    next analysis can cost more than the indicators themselves. Returns False where there is
    no glibc ``mallopt`` (other platforms keep their defaults).
    """
    name = ctypes.util.find_library("c")
    if not name:
        return False
    try:
        mallopt = ctypes.CDLL(name).mallopt
    except (OSError, AttributeError):
        return False
    ok = mallopt(_M_MMAP_THRESHOLD, 32 * 1024 * 1024) == 1
    return bool(mallopt(_M_TRIM_THRESHOLD, 64 * 1024 * 1024) == 1 and ok)


def settle_gc() -> None:
    """Exempt everything loaded so far from garbage-collection scans (call once start-up is
    done): a long-running desk otherwise pauses for full scans of the imported libraries'
    objects, hundreds of milliseconds in the middle of an order."""
    import gc

    gc.collect()
    gc.freeze()
