// Models include/linux/interrupt.h, irqdesc.h, irq.h and hardirq.h/preempt.h (v6.1): irq_desc with its
// irqaction chain and irq_chip, request_irq/free_irq, preempt_count's fields, softirqs and
// tasklets.
#pragma once
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "glasskernel/types.h"

namespace gk {

class Kernel;
struct task_struct;

// preempt_count: PREEMPT (bits 0-7), SOFTIRQ (8-15), HARDIRQ (16-19), NMI (20-23).
constexpr int PREEMPT_OFFSET = 1 << 0;
constexpr int SOFTIRQ_OFFSET = 1 << 8;
constexpr int SOFTIRQ_DISABLE_OFFSET = 2 * SOFTIRQ_OFFSET;
constexpr int HARDIRQ_OFFSET = 1 << 16;
constexpr int NMI_OFFSET = 1 << 20;
constexpr int SOFTIRQ_MASK = 0xff00, HARDIRQ_MASK = 0xf0000, NMI_MASK = 0xf00000;
bool in_interrupt();
bool in_softirq();
bool in_serving_softirq();
bool in_hardirq();
bool in_atomic();

enum irqreturn { IRQ_NONE = 0, IRQ_HANDLED = 1, IRQ_WAKE_THREAD = 2 };
enum : unsigned long { IRQF_SHARED = 0x00000080, IRQF_ONESHOT = 0x00002000 };
constexpr int NR_IRQS = 32;

using irq_handler_t = irqreturn (*)(int irq, void* dev_id);

struct irqaction {
    irq_handler_t handler = nullptr;    // the top half, in hardirq context
    void* dev_id = nullptr;
    irq_handler_t thread_fn = nullptr;  // threaded: the rest, in the irq/N-name kernel thread
    task_struct* thread = nullptr;
    bool run_thread = false;                                 // IRQTF_RUNTHREAD
    int irq = 0;
    u64 thread_runs = 0;
    unsigned long flags = 0;
    std::string name;
    u64 count = 0;
};

struct irq_chip {
    const char* name;
    void (*irq_mask)(struct irq_desc*);
    void (*irq_unmask)(struct irq_desc*);
    void (*irq_ack)(struct irq_desc*);
    void (*irq_eoi)(struct irq_desc*);
};

struct irq_desc {
    int irq = 0;
    const irq_chip* chip = nullptr;
    // The chain (more than one only if IRQF_SHARED). Handlers run from a copy of the chain, so
    // one may be freed meanwhile without pulling the list from under the loop (Linux's
    // synchronize_irq waits for running handlers instead).
    std::vector<std::shared_ptr<irqaction>> action;
    int depth = 0;              // disable_irq() nesting
    bool masked = false;
    std::vector<u64> kstat_irqs;  // per CPU
    u64 irq_count = 0;
    u64 irqs_unhandled = 0;     // spurious-interrupt accounting (note_interrupt)
    std::string name = "edge";
    int affinity = 0;           // the CPU its interrupts go to (/proc/irq/N/smp_affinity, one CPU)
};

enum { HI_SOFTIRQ = 0, TIMER_SOFTIRQ, NET_TX_SOFTIRQ, NET_RX_SOFTIRQ, BLOCK_SOFTIRQ, IRQ_POLL_SOFTIRQ,
       TASKLET_SOFTIRQ, SCHED_SOFTIRQ, HRTIMER_SOFTIRQ, RCU_SOFTIRQ, NR_SOFTIRQS };
extern const char* const softirq_to_name[NR_SOFTIRQS];

struct softirq_action {
    void (*action)(softirq_action*) = nullptr;
};

enum : unsigned long { TASKLET_STATE_SCHED = 1, TASKLET_STATE_RUN = 2 };
// Since v5.9 a tasklet's function may take the tasklet itself (use_callback; from_tasklet()
// finds the enclosing struct) instead of an unsigned long.
struct tasklet_struct {
    tasklet_struct* next = nullptr;
    unsigned long state = 0;
    int count = 0;  // disable count
    bool use_callback = false;
    void (*func)(unsigned long) = nullptr;
    void (*callback)(tasklet_struct*) = nullptr;
    unsigned long data = 0;
    std::string name;  // the simulator's label for traces and views
    u64 runs = 0;
};
void tasklet_setup(tasklet_struct* t, void (*callback)(tasklet_struct*));

// A device raising its line at a virtual time, on a CPU.
struct irq_event {
    u64 when;
    int irq;
};

int request_threaded_irq(int irq, irq_handler_t handler, irq_handler_t thread_fn, unsigned long flags, const std::string& name,
                         void* dev_id);
// request_irq is request_threaded_irq without a thread, an inline in Linux too.
inline int request_irq(int irq, irq_handler_t handler, unsigned long flags, const std::string& name, void* dev_id) {
    return request_threaded_irq(irq, handler, nullptr, flags, name, dev_id);
}
int free_irq(int irq, void* dev_id);
int irq_set_affinity(int irq, int cpu);
void disable_irq(int irq);
void enable_irq(int irq);
void common_interrupt(int irq);
void local_bh_disable();
void __local_bh_enable_ip(unsigned long ip, unsigned cnt);
inline void local_bh_enable() { __local_bh_enable_ip(0, SOFTIRQ_DISABLE_OFFSET); }
void open_softirq(int nr, void (*action)(softirq_action*));
void raise_softirq(int nr);
void raise_softirq_irqoff(int nr);
void __do_softirq();
void do_softirq();
void irq_exit_rcu();
void tasklet_schedule(tasklet_struct* t);
void tasklet_hi_schedule(tasklet_struct* t);
void tasklet_kill(tasklet_struct* t);
void tasklet_disable(tasklet_struct* t);
void tasklet_enable(tasklet_struct* t);
void handle_pending_interrupts(bool from_user = false);
struct pt_regs;
pt_regs* irqentry_enter(int vector, pt_regs* kernel_frame);
void irqentry_exit(pt_regs* old_irq_regs);
pt_regs* get_irq_regs();
void softirq_init(Kernel* k);

}  // namespace gk
