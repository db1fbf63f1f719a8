// The kernel's self-check (the simulator's CONFIG_DEBUG_LIST-style invariants): the task list,
// the process tree, the pid hash, the run queues, the per-user process counts, and each CPU's
// interrupt, preemption, timer-wheel and tasklet state agree.
#include <map>
#include <sstream>

#include "glasskernel/linux.h"
#include "glasskernel/net/ip.h"

namespace gk {

#define CHECK(cond, msg)                          \
    do {                                          \
        if (!(cond)) {                            \
            std::ostringstream os_;               \
            os_ << msg;                           \
            return os_.str();                     \
        }                                         \
    } while (0)

std::string Kernel::check() {
    std::map<uid_t, int> nproc;
    for (auto& t : tasks) {
        CHECK(!t.reaped, "pid " << t.pid << " is reaped but still on the task list");
        CHECK(t.self.get() == &t, "pid " << t.pid << ": the kernel holds no reference to it");
        CHECK(find_task_by_vpid_in(this, t.pid) == &t, "pid " << t.pid << " is not found by its pid");
        CHECK(t.real_parent, "pid " << t.pid << " has no parent");
        bool in_parent = false;
        for (auto& c : t.real_parent->children) in_parent = in_parent || &c == &t;
        CHECK(in_parent, "pid " << t.pid << " is missing from its parent's (" << t.real_parent->pid << ") children");
        for (auto& c : t.children)
            CHECK(c.real_parent == &t, "pid " << c.pid << " is in " << t.pid << "'s children but its parent is " << (c.real_parent ? c.real_parent->pid : -1));
        for (int type = PIDTYPE_TGID; type < PIDTYPE_MAX; type++)
            CHECK(t.signal->pids[type], "pid " << t.pid << " has no pid for type " << type);
        if (t.exit_state == EXIT_ZOMBIE) {
            CHECK(!t.on_rq, "zombie " << t.pid << " is on a run queue");
            CHECK(t.flags & PF_EXITING, "zombie " << t.pid << " lacks PF_EXITING");
            CHECK(t.thread.where == kstate::DEAD, "zombie " << t.pid << " still has a kernel stack");
        }
        CHECK(t.exit_state != EXIT_DEAD, "pid " << t.pid << " is EXIT_DEAD but still hashed");
        rq* r = cpu_rq(t.cpu);
        bool is_curr = r->curr == &t;
        if (!t.exit_state && t.__state == TASK_RUNNING && t.thread.where != kstate::DEAD)
            CHECK(t.on_rq || is_curr, "pid " << t.pid << " is TASK_RUNNING but on no run queue");
        if (t.__state != TASK_RUNNING && !is_curr)
            CHECK(!t.on_rq, "pid " << t.pid << " sleeps (" << task_state_letter(&t) << ") but is on a run queue");
        if (t.sched_class == &fair_sched_class)
            CHECK(t.on_rq == (t.se.on_rq ? 1 : 0), "pid " << t.pid << ": on_rq and se.on_rq disagree");
        CHECK(t.cpus_mask & (1ULL << t.cpu) || t.migrate_pending || !t.on_rq, "pid " << t.pid << " is queued on cpu " << t.cpu << " outside its affinity");
        if (!is_curr && t.thread.where != kstate::DEAD && t.thread.where != kstate::NEW)
            CHECK(t.thread_info.preempt_count == 0, "pid " << t.pid << " is switched out with preempt_count " << t.thread_info.preempt_count);
        nproc[t.real_cred->uid]++;
    }
    for (auto& [uid, n] : user_processes)
        CHECK(n == nproc[uid], "user " << uid << " is charged " << n << " processes but has " << nproc[uid]);
    for (auto& [nr, p] : init_pid_ns.idr) {
        CHECK(!p->unused(), "pid " << nr << " is allocated but unused");
        for (auto& t : p->tasks_pid) CHECK(t.thread_pid == p, "pid " << nr << " lists task " << t.pid << " as PID");
        for (auto& t : p->tasks_pgid) CHECK(t.signal->pids[PIDTYPE_PGID] == p, "pgid " << nr << " lists task " << t.pid);
        for (auto& t : p->tasks_sid) CHECK(t.signal->pids[PIDTYPE_SID] == p, "sid " << nr << " lists task " << t.pid);
    }
    for (int c = 0; c < cfg.cpus; c++) {
        rq* r = cpu_rq(c);
        unsigned queued = 0;
        for (auto& t : tasks) queued += t.on_rq && t.cpu == c;
        CHECK(r->nr_running == queued, "cpu " << c << ": nr_running " << r->nr_running << " but " << queued << " tasks are queued");
        unsigned in_tree = static_cast<unsigned>(r->cfs.tasks_timeline.size());
        bool curr_fair = r->cfs.curr && r->cfs.curr->on_rq;
        CHECK(r->cfs.nr_running == in_tree + (curr_fair ? 1 : 0),
              "cpu " << c << ": cfs nr_running " << r->cfs.nr_running << " but the tree holds " << in_tree << (curr_fair ? " + curr" : ""));
        u64 prev = 0;
        bool first = true;
        for (auto& se : r->cfs.tasks_timeline) {
            CHECK(se.task->cpu == c && se.on_rq, "cpu " << c << ": the CFS tree holds pid " << se.task->pid << " which is not queued here");
            CHECK(first || static_cast<s64>(se.vruntime - prev) >= 0, "cpu " << c << ": the CFS tree is out of vruntime order");
            prev = se.vruntime;
            first = false;
        }
        CHECK(r->curr && (r->curr == r->idle || r->curr->on_rq), "cpu " << c << ": curr is neither idle nor runnable");
        unsigned rt = 0;
        for (int prio = 0; prio < MAX_RT_PRIO; prio++) {
            bool bit = r->rt.bitmap[prio / 64] & (1ULL << (prio % 64));
            CHECK(bit == !r->rt.queue[prio].empty(), "cpu " << c << ": rt bitmap bit " << prio << " disagrees with its list");
            for (auto& t : r->rt.queue[prio]) {
                CHECK(t.prio == prio && t.cpu == c && t.on_rq, "cpu " << c << ": rt list " << prio << " holds pid " << t.pid << " wrongly");
                rt++;
            }
        }
        CHECK(rt == r->rt.rt_nr_running, "cpu " << c << ": rt_nr_running " << r->rt.rt_nr_running << " but " << rt << " queued");
        // Interrupt and preemption state.
        task_struct* cur = r->curr;
        int pc = cur->thread_info.preempt_count;
        CHECK(pc >= 0 && (pc & ~(0xff | SOFTIRQ_MASK | HARDIRQ_MASK | NMI_MASK)) == 0, "cpu " << c << ": preempt_count " << pc << " is malformed");
        if (cur->thread.where == kstate::USER)
            CHECK(!irqs_off[c] && pc == 0, "cpu " << c << ": user mode runs with " << (irqs_off[c] ? "interrupts off" : "preempt_count set"));
        CHECK(!per_cpu(__irq_regs, c) || (pc & HARDIRQ_MASK), "cpu " << c << ": irq regs are set outside hardirq context");
        CHECK((per_cpu(softirq_pending, c) >> NR_SOFTIRQS) == 0, "cpu " << c << ": softirq_pending has bits past NR_SOFTIRQS");
        unsigned timers = 0;
        for (auto& v : per_cpu(timer_bases, c).vectors)
            for (auto& tl : v) {
                CHECK(tl.cpu == c, "cpu " << c << ": the timer wheel holds " << tl.name << " of cpu " << tl.cpu);
                timers++;
            }
        CHECK(timers == per_cpu(timer_bases, c).pending, "cpu " << c << ": timer wheel pending " << per_cpu(timer_bases, c).pending << " but " << timers << " queued");
        for (tasklet_struct* tl : {per_cpu(tasklet_vec, c), per_cpu(tasklet_hi_vec, c)})
            for (; tl; tl = tl->next) CHECK(tl->state & TASKLET_STATE_SCHED, "cpu " << c << ": tasklet " << tl->name << " is listed without TASKLET_STATE_SCHED");
    }
    return check_net();
}

// The network stack: every queued buffer is accounted for, each sock's receive memory matches
// its queue, the port tables hold only live, hashed socks, and a sock and its socket agree.
std::string Kernel::check_net() {
    net* n = init_net.get();
    if (!n) return "";
    long queued = 0;
    for (auto& d : n->devices) {
        queued += d->rx_ring.qlen() + d->tx_ring.qlen() + static_cast<long>(d->qdisc.qlen());
        CHECK(d->tx_ring.qlen() <= d->tx_ring_size, d->name << ": the TX ring holds more than its size");
    }
    for (int c = 0; c < cfg.cpus; c++)
        queued += per_cpu(softnet_data, c).input_pkt_queue.qlen() + per_cpu(softnet_data, c).completion_queue.qlen();
    for (auto& q : n->ipfrags) queued += static_cast<long>(q->fragments.size());
    for (auto& ne : n->neigh) {
        queued += ne->arp_queue.qlen();
        CHECK(ne->arp_queue.qlen() == 0 || ne->nud_state == NUD_INCOMPLETE, "neighbour " << ip_str(ne->ip) << " holds packets but is not resolving");
    }
    for (auto& [id, sk] : n->socks) {
        long rmem = 0;
        for (auto& skb : sk->sk_receive_queue.q) {
            rmem += skb.truesize;
            CHECK(skb.sk == sk, "sock " << id << ": a queued buffer belongs to another sock");
        }
        queued += sk->sk_receive_queue.qlen();
        CHECK(rmem == sk->sk_rmem_alloc, "sock " << id << ": sk_rmem_alloc " << sk->sk_rmem_alloc << " but its queue holds " << rmem);
        CHECK(sk->sk_wmem_alloc >= 1 || sk->sk_refcnt == 0, "sock " << id << ": sk_wmem_alloc dropped below its own reference");
        CHECK(sk->sk_refcnt >= 0, "sock " << id << ": negative refcount");
        if (sk->sk_socket) CHECK(sk->sk_socket->sk == sk && !sk->sk_dead, "sock " << id << " and its socket disagree");
        if (sk->hashed) CHECK(sk->sk_refcnt >= 1, "sock " << id << " is hashed without a reference");
    }
    for (auto& [port, sk] : n->udp_table) {
        CHECK(n->socks.count(sk->sk_id) && sk->hashed && sk->inet_num == port, "the UDP table holds a stale sock on port " << port);
    }
    for (inet_sock* sk : n->raw_table) CHECK(n->socks.count(sk->sk_id) && sk->hashed, "the raw table holds a stale sock");
    CHECK(queued <= n->live_skbs, "more buffers queued (" << queued << ") than allocated (" << n->live_skbs << ")");
    return "";
}

}  // namespace gk
