// The simulator's built-in binaries, which every kernel boots with: /sbin/init, /bin/true,
// /bin/false.
#include "glasskernel/builtin.h"

namespace gk {

// /sbin/init: starts its own session (as systemd does), blocks SIGCHLD, then forever reaps every
// child it has (orphans are reparented to it) and sleeps in sigwaitinfo() until the next SIGCHLD,
// like minimal inits (tini, catatonit).
class init_program : public builtin<init_program> {
    int pc = 0;

public:
    user_step step(task_struct* t, long ret, syscall_regs* r) override {
        unsigned long set = local(t, 0);
        switch (pc) {
        case 0:
            pc = 3;
            return sys(t, r, __NR_setsid);
        case 3:
            pc = 1;
            store(t, set, sigmask(SIGCHLD));
            return sys(t, r, __NR_rt_sigprocmask, SIG_BLOCK, set, 0, sizeof(sigset_t));
        case 1:  // reap one child, without blocking
            pc = 2;
            return sys(t, r, __NR_wait4, static_cast<unsigned long>(-1), 0, WNOHANG | __WALL, 0);
        case 2:
            if (ret > 0) return sys(t, r, __NR_wait4, static_cast<unsigned long>(-1), 0, WNOHANG | __WALL, 0);  // reaped one; look for more
            pc = 1;
            store(t, set, sigmask(SIGCHLD));
            return sys(t, r, __NR_rt_sigtimedwait, set, 0, 0, sizeof(sigset_t));
        }
        return sys(t, r, __NR_exit_group, 1);
    }
};

class exit_program : public builtin<exit_program> {
    int code;

public:
    explicit exit_program(int c) : code(c) {}
    user_step step(task_struct* t, long, syscall_regs* r) override { return sys(t, r, __NR_exit_group, static_cast<unsigned long>(code)); }
};

void register_builtin_programs(Kernel* k) {
    k->register_program(program{"/sbin/init", "builtin", [](const auto&, const auto&) { return std::make_unique<init_program>(); }});
    k->register_program(program{"/bin/true", "builtin", [](const auto&, const auto&) { return std::make_unique<exit_program>(0); }});
    k->register_program(program{"/bin/false", "builtin", [](const auto&, const auto&) { return std::make_unique<exit_program>(1); }});
}

}  // namespace gk
