// The simulator's bridge from Linux's function pointers to host code (a lesson's Python). A
// kernel object whose function is host code is embedded in a host_* struct, as a driver embeds
// its timer_list in a struct of its own; the trampoline installed in the object's function pointer
// finds that struct (container_of) and runs the host code on the host stack (Kernel::upcall). The
// modeled kernel files see only their own function pointers.
//
// Host code cannot call kernel functions itself (it runs on the host stack, outside the kernel's
// context): what it asks for comes back as requests, carried out in the kernel context of the
// call when the host code returns, in the order asked.
#pragma once
#include <memory>
#include <string>
#include <variant>
#include <vector>

#include "engine/host_kthread.h"
#include "glasskernel/interrupt.h"
#include "glasskernel/net/ip.h"
#include "glasskernel/timer.h"
#include "glasskernel/workqueue.h"

namespace gk {

class Kernel;
struct sk_buff;
struct nf_hook_state;

// The requests host code may make from a callback: the kernel functions Linux allows in any
// context (they neither sleep nor change the lists a callback may be running from).
struct raise_softirq_req { int nr; };
struct tasklet_schedule_req { tasklet_struct* t; bool hi; };
struct queue_work_req { delayed_work* dwork; int cpu; u64 delay_ns; };
struct mod_timer_req { timer_list* timer; unsigned long expires; };
struct del_timer_req { timer_list* timer; };
using host_request = std::variant<raise_softirq_req, tasklet_schedule_req, queue_work_req, mod_timer_req, del_timer_req>;

// What the host code is told about the call.
struct host_call {
    const char* kind = "";     // "irq", "irq_thread", "tasklet", "timer", "work", "softirq", "nf_hook"
    int irq = -1;
    int cpu = 0;
    sk_buff* skb = nullptr;    // nf_hook: the packet
    const nf_hook_state* state = nullptr;
};

struct host_fn {
    virtual ~host_fn() = default;
    // Runs on the host stack. Returns the host code's value (an irqreturn, a verdict) and
    // appends what it asked the kernel to do.
    virtual long call(Kernel& k, const host_call& c, std::vector<host_request>* reqs) = 0;
};

// In kernel context: run fn as an upcall, then carry out its requests here.
long call_host_fn(const std::shared_ptr<host_fn>& fn, const host_call& c);

// ---- kernel objects whose function is host code ----
struct host_timer {
    timer_list timer;
    std::shared_ptr<host_fn> fn;
};
struct host_tasklet {
    tasklet_struct tasklet;
    std::shared_ptr<host_fn> fn;
};
struct host_work {
    delayed_work dwork;
    std::shared_ptr<host_fn> fn;
};
struct host_irq {
    int irq = 0;
    std::shared_ptr<host_fn> handler, thread_fn;  // thread_fn: null unless threaded
    void* dev_id = nullptr;                       // what the host registered it as
};

// Everything of this kind a machine has, owned by its Kernel (freed at teardown).
struct host_objects {
    std::vector<std::unique_ptr<host_timer>> timers;
    std::vector<std::unique_ptr<host_tasklet>> tasklets;
    std::vector<std::unique_ptr<host_work>> works;
    std::vector<std::unique_ptr<host_irq>> irqs;
    std::vector<std::unique_ptr<host_irq>> freed_irqs;  // freed lines' handlers, kept until teardown
    std::vector<std::unique_ptr<host_kthread>> kthreads;
    std::shared_ptr<host_fn> softirq[NR_SOFTIRQS];  // a lesson's own action for an unused softirq
    std::vector<host_request>* pending = nullptr;   // during an upcall: where requests go
};

host_timer* host_timer_new(Kernel* k, const std::string& name, std::shared_ptr<host_fn> fn);
host_tasklet* host_tasklet_new(Kernel* k, const std::string& name, std::shared_ptr<host_fn> fn);
host_work* host_work_new(Kernel* k, const std::string& name, std::shared_ptr<host_fn> fn);
// request_threaded_irq with host code as the top half (and, if given, the thread function).
int host_request_irq(Kernel* k, int irq, std::shared_ptr<host_fn> handler, std::shared_ptr<host_fn> thread_fn,
                     unsigned long flags, const std::string& name, void* dev_id);
int host_free_irq(Kernel* k, int irq, void* dev_id);
int host_open_softirq(Kernel* k, int nr, std::shared_ptr<host_fn> fn);
// A netfilter hook whose function is host code (ops.priv is the struct itself).
struct host_nf_hook : nf_hook_ops {
    std::shared_ptr<host_fn> fn;
};
std::shared_ptr<host_nf_hook> host_nf_hook_new(int hooknum, int priority, const std::string& name, std::shared_ptr<host_fn> fn);

// Inside an upcall, host code's kernel calls become requests: true if one was queued.
bool host_defer(Kernel* k, host_request r);
// Carry out one request in kernel context.
void do_host_request(const host_request& r);

}  // namespace gk
