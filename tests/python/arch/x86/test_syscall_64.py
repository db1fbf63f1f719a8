"""arch/x86/entry/syscall_64.c (cpp/arch/x86/entry/syscall_64.cpp) and include/linux/syscalls.h:
the system call table generated from syscall_64.tbl, sys_ni_syscall for numbers the model lacks,
and syscall(2) passing registers as given. (How a program's arguments are converted by their C
types is tests/python/bindings/test_user_python.py's.)"""
import re
from pathlib import Path

import glasskernel as gk
from gktest import errno_of, spawn_run

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
    got = {}

    async def main(sys):
        for nr in (gk.NR.uselib, gk.NR.mount, 451, 1000, -1):
            got[nr] = await errno_of(sys.syscall(nr))
    spawn_run(k, main)
    assert got == {gk.NR.uselib: "ENOSYS", gk.NR.mount: "ENOSYS", 451: "ENOSYS", 1000: "ENOSYS", -1: "ENOSYS"}


def test_raw_syscall_passes_registers(k):
    """syscall(2): the number and register values as given; an int for a pointer is an address."""
    got = {}

    async def main(sys):
        got["getpid"] = await sys.syscall(gk.NR.getpid) == await sys.getpid()
        ret, ts = await sys.syscall(gk.NR.clock_gettime, 1, gk.Out(16))
        got["clock_gettime"] = (ret, len(ts))
        got["bad pointer"] = await errno_of(sys.syscall(gk.NR.clock_gettime, 1, 0xdead0000))
        # A register's high bits do not reach an int argument: kill(2**32 + pid, 0) is kill(pid, 0).
        got["kill"] = await sys.syscall(gk.NR.kill, 2**32 + await sys.getpid(), 0)
    spawn_run(k, main)
    assert got == {"getpid": True, "clock_gettime": (0, 16), "bad pointer": "EFAULT", "kill": 0}
