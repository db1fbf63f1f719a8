"""The x86_64 system call table (arch/x86/entry/syscalls/syscall_64.tbl), from the compiled core.

``NR.wait4`` is 61, as ``__NR_wait4`` in C. ``sys_call_table`` lists every number with its
entry point and whether the model implements it (a number it does not implement answers
ENOSYS through sys_ni_syscall, as a call configured out of Linux does).
"""
from __future__ import annotations

from typing import NamedTuple

from . import _core

__all__ = ["NR", "SyscallEntry", "sys_call_table", "syscall_name"]


class SyscallEntry(NamedTuple):
    """One row of the table: the number, the call's name, its entry point, and its C signature."""

    nr: int
    name: str
    entry: str
    implemented: bool
    types: tuple[str, ...]  # the C types, as ftrace's syscall events print them (no __user)
    args: tuple[str, ...]

    @property
    def signature(self) -> str:
        """The SYSCALL_DEFINE line, as in the kernel source (every pointer a system call takes
        points into user memory: `__user`)."""
        if not self.implemented:
            return f"{self.entry}  /* not implemented: -ENOSYS */"
        pairs = ", ".join(f"{t.replace(' *', ' __user *')}, {a}" for t, a in zip(self.types, self.args))
        return f"SYSCALL_DEFINE{len(self.args)}({self.name}{', ' + pairs if pairs else ''})"


sys_call_table: list[SyscallEntry] = [SyscallEntry(*row) for row in _core.sys_call_table()]


class _Numbers:
    """The system call numbers by name: NR.getpid, NR.wait4, ..."""

    __slots__ = tuple(e.name for e in sys_call_table)

    def __init__(self) -> None:
        for e in sys_call_table:
            object.__setattr__(self, e.name, e.nr)

    def __setattr__(self, name, value):
        raise AttributeError("the system call numbers are fixed by the table")

    def __repr__(self) -> str:
        return f"<NR: {len(self.__slots__)} x86_64 system calls>"


NR = _Numbers()


def syscall_name(nr: int) -> str | None:
    """The name of system call `nr`, or None."""
    return _core.syscall_name(nr)
