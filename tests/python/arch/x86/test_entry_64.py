"""arch/x86/entry/entry_64.S (cpp/arch/x86/entry/entry_64.cpp): entry_SYSCALL_64 saves the user
registers in the task's pt_regs, the number in orig_ax and -ENOSYS in ax until the call returns."""
import errno

import glasskernel as gk


def test_a_syscalls_pt_regs_hold_its_number_arguments_and_enosys_until_it_returns():
    """entry_SYSCALL_64: pt_regs has orig_ax = the number, di/si = the arguments, ax = -ENOSYS until the return value."""
    k = gk.Kernel()

    @k.program("/bin/k")
    async def prog(sys):
        me = await sys.getpid()
        await sys.kill(me, 0)

    k.break_at("__x64_sys_kill")
    t = k.spawn("/bin/k")
    stop = k.run()
    assert stop and stop.function == "__x64_sys_kill"
    regs = t.pt_regs
    assert regs.orig_ax == 62 and regs.syscall == 62
    assert regs.di == t.pid and regs.si == 0
    assert regs.ax == (-errno.ENOSYS) & (2**64 - 1)   # until the call returns
    assert regs.user_mode
    k.run()
    assert t.pt_regs.ax == 0
