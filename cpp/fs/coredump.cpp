// Models fs/coredump.c (v6.1): do_coredump, as far as the exit status shows it; no core file is
// written.
#include "glasskernel/linux.h"

namespace gk {

// A "core" signal's default action. The group is made to exit with the signal first
// (coredump_wait's zap_threads), then the dump is attempted; RLIMIT_CORE 0 (the default)
// allows none. A dump that was made sets 0x80 in the exit status (coredump_finish), which
// wait() reports as WCOREDUMP. do_group_exit() then finds the group exiting and uses that status.
void do_coredump(const kernel_siginfo* siginfo) {
    trace_scope ts("do_coredump", "sig=%d", siginfo->si_signo);
    task_struct* t = current;
    signal_struct* sig = t->signal.get();
    sig->flags = SIGNAL_GROUP_EXIT;
    sig->group_exit_code = siginfo->si_signo;
    bool core_dumped = task_rlimit(t, RLIMIT_CORE) > 0;
    if (core_dumped) sig->group_exit_code |= 0x80;
}

}  // namespace gk
