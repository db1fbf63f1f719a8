"""arch/x86/entry/syscall_64.c and include/linux/syscalls.h: the system call table generated from
syscall_64.tbl, sys_ni_syscall for numbers the model lacks, syscall(2), and the typed boundary
that converts a program's arguments by the C types SYSCALL_DEFINE declares."""
import errno
import re
from pathlib import Path

import pytest

import glasskernel as gk
from gktest import lines, spawn_run

HOST_UNISTD = Path("/usr/include/x86_64-linux-gnu/asm/unistd_64.h")


def test_numbers_are_linux_x86_64_numbers():
    """arch/x86/entry/syscalls/syscall_64.tbl: the numbers are the x86_64 ABI's."""
    assert (gk.NR.read, gk.NR.getpid, gk.NR.wait4, gk.NR.kill, gk.NR.epoll_wait) == (0, 39, 61, 62, 232)
    assert gk.sys_call_table[-1].nr == 450  # set_mempolicy_home_node, the last call of v6.1
    if HOST_UNISTD.exists():  # the host's uapi header (Debian 12 ships v6.1's) agrees number by number
        host = {name: int(nr) for name, nr in re.findall(r"#define __NR_(\w+) (\d+)", HOST_UNISTD.read_text())}
        for e in gk.sys_call_table:
            if e.name in host:
                assert host[e.name] == e.nr, e.name


def test_table_names_entry_points_and_signatures():
    """k.sys_call_table: each number with its entry point and, when modeled, its SYSCALL_DEFINE."""
    k = gk.Kernel()
    by_name = {e.name: e for e in k.sys_call_table}
    wait4 = by_name["wait4"]
    assert wait4.implemented and wait4.entry == "sys_wait4"
    assert wait4.signature == ("SYSCALL_DEFINE4(wait4, pid_t, upid, int __user *, stat_addr, int, options, "
                               "struct rusage __user *, ru)")
    assert by_name["stat"].entry == "sys_newstat" and not by_name["stat"].implemented
    assert by_name["uselib"].entry == "sys_ni_syscall"
    assert sum(e.implemented for e in k.sys_call_table) >= 78


def test_unimplemented_and_out_of_range_numbers_are_enosys(k):
    """A number with no entry point (or none in the table) reaches sys_ni_syscall: ENOSYS."""
    async def main(sys):
        for nr in (gk.NR.uselib, gk.NR.mount, 451, 1000, -1):
            try:
                await sys.syscall(nr)
            except OSError as e:
                await sys.print(nr, errno.errorcode[e.errno])
    spawn_run(k, main)
    assert lines(k) == [f"{gk.NR.uselib} ENOSYS", f"{gk.NR.mount} ENOSYS", "451 ENOSYS", "1000 ENOSYS", "-1 ENOSYS"]


def test_raw_syscall_passes_registers(k):
    """syscall(2): the number and register values as given; an int for a pointer is an address."""
    async def main(sys):
        await sys.print(await sys.syscall(gk.NR.getpid) == await sys.getpid())
        ret, ts = await sys.syscall(gk.NR.clock_gettime, 1, gk.Out(16))
        await sys.print(ret, len(ts))
        try:
            await sys.syscall(gk.NR.clock_gettime, 1, 0xdead0000)
        except OSError as e:
            await sys.print(errno.errorcode[e.errno])
        # A register's high bits do not reach an int argument: kill(2**32 + pid, 0) is kill(pid, 0).
        await sys.print(await sys.syscall(gk.NR.kill, 2**32 + await sys.getpid(), 0))
    spawn_run(k, main)
    assert lines(k) == ["True", "0 16", "EFAULT", "0"]


def test_arguments_outside_their_c_type_raise_overflowerror(k):
    """A value no C caller could pass (outside the argument's C type) raises OverflowError in the
    program, as Python's os functions do; nothing is truncated into another value."""
    async def main(sys):
        for call in (lambda: sys.kill(2**64, 9), lambda: sys.kill(2**31, 9), lambda: sys.waitpid(-1, 2**64 | 1),
                     lambda: sys.clock_gettime(2**64 + 1), lambda: sys.compute(2**64)):
            try:
                await call()
                await sys.print("no error")
            except OverflowError:
                await sys.print("OverflowError")
        await sys.print(await sys.getpid() > 1)
    t = spawn_run(k, main)
    assert lines(k) == ["OverflowError"] * 5 + ["True"]
    assert t.exit_code == 0


def test_wrong_argument_type_names_the_argument(k):
    """The boundary says which argument of which call was wrong, and the program can catch it."""
    async def main(sys):
        try:
            await sys.kill("1", 9)
        except TypeError as e:
            await sys.print(e)
    spawn_run(k, main)
    assert lines(k) == ["kill() argument 'pid' must be an int, not str"]


def test_large_buffers_get_their_own_mapping(k):
    """Arguments too large for the stack are mapped for the call and unmapped after it."""
    async def main(sys):
        big = bytes(range(256)) * 4096  # 1 MiB
        await sys.print(await sys.write(1, big) == len(big))
    spawn_run(k, main)
    assert lines(k)[-1].endswith("True")
    assert len(k.console_log[0].data) == 1 << 20 and k.console_log[0].data[:4] == bytes(range(4))
