"""Mirrors include/linux/sched/signal.h's iteration helpers: for_each_process and friends."""
from __future__ import annotations

from typing import Iterator


def for_each_process(k) -> Iterator:
    """Every thread-group leader on the task list (for_each_process)."""
    for t in k.tasks:
        if t.group_leader == t:
            yield t


def find_task(k, pid: int):
    """find_task_by_vpid()."""
    return k.task(pid)


def task_state_to_char(t) -> str:
    """The state letter ps and /proc/PID/stat show (R, S, D, I, T, t, Z, X)."""
    return t.state


def list_for_each_child(t) -> Iterator:
    """list_for_each_entry(child, &t->children, sibling)."""
    yield from t.children


EXIT_ZOMBIE = 0x20


def is_zombie(t) -> bool:
    """exit_state == EXIT_ZOMBIE: exited, not yet reaped."""
    return t.exit_state == EXIT_ZOMBIE
