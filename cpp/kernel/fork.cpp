// Models kernel/fork.c (v6.1): kernel_clone, copy_process and its copy_* helpers, dup_task_struct,
// the vfork completion, kernel_thread and the fork/vfork/clone system calls.
#include "glasskernel/linux.h"

namespace gk {

static std::shared_ptr<task_struct> dup_task_struct(task_struct* orig) {
    trace_scope ts("dup_task_struct");
    auto p = std::make_shared<task_struct>();
    p->self = p;
    p->kernel = orig->kernel;
    p->comm = orig->comm;
    p->argv = orig->argv;
    p->flags = orig->flags & ~(PF_IDLE | PF_SUPERPRIV | PF_EXITING | PF_SIGNALED);
    p->real_cred = orig->real_cred;
    p->blocked = orig->blocked;
    p->sched_class = orig->sched_class;
    p->policy = orig->policy;
    p->se.task = p.get();
    p->group_leader = p.get();
    if (!p->kernel->new_task_fiber(p.get())) return nullptr;  // no memory for its kernel stack
    return p;
}

static int copy_files(u64 clone_flags, task_struct* tsk, task_struct* parent) {
    trace_scope ts("copy_files");
    if (!parent->files) return 0;
    if (clone_flags & CLONE_FILES) {
        tsk->files = parent->files;
        tsk->files->count++;
        return 0;
    }
    tsk->files = dup_fd(parent->files.get());
    return 0;
}

static int copy_sighand(u64 clone_flags, task_struct* tsk, task_struct* parent) {
    trace_scope ts("copy_sighand");
    if (clone_flags & CLONE_SIGHAND) {
        tsk->sighand = parent->sighand;
        tsk->sighand->count++;
        return 0;
    }
    tsk->sighand = std::make_shared<sighand_struct>(*parent->sighand);
    tsk->sighand->count = 1;
    return 0;
}

void init_signal_timers(signal_struct* sig, task_struct* leader);

static int copy_signal(u64 clone_flags, task_struct* tsk, task_struct* parent) {
    trace_scope ts("copy_signal");
    (void)clone_flags;
    auto sig = std::make_shared<signal_struct>();
    for (int i = 0; i < RLIM_NLIMITS; i++) sig->rlim[i] = parent->signal->rlim[i];
    sig->has_child_subreaper = parent->signal->has_child_subreaper || parent->signal->is_child_subreaper;
    sig->pids[PIDTYPE_PGID] = parent->signal->pids[PIDTYPE_PGID];
    sig->pids[PIDTYPE_SID] = parent->signal->pids[PIDTYPE_SID];
    init_signal_timers(sig.get(), tsk);  // interval timers are not inherited
    tsk->signal = sig;
    return 0;
}

std::shared_ptr<mm_struct> mm_alloc() { return std::make_shared<mm_struct>(); }

// Every VMA and every touched page of the parent. Linux shares the pages copy-on-write and copies
// one when either side writes it; the copy made here is what those writes would come to.
static int dup_mmap(mm_struct* mm, const mm_struct* oldmm) {
    trace_scope ts("dup_mmap");
    for (const auto& [end, vma] : oldmm->mm_mt) {
        vm_area_struct& v = mm->mm_mt[end];
        v = vma;
        v.vm_mm = mm;
    }
    for (const auto& [vpn, page] : oldmm->pages) mm->pages[vpn] = std::make_unique<page_data>(*page);
    mm->total_vm = oldmm->total_vm;
    return ts.ret(0);
}

static std::shared_ptr<mm_struct> dup_mm(task_struct* tsk, mm_struct* oldmm) {
    (void)tsk;
    auto mm = mm_alloc();
    mm->start_stack = oldmm->start_stack;
    mm->exe_file = oldmm->exe_file;
    if (dup_mmap(mm.get(), oldmm)) return nullptr;
    return mm;
}

// CLONE_VM (vfork, threads) shares the address space; otherwise the child gets a copy.
static int copy_mm(u64 clone_flags, task_struct* tsk, task_struct* parent) {
    trace_scope ts("copy_mm");
    if (!parent->mm) return 0;  // a kernel thread
    if (clone_flags & CLONE_VM) {
        tsk->mm = parent->mm;
        return ts.ret(0);
    }
    this_kernel->charge(this_kernel->costs.copy_mm);
    tsk->mm = dup_mm(tsk, parent->mm.get());
    return ts.ret(tsk->mm ? 0 : -ENOMEM);
}

static void copy_thread(task_struct* p, const kernel_clone_args* args) {
    trace_scope ts("copy_thread");
    p->thread.ax = 0;  // the child's fork() returns 0
    // The child's user registers are the parent's, except ax: fork() returns 0 there.
    if (current && !args->fn) {
        p->thread.pt = current->thread.pt;
        p->thread.pt.ax = 0;
    }
    // The program running in user mode continues in the child (for a Python program: a new
    // coroutine that replays the parent's calls; no Python runs here, on a kernel stack).
    if (current && !args->fn && current->thread.image) p->thread.image = current->thread.image->dup_image();
    // Signal frames live on the user stack in Linux: a child forked inside a handler returns
    // through the same frames.
    p->thread.sigframes = current && !args->fn ? current->thread.sigframes : std::vector<rt_sigframe>{};
    p->thread.next_frame_id = current ? current->thread.next_frame_id : 1;
    p->thread.kthread_fn = args->fn;
    p->thread.kthread_data = args->fn_arg;
    if (args->fn && !args->user_mode_thread) p->flags |= PF_KTHREAD;
}

u64 task_rlimit(const task_struct* t, int resource) { return t->signal->rlim[resource].rlim_cur; }

task_struct* copy_process(kernel_clone_args* args, task_struct* parent, long* err) {
    trace_scope ts("copy_process", "flags=%#llx", static_cast<unsigned long long>(args->flags));
    Kernel* k = parent->kernel;
    u64 clone_flags = args->flags;
    *err = 0;
    if ((clone_flags & CLONE_THREAD) && !(clone_flags & CLONE_SIGHAND)) { *err = -EINVAL; ts.ret(*err); return nullptr; }
    if ((clone_flags & CLONE_SIGHAND) && !(clone_flags & CLONE_VM)) { *err = -EINVAL; ts.ret(*err); return nullptr; }
    // Threads (CLONE_THREAD) are not modeled yet: one task per thread group.
    if (clone_flags & CLONE_THREAD) { *err = -EINVAL; ts.ret(*err); return nullptr; }
    if ((clone_flags & CLONE_PARENT) && (parent->signal->flags & SIGNAL_UNKILLABLE)) { *err = -EINVAL; ts.ret(*err); return nullptr; }

    // RLIMIT_NPROC counts the processes of the child's real uid; root is exempt.
    uid_t uid = parent->real_cred->uid;
    int& nproc = k->user_processes[uid];
    if (static_cast<u64>(nproc) >= task_rlimit(parent, RLIMIT_NPROC) && uid != 0) {
        *err = -EAGAIN;
        ts.ret(*err);
        return nullptr;
    }

    std::shared_ptr<task_struct> sp;
    try {
        sp = dup_task_struct(parent);
    } catch (const std::bad_alloc&) {
        sp = nullptr;  // no memory for the task_struct itself
    }
    if (!sp) {
        *err = -ENOMEM;
        ts.ret(*err);
        return nullptr;
    }
    task_struct* p = sp.get();
    p->flags |= PF_FORKNOEXEC;
    p->start_time = ktime_get();
    sched_fork(p, parent);
    long retval = 0;
    pid* newpid = nullptr;
    // Each copy_* allocates (a files_struct, a sighand_struct, an mm and its pages, a pid); in
    // Linux any of those allocations can fail and fork(2) returns ENOMEM after undoing the rest.
    try {
        retval = copy_files(clone_flags, p, parent);
        if (!retval) retval = copy_sighand(clone_flags, p, parent);
        if (!retval) retval = copy_signal(clone_flags, p, parent);
        if (!retval) retval = copy_mm(clone_flags, p, parent);
        if (!retval) copy_thread(p, args);
        if (!retval) {
            long nr = alloc_pid(&k->init_pid_ns, &newpid);
            if (nr < 0) retval = nr;
        }
    } catch (const std::bad_alloc&) {
        retval = -ENOMEM;
    }
    if (retval) {
        // bad_fork_cleanup_*: undo in reverse; the image may hold host objects.
        if (p->thread.image) k->deferred_images.push_back(std::move(p->thread.image));
        p->mm.reset();
        if (p->files && --p->files->count == 0) exit_files(p);
        p->self.reset();
        *err = retval;
        ts.ret(retval);
        return nullptr;
    }
    nproc++;
    p->pid = newpid->nr;
    p->tgid = p->pid;
    p->thread_pid = newpid;
    p->exit_signal = args->exit_signal;
    if (clone_flags & CLONE_PARENT) {
        p->real_parent = parent->real_parent;
        p->exit_signal = parent->group_leader->exit_signal;
    } else {
        p->real_parent = parent;
    }
    p->parent = p->real_parent;
    p->signal->pids[PIDTYPE_TGID] = newpid;
    p->signal->leader = 0;
    p->real_parent->children.push_back(*p);
    k->tasks.push_back(*p);
    attach_pid(p, PIDTYPE_TGID);
    attach_pid(p, PIDTYPE_PGID);
    attach_pid(p, PIDTYPE_SID);
    attach_pid(p, PIDTYPE_PID);
    trace_point("task_newtask", "pid=%d comm=%s clone_flags=%llx", p->pid, p->comm.c_str(),
                static_cast<unsigned long long>(clone_flags));
    ts.ret(p->pid);
    return p;
}

void complete_vfork_done(task_struct* tsk) {
    completion* vfork = tsk->vfork_done;
    if (vfork) {
        tsk->vfork_done = nullptr;
        complete(vfork);
    }
}

// The task gives up its address space (exec or exit): a vfork parent may continue now. (Linux
// also clears the child tid and releases robust futexes here; the model has neither yet.)
static void mm_release(task_struct* tsk, mm_struct* mm) {
    trace_scope ts("mm_release");
    (void)mm;
    if (tsk->vfork_done) complete_vfork_done(tsk);
}

void exit_mm_release(task_struct* tsk, mm_struct* mm) { mm_release(tsk, mm); }
void exec_mm_release(task_struct* tsk, mm_struct* mm) { mm_release(tsk, mm); }

static long wait_for_vfork_done(task_struct* child, completion* vfork) {
    trace_scope ts("wait_for_vfork_done");
    long killed = wait_for_completion_killable(vfork);
    if (killed) child->vfork_done = nullptr;  // the parent is dying: the child must not touch our stack
    return ts.ret(killed);
}

long kernel_clone(kernel_clone_args* args, task_struct* parent) {
    trace_scope ts("kernel_clone", "flags=%#llx exit_signal=%d", static_cast<unsigned long long>(args->flags), args->exit_signal);
    long err;
    task_struct* p = copy_process(args, parent, &err);
    if (!p) return ts.ret(err);
    std::shared_ptr<task_struct> hold = p->self;
    trace_point("sched_process_fork", "comm=%s pid=%d child_comm=%s child_pid=%d", parent->comm.c_str(), parent->pid,
                p->comm.c_str(), p->pid);
    pid_t nr = p->pid;
    completion vfork;
    if (args->flags & CLONE_VFORK) {
        p->vfork_done = &vfork;
        init_completion(&vfork);
    }
    wake_up_new_task(p);
    if (args->flags & CLONE_VFORK) wait_for_vfork_done(p, &vfork);
    return ts.ret(nr);
}

pid_t kernel_thread(int (*fn)(void*), void* arg, const char* name, u64 flags) {
    kernel_clone_args args;
    args.flags = (flags & ~CSIGNAL) | CLONE_VM | CLONE_UNTRACED;
    args.exit_signal = static_cast<int>(flags & CSIGNAL);
    args.fn = fn;
    args.fn_arg = arg;
    long nr = kernel_clone(&args, current);
    if (nr > 0 && name) {
        task_struct* t = find_task_by_vpid(static_cast<int>(nr));
        if (t) t->comm = name;
    }
    return static_cast<pid_t>(nr);
}

void put_task_struct(task_struct* t) { t->self.reset(); }

}  // namespace gk

// ---- system calls ----
#include "glasskernel/syscalls.h"

namespace gk {

SYSCALL_DEFINE0(fork) {
    kernel_clone_args args;
    args.exit_signal = SIGCHLD;
    return kernel_clone(&args, current);
}

SYSCALL_DEFINE0(vfork) {
    kernel_clone_args args;
    args.flags = CLONE_VFORK | CLONE_VM;
    args.exit_signal = SIGCHLD;
    return kernel_clone(&args, current);
}

// x86_64's argument order. glibc's fork() is clone(SIGCHLD). The exit signal is the low byte
// of the flags; the child's own stack and thread pointers belong to threads (not modeled yet).
SYSCALL_DEFINE5(clone, unsigned long, clone_flags, unsigned long, newsp, int __user *, parent_tidptr,
                int __user *, child_tidptr, unsigned long, tls) {
    (void)newsp, (void)parent_tidptr, (void)child_tidptr, (void)tls;
    u32 flags = static_cast<u32>(clone_flags);
    kernel_clone_args args;
    args.flags = flags & ~CSIGNAL;
    args.exit_signal = static_cast<int>(flags & CSIGNAL);
    if (!valid_signal(args.exit_signal)) return -EINVAL;
    // Sharing the address space (threads, CLONE_VM) needs a user stack per thread: not modeled.
    if (args.flags & (CLONE_VM | CLONE_THREAD | CLONE_SIGHAND)) return -EINVAL;
    return kernel_clone(&args, current);
}

}  // namespace gk
