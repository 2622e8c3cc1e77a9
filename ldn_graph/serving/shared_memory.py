"""Numbers shared by a server's processes: a block of memory made before the workers fork, and its lock.

Fair-use limits and request metrics must count across every server worker, and across the workers a
reload starts, so they live in one anonymous shared mapping made in the main process (before any fork) and
inherited by each forked process. The lock is a POSIX record lock on the mapping's file, which the
kernel releases when its holder dies: a worker killed mid-update can never leave the others waiting
(a semaphore would stay taken).

Record locks belong to a process, not a thread, so one thread lock per process stands in front of all of
them: a process then holds or waits for at most one record lock at a time. Without it, two workers could
each hold one mapping's lock in one thread while another thread waits for the other mapping's lock; the
kernel sees a cycle between the two processes and fails the wait with EDEADLK, although each holder was
about to let go. Nothing takes one mapping's lock inside another's.
"""

from __future__ import annotations

import fcntl
import mmap
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_process_lock = threading.Lock()  # in front of every record lock this process takes: see above


def _new_process_lock() -> None:
    # A forked child runs one thread; a lock another thread of its parent held at the fork would never
    # be let go in the child.
    global _process_lock
    _process_lock = threading.Lock()


os.register_at_fork(after_in_child=_new_process_lock)


class SharedMemory:
    """``size`` bytes of zeroed memory shared with every process forked after this one made it."""

    def __init__(self, size: int, name: str = "ldn-graph"):
        self.size = size
        self._fd = os.memfd_create(name, os.MFD_CLOEXEC)
        os.ftruncate(self._fd, size)
        self._map = mmap.mmap(self._fd, size)  # MAP_SHARED: forked processes see each other's writes

    def array(self, offset: int, count: int, typecode: str) -> memoryview:
        """``count`` items of ``typecode`` ("q": 64-bit integers, "d": doubles) from byte ``offset``."""
        width = 8
        return memoryview(self._map)[offset : offset + count * width].cast(typecode)

    @contextmanager
    def locked(self) -> Iterator[None]:
        with _process_lock:
            fcntl.lockf(self._fd, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.lockf(self._fd, fcntl.LOCK_UN)


class Layout:
    """Hands out consecutive 8-byte arrays of one SharedMemory; sized first, then made."""

    def __init__(self) -> None:
        self._arrays: list[tuple[str, int, str]] = []

    def add(self, name: str, count: int, typecode: str) -> None:
        self._arrays.append((name, count, typecode))

    def make(self) -> tuple[SharedMemory, dict[str, memoryview]]:
        memory = SharedMemory(max(8, sum(count for _, count, _ in self._arrays) * 8))
        arrays, offset = {}, 0
        for name, count, typecode in self._arrays:
            arrays[name] = memory.array(offset, count, typecode)
            offset += count * 8
        return memory, arrays
