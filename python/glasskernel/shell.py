"""The glasskernel command line, in the way drgn's works: `glasskernel` opens an interactive
Python shell with a booted kernel `k` and helpers; `glasskernel script.py` runs a scenario script
with the same names predefined."""
from __future__ import annotations

import argparse
import code
import os
import runpy
import signal
import sys

import glasskernel as gk


def print_crash(c) -> None:
    """How the shell and scripts show a program killed by an uncaught exception (dmesg has it too)."""
    print(f"[{c.ts / 1e9:.6f}] {c.comm}[{c.pid}]: uncaught exception in user mode, killed by SIGSEGV", file=sys.stderr)
    print(c.traceback.rstrip("\n"), file=sys.stderr)


def _namespace(k: gk.Kernel) -> dict:
    def ps() -> None:
        """Print the process table."""
        print(k.ps(), end="")

    def pstree(pid: int = 0) -> None:
        """Print the process tree."""
        print(k.pstree(pid), end="")

    def step(until: str = "function"):
        """Run to the next function entry (or "syscall", "switch", "tick") and show where."""
        s = k.step(until)
        if s is not None and s.task is not None:
            print(s)
            print("  call chain:", " → ".join(s.backtrace))
        return s

    def run(until=None, **kw):
        return k.run(until, **kw)

    def dmesg() -> None:
        """Print the kernel log."""
        print(k.dmesg(), end="")

    def ip_addr() -> None:
        """The network devices, their addresses and counters (like `ip -s addr`)."""
        for d in k.net.devices.values():
            print(f"{d.ifindex}: {d.name}: mtu {d.mtu}  inet {d.ip}/{d.prefix_len}  ether {d.mac}"
                  f"  rx {d.stats.rx_packets} tx {d.stats.tx_packets}")

    def netstat() -> None:
        """The UDP sockets, like /proc/net/udp."""
        print(k.net.proc_net_udp(), end="")

    return {"gk": gk, "k": k, "ps": ps, "pstree": pstree, "step": step, "run": run, "trace": k.trace,
            "dmesg": dmesg, "ip_addr": ip_addr, "netstat": netstat, "os": os, "signal": signal}


BANNER = """glasskernel {version}: a Linux kernel you can open.
A booted kernel is `k` ({cpus} CPU). Helpers: ps(), pstree(), step(until), run(until), trace,
dmesg(), ip_addr(), netstat(); gk.Network() joins machines with links.
Write a program:   @k.program("/bin/hi")
                   async def hi(sys): await sys.print("hi from", await sys.getpid())
then:              k.spawn("/bin/hi"); run(); print(k.console)"""


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="glasskernel", description="Run a glasskernel shell or scenario script.")
    p.add_argument("script", nargs="?", help="a Python scenario script to run with `k` predefined")
    p.add_argument("args", nargs=argparse.REMAINDER, help="arguments for the script (sys.argv[1:])")
    p.add_argument("--cpus", type=int, default=1)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--preempt", default="voluntary", choices=("none", "voluntary", "full"), help="the preemption model")
    p.add_argument("-q", "--quiet", action="store_true", help="no banner")
    a = p.parse_args(argv)
    gk.Kernel.default_on_crash = print_crash  # every kernel made here, the script's own included
    try:
        k = gk.Kernel(cpus=a.cpus, seed=a.seed, preempt=a.preempt)
    except (ValueError, TypeError) as e:
        p.error(str(e))
    ns = _namespace(k)
    if a.script:
        if not os.path.exists(a.script):
            p.error(f"no such script: {a.script}")
        sys.argv = [a.script, *a.args]
        runpy.run_path(a.script, init_globals=ns, run_name="__main__")
        return 0
    banner = "" if a.quiet else BANNER.format(version=gk.__version__, cpus=a.cpus)
    code.interact(banner=banner, local=ns, exitmsg="")
    return 0


if __name__ == "__main__":
    sys.exit(main())
