"""Mirrors include/linux/wait.h's inspection: the tasks sleeping on a wait queue."""
from __future__ import annotations

from typing import Iterator


def waitqueue_for_each_task(wq) -> Iterator:
    """Each task waiting on the wait_queue_head, in queue order."""
    for e in wq.waiters:
        if e.task is not None:
            yield e.task
