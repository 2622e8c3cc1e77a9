"""The lock of the memory the server's processes share (metrics, fair use) under threads and processes."""

from __future__ import annotations

import os
import threading
import time

from ldn_graph.serving.shared_memory import SharedMemory


def test_threads_of_two_processes_taking_two_locks_never_see_a_false_deadlock():
    # Record locks belong to processes. Here each process holds one lock in one thread while another of
    # its threads asks for the lock the other process holds: without a lock in front, the kernel sees a
    # cycle and fails a wait with EDEADLK (once seen as a 500 under load), though no thread holds one
    # lock while it asks for the other, so both would go through a second later.
    metrics, fair_use = SharedMemory(8), SharedMemory(8)
    to_child, to_parent = os.pipe(), os.pipe()
    child = os.fork()  # like a server worker: forked before any thread takes a lock
    if child == 0:
        child_errors = _hold_one_ask_other(fair_use, metrics, tell=to_parent[1], hear=to_child[0])
        os._exit(1 if child_errors else 0)
    try:
        errors = _hold_one_ask_other(metrics, fair_use, tell=to_child[1], hear=to_parent[0])
        status = _exit_code(child, deadline=time.monotonic() + 15)
    finally:
        for fd in (*to_child, *to_parent):
            os.close(fd)
    assert errors == []
    assert status == 0, "the other process failed to take a lock, or hung"


def _hold_one_ask_other(held: SharedMemory, asked: SharedMemory, tell: int, hear: int) -> list[str]:
    """One thread holds ``held`` for a second, and says so on ``tell``; once the other process says the
    same on ``hear``, a second thread takes ``asked``. The errors met, once both threads are done."""
    errors: list[str] = []

    def hold() -> None:
        with held.locked():
            os.write(tell, b"x")
            time.sleep(1.0)

    def ask() -> None:
        os.read(hear, 1)
        try:
            with asked.locked():
                pass
        except OSError as error:
            errors.append(repr(error))

    threads = [threading.Thread(target=hold), threading.Thread(target=ask)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    return errors + [f"{thread.name} hung" for thread in threads if thread.is_alive()]


def _exit_code(child: int, deadline: float) -> int | None:
    """The child's exit code, or None after killing it at ``deadline``."""
    while time.monotonic() < deadline:
        pid, status = os.waitpid(child, os.WNOHANG)
        if pid:
            return os.waitstatus_to_exitcode(status)
        time.sleep(0.05)
    os.kill(child, 9)
    os.waitpid(child, 0)
    return None


def test_counts_from_threads_of_several_processes_add_up():
    memory = SharedMemory(8)
    counter = memory.array(0, 1, "q")

    def count(times: int) -> None:
        for _ in range(times):
            with memory.locked():
                counter[0] += 1

    children = []
    for _ in range(3):
        child = os.fork()
        if child == 0:
            threads = [threading.Thread(target=count, args=(500,)) for _ in range(3)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            os._exit(0)
        children.append(child)
    count(500)
    for child in children:
        assert _exit_code(child, deadline=time.monotonic() + 30) == 0
    assert counter[0] == 3 * 3 * 500 + 500
