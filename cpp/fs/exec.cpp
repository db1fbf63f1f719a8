// Models fs/exec.c and the binfmt handlers: do_execveat_common -> bprm_execve -> exec_binprm ->
// search_binary_handler -> load_*_binary -> begin_new_exec. Built-in C++ programs load through
// binfmt_elf; Python programs through binfmt_misc, as Linux runs interpreted programs.
#include "glasskernel/linux.h"

namespace gk {

struct linux_binprm {
    std::string filename;
    std::vector<std::string> argv, envp;
    const program* prog = nullptr;
    std::unique_ptr<mm_struct> mm;
};

static void exec_mmap(std::unique_ptr<mm_struct> mm) {
    trace_scope ts("exec_mmap");
    task_struct* tsk = current;
    std::unique_ptr<mm_struct> old = std::move(tsk->mm);
    tsk->mm = std::move(mm);
    mm_release(tsk);  // a vfork parent continues now
    if (old) this_kernel->deferred_mm.push_back(std::move(old));
}

// Everything of the old program that must not survive into the new one.
static int begin_new_exec(linux_binprm* bprm) {
    trace_scope ts("begin_new_exec");
    task_struct* me = current;
    exec_mmap(std::move(bprm->mm));
    me->flags &= ~(PF_FORKNOEXEC | PF_KTHREAD);
    flush_signal_handlers(me, false);  // caught signals go back to SIG_DFL; ignored stay ignored
    if (me->files) do_close_on_exec(me->files.get());
    std::string base = bprm->filename.substr(bprm->filename.rfind('/') + 1);
    me->comm = base.substr(0, 15);  // TASK_COMM_LEN - 1
    me->argv = bprm->argv;
    me->thread.ax = 0;
    // start_thread: user mode begins afresh, with user segments and interrupts enabled.
    me->thread.pt = pt_regs();
    me->thread.pt.cs = __USER_CS;
    me->thread.pt.ss = __USER_DS;
    me->thread.pt.flags = X86_EFLAGS_FIXED | X86_EFLAGS_IF;
    me->thread.uout = user_out();
    me->thread.compute_left = 0;
    me->thread.sigframes.clear();  // the old user stack is gone
    me->restart_block = restart_block();
    return ts.ret(0);
}

static int load_binary(linux_binprm* bprm, const char* kind, const char* fn) {
    trace_scope ts(fn, "filename=%s", bprm->filename.c_str());
    if (bprm->prog->kind != kind) return ts.ret(-ENOEXEC);
    bprm->mm = bprm->prog->load(bprm->argv, bprm->envp);
    if (!bprm->mm) return ts.ret(-ENOEXEC);
    bprm->mm->exe_file = bprm->filename;
    this_kernel->charge(this_kernel->costs.exec);
    return ts.ret(begin_new_exec(bprm));
}

static int search_binary_handler(linux_binprm* bprm) {
    trace_scope ts("search_binary_handler");
    int r = load_binary(bprm, "builtin", "load_elf_binary");
    if (r != -ENOEXEC) return ts.ret(r);
    return ts.ret(load_binary(bprm, "python", "load_misc_binary"));
}

static int exec_binprm(linux_binprm* bprm) {
    trace_scope ts("exec_binprm");
    pid_t old_pid = current->pid;
    int ret = search_binary_handler(bprm);
    if (ret < 0) return ts.ret(ret);
    trace_point("sched_process_exec", "filename=%s pid=%d old_pid=%d", bprm->filename.c_str(), current->pid, old_pid);
    return ts.ret(ret);
}

static int bprm_execve(linux_binprm* bprm) {
    trace_scope ts("bprm_execve", "filename=%s", bprm->filename.c_str());
    Kernel* k = this_kernel;
    auto it = k->programs.find(bprm->filename);
    if (it == k->programs.end()) return ts.ret(-ENOENT);  // do_open_execat finds no file
    bprm->prog = &it->second;
    return ts.ret(exec_binprm(bprm));
}

long do_execveat_common(const std::string& filename, const std::vector<std::string>& argv,
                        const std::vector<std::string>& envp) {
    trace_scope ts("do_execveat_common", "filename=%s", filename.c_str());
    if (filename.empty()) return ts.ret(-ENOENT);
    linux_binprm bprm;
    bprm.filename = filename;
    bprm.argv = argv;
    bprm.envp = envp;
    // Since Linux 5.18 an empty argv gets "" as argv[0], so programs can rely on argc >= 1.
    if (bprm.argv.empty()) bprm.argv.push_back("");
    return ts.ret(bprm_execve(&bprm));
}

long kernel_execve(const std::string& filename, const std::vector<std::string>& argv,
                   const std::vector<std::string>& envp) {
    trace_scope ts("kernel_execve", "filename=%s", filename.c_str());
    return ts.ret(do_execveat_common(filename, argv, envp));
}

}  // namespace gk

// ---- system calls ----
#include "glasskernel/syscalls.h"

namespace gk {

SYSCALL_DEFINE(execve) { return do_execveat_common(regs.data, regs.argv, regs.envp); }

}  // namespace gk
