// Models kernel/kthread.c (v6.1): kthreadd (pid 2) creates every kernel thread on request, from its
// kthread_create_list; the new thread runs kthread(), which reports back and waits to be woken.
#include <deque>

#include "glasskernel/linux.h"

namespace gk {

struct kthread_create_info {
    int (*threadfn)(void*);
    void* data;
    const char* name;
    task_struct* result = nullptr;
    completion done;
};

struct kthreadd_state {
    std::deque<kthread_create_info*> kthread_create_list;
};

static kthreadd_state* state_of(Kernel* k) {
    static_assert(sizeof(void*) == 8);
    return static_cast<kthreadd_state*>(k->kthreadd_task->thread.kthread_data);
}

static int kthread(void* arg) {
    auto* create = static_cast<kthread_create_info*>(arg);
    int (*threadfn)(void*) = create->threadfn;
    void* data = create->data;
    task_struct* self = current;
    self->comm = create->name;
    create->result = self;
    // Report to the creator, then sleep until kthread_run()/wake_up_process() starts us.
    __set_current_state(TASK_UNINTERRUPTIBLE);
    complete(&create->done);
    schedule();
    return threadfn(data);
}

// Runs in kthreadd: clone the new thread, which starts in kthread() and reports back.
static void create_kthread(kthread_create_info* create) {
    trace_scope ts("create_kthread", "name=%s", create->name);
    pid_t pid = kernel_thread(kthread, create, create->name, CLONE_FS | CLONE_FILES | SIGCHLD);
    if (pid < 0) complete(&create->done);  // the creator sees a null result
}

int kthreadd(void* unused) {
    (void)unused;
    Kernel* k = this_kernel;
    task_struct* self = current;
    self->comm = "kthreadd";
    // Its own handler table, all SIG_IGN, inherited by every kernel thread it creates.
    self->sighand = std::make_shared<sighand_struct>(*self->sighand);
    ignore_signals(self);
    kthreadd_state* st = static_cast<kthreadd_state*>(self->thread.kthread_data);
    for (;;) {
        set_current_state(TASK_INTERRUPTIBLE);
        if (st->kthread_create_list.empty()) schedule();
        __set_current_state(TASK_RUNNING);
        while (!st->kthread_create_list.empty()) {
            kthread_create_info* create = st->kthread_create_list.front();
            st->kthread_create_list.pop_front();
            create_kthread(create);
        }
        (void)k;
    }
    return 0;
}

// Queue the request for kthreadd and sleep until it has made the thread (NUMA nodes are not
// modeled: every CPU is one node).
task_struct* kthread_create_on_node(int (*threadfn)(void*), void* data, int node, const char* name) {
    trace_scope ts("kthread_create_on_node", "name=%s", name);
    (void)node;
    Kernel* k = this_kernel;
    kthread_create_info create{threadfn, data, name, nullptr, {}};
    state_of(k)->kthread_create_list.push_back(&create);
    wake_up_process(k->kthreadd_task);
    wait_for_completion(&create.done);
    return create.result;
}

task_struct* kthread_run(int (*threadfn)(void*), void* data, const char* name) {
    task_struct* t = kthread_create(threadfn, data, name);
    if (t) wake_up_process(t);
    return t;
}

void* new_kthreadd_state() { return new kthreadd_state; }
void free_kthreadd_state(void* p) { delete static_cast<kthreadd_state*>(p); }

// A kernel thread made from host code (a lesson's Python thread, an irq thread): it is cloned
// straight from kthreadd, as kthreadd's create_kthread would, and starts runnable.
task_struct* kthread_create_from_host(Kernel* k, int (*threadfn)(void*), void* data, const std::string& name) {
    kernel_clone_args args;
    args.flags = CLONE_VM | CLONE_UNTRACED;
    args.exit_signal = 0;
    args.fn = threadfn;
    args.fn_arg = data;
    long nr = kernel_clone(&args, k->kthreadd_task);
    if (nr < 0) return nullptr;
    task_struct* t = find_task_by_vpid(static_cast<int>(nr));
    auto* tname = new std::string(name.substr(0, 15));  // TASK_COMM_LEN - 1
    k->boot_names.emplace_back(tname);
    t->comm = *tname;
    t->sighand = std::make_shared<sighand_struct>(*k->kthreadd_task->sighand);  // ignores all signals
    return t;
}

// What a kernel thread's loop asks to know whether kthread_stop() wants it to return.
bool kthread_should_stop() {
    task_struct* t = current;
    return t && (t->kthread_flags & KTHREAD_SHOULD_STOP);
}

// kthread_stop's first half: tell the thread and wake it. kthread_stop then waits for the
// thread to return; the host, which cannot sleep, lets the kernel run instead.
void kthread_stop_request(task_struct* k) {
    trace_scope ts("kthread_stop", "pid=%d", k->pid);
    k->kthread_flags |= KTHREAD_SHOULD_STOP;
    if (!(k->flags & PF_EXITING)) wake_up_process(k);
}

// Pin a kernel thread to one CPU for good: sched_setaffinity() refuses to move it.
void kthread_bind(task_struct* p, int cpu) {
    do_set_cpus_allowed(p, 1ULL << cpu);
    p->flags |= PF_NO_SETAFFINITY;
}

}  // namespace gk
