"""fs/coredump.c (cpp/fs/coredump.cpp): a signal whose default action is to dump core dumps one
only when RLIMIT_CORE allows it; the wait status's WCOREDUMP bit says whether it did."""
import resource
import signal as S

from gktest import spawn_run, wstatus


def test_core_signals_dump_core_only_with_rlimit_core(k):
    """do_coredump: SIGQUIT kills with a core dump only when RLIMIT_CORE is above zero (WCOREDUMP in the status)."""
    got = {}

    async def main(sys):
        for core in (0, 1 << 20):
            pid = await sys.fork()
            if pid == 0:
                await sys.setrlimit(resource.RLIMIT_CORE, (core, resource.RLIM_INFINITY))
                await sys.nanosleep(1)
                await sys.exit(0)
            await sys.nanosleep(0.001)
            await sys.kill(pid, S.SIGQUIT)
            _, st = await sys.waitpid(pid, 0)
            got[core] = wstatus(st)
    spawn_run(k, main)
    assert got == {0: ("killed", S.SIGQUIT, False), 1 << 20: ("killed", S.SIGQUIT, True)}
