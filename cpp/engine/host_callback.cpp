// The simulator's trampolines from Linux's function pointers to host code (see host_callback.h).
#include "engine/host_callback.h"

#include "glasskernel/linux.h"
#include "glasskernel/net/ip.h"

namespace gk {

// The upcall: the host code runs with `pending` pointing at its request list, so that the
// kernel functions it calls through the bindings are queued instead of run on the host stack.
struct host_upcall : upcall_fn {
    std::shared_ptr<host_fn> fn;
    const host_call* c;
    std::vector<host_request> reqs;
    long call(Kernel& k) override {
        std::vector<host_request>* saved = k.host->pending;
        k.host->pending = &reqs;
        struct restore {
            Kernel& k;
            std::vector<host_request>* saved;
            ~restore() { k.host->pending = saved; }
        } r{k, saved};
        return fn->call(k, *c, &reqs);
    }
};

long call_host_fn(const std::shared_ptr<host_fn>& fn, const host_call& c) {
    Kernel* k = this_kernel;
    auto up = std::make_shared<host_upcall>();
    up->fn = fn;
    up->c = &c;
    long ret = k->upcall(up);
    for (const host_request& r : up->reqs) do_host_request(r);
    return ret;
}

bool host_defer(Kernel* k, host_request r) {
    if (!k->host->pending) return false;
    k->host->pending->push_back(r);
    return true;
}

void do_host_request(const host_request& r) {
    struct visitor {
        void operator()(const raise_softirq_req& q) const { raise_softirq(q.nr); }
        void operator()(const tasklet_schedule_req& q) const { q.hi ? tasklet_hi_schedule(q.t) : tasklet_schedule(q.t); }
        void operator()(const queue_work_req& q) const {
            if (q.delay_ns)
                queue_delayed_work(q.dwork, q.delay_ns);
            else
                queue_work_on(q.cpu, &q.dwork->work);
        }
        void operator()(const mod_timer_req& q) const { mod_timer(q.timer, q.expires); }
        void operator()(const del_timer_req& q) const { del_timer(q.timer); }
    };
    std::visit(visitor{}, r);
}

static host_call call_here(const char* kind, int irq = -1) {
    host_call c;
    c.kind = kind;
    c.irq = irq;
    c.cpu = smp_processor_id();
    return c;
}

// ---- the trampolines, one per kind of function pointer ----

static void host_timer_function(timer_list* t) {
    host_timer* h = from_timer(host_timer, t, timer);
    call_host_fn(h->fn, call_here("timer"));
}

static void host_tasklet_callback(tasklet_struct* t) {
    host_tasklet* h = container_of(t, host_tasklet, tasklet);  // from_tasklet
    call_host_fn(h->fn, call_here("tasklet"));
}

static void host_work_func(work_struct* w) {
    host_work* h = container_of(w, host_work, dwork.work);
    call_host_fn(h->fn, call_here("work"));
}

static irqreturn host_irq_handler(int irq, void* dev_id) {
    auto* h = static_cast<host_irq*>(dev_id);
    long r = call_host_fn(h->handler, call_here("irq", irq));
    return r == IRQ_WAKE_THREAD && h->thread_fn ? IRQ_WAKE_THREAD : (r == IRQ_NONE ? IRQ_NONE : IRQ_HANDLED);
}

static irqreturn host_irq_thread_fn(int irq, void* dev_id) {
    auto* h = static_cast<host_irq*>(dev_id);
    call_host_fn(h->thread_fn, call_here("irq_thread", irq));
    return IRQ_HANDLED;
}

static void host_softirq_action(softirq_action* a) {
    Kernel* k = this_kernel;
    int nr = static_cast<int>(a - k->softirq_vec);
    call_host_fn(k->host->softirq[nr], call_here("softirq"));
}

static unsigned host_nf_hookfn(void* priv, sk_buff* skb, const nf_hook_state* state) {
    auto* h = static_cast<host_nf_hook*>(priv);
    host_call c = call_here("nf_hook");
    c.skb = skb;
    c.state = state;
    return call_host_fn(h->fn, c) == NF_DROP ? NF_DROP : NF_ACCEPT;
}

// ---- making them ----

host_timer* host_timer_new(Kernel* k, const std::string& name, std::shared_ptr<host_fn> fn) {
    auto h = std::make_unique<host_timer>();
    h->timer.function = host_timer_function;  // timer_setup
    h->timer.name = name;
    h->fn = std::move(fn);
    k->host->timers.push_back(std::move(h));
    return k->host->timers.back().get();
}

host_tasklet* host_tasklet_new(Kernel* k, const std::string& name, std::shared_ptr<host_fn> fn) {
    auto h = std::make_unique<host_tasklet>();
    tasklet_setup(&h->tasklet, host_tasklet_callback);
    h->tasklet.name = name;
    h->fn = std::move(fn);
    k->host->tasklets.push_back(std::move(h));
    return k->host->tasklets.back().get();
}

host_work* host_work_new(Kernel* k, const std::string& name, std::shared_ptr<host_fn> fn) {
    auto h = std::make_unique<host_work>();
    h->dwork.work.func = host_work_func;  // INIT_DELAYED_WORK
    h->dwork.work.name = name;
    h->fn = std::move(fn);
    k->host->works.push_back(std::move(h));
    return k->host->works.back().get();
}

int host_request_irq(Kernel* k, int irq, std::shared_ptr<host_fn> handler, std::shared_ptr<host_fn> thread_fn,
                     unsigned long flags, const std::string& name, void* dev_id) {
    // The kernel sees our host_irq as dev_id: its check that a shared line names a dev_id must
    // be made on the host's.
    if ((flags & IRQF_SHARED) && !dev_id) return -EINVAL;
    auto h = std::make_unique<host_irq>();
    h->irq = irq;
    h->handler = std::move(handler);
    h->thread_fn = std::move(thread_fn);
    h->dev_id = dev_id;
    // The host's dev_id names the registration; the kernel's dev_id is the host_irq itself, so
    // the trampoline finds its host code from it.
    int r = request_threaded_irq(irq, host_irq_handler, h->thread_fn ? host_irq_thread_fn : nullptr, flags, name, h.get());
    if (r == 0) k->host->irqs.push_back(std::move(h));
    return r;
}

int host_free_irq(Kernel* k, int irq, void* dev_id) {
    auto& v = k->host->irqs;
    for (auto it = v.begin(); it != v.end(); ++it) {
        if ((*it)->irq != irq || (*it)->dev_id != dev_id) continue;
        int r = free_irq(irq, it->get());
        // The handler may still be on a copy of the chain being walked: it lives on until teardown.
        k->host->freed_irqs.push_back(std::move(*it));
        v.erase(it);
        return r;
    }
    return free_irq(irq, dev_id);  // not one of ours: free_irq says what is wrong
}

int host_open_softirq(Kernel* k, int nr, std::shared_ptr<host_fn> fn) {
    if (nr < 0 || nr >= NR_SOFTIRQS) return -EINVAL;
    if (k->softirq_vec[nr].action) return -EBUSY;  // the kernel's own action is there
    k->host->softirq[nr] = std::move(fn);
    k->softirq_vec[nr].action = host_softirq_action;  // open_softirq
    return 0;
}

std::shared_ptr<host_nf_hook> host_nf_hook_new(int hooknum, int priority, const std::string& name, std::shared_ptr<host_fn> fn) {
    auto h = std::make_shared<host_nf_hook>();
    h->hook = host_nf_hookfn;
    h->priv = h.get();
    h->hooknum = hooknum;
    h->priority = priority;
    h->name = name;
    h->fn = std::move(fn);
    return h;
}

}  // namespace gk
