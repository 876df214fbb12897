"""The process's memory allocator: at most two glibc malloc arenas, so that the threads a
run starts (database writes, the event loop's executor) do not each keep their own freed
memory; at 5,000 pages an unchanged run's peak RSS fell from 286 to 246 MB
(tests/bench/RESULTS.md, "Malloc arenas, session 8"). Elsewhere than glibc: nothing."""

from __future__ import annotations

import ctypes
import ctypes.util
import os

M_ARENA_MAX = -8  # glibc's <malloc.h>
ARENAS = 2


def limit_malloc_arenas() -> bool:
    """Sets glibc's ``M_ARENA_MAX`` to :data:`ARENAS` (before any thread starts, so that
    every thread shares them); True when it was set. ``MALLOC_ARENA_MAX`` in the
    environment, set by the user, is left to rule."""
    if os.environ.get("MALLOC_ARENA_MAX"):
        return False
    name = ctypes.util.find_library("c")
    if name is None:
        return False
    try:
        libc = ctypes.CDLL(name)
        mallopt = libc.mallopt
    except (OSError, AttributeError):  # not glibc (musl, macOS)
        return False
    return bool(mallopt(M_ARENA_MAX, ARENAS))
