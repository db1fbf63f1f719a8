// The kernel's self-check (the simulator's CONFIG_DEBUG_LIST-style invariants): the task list,
// the process tree, the pid hash, the run queues, the per-user process counts, and each CPU's
// interrupt, preemption, timer-wheel and tasklet state agree.
#include <cstring>
#include <map>
#include <set>
#include <sstream>

#include "glasskernel/linux.h"
#include "glasskernel/net/tcp.h"
#include "glasskernel/pipe_fs_i.h"
#include "kernel/sched/sched.h"

namespace gk {

#define CHECK(cond, msg)                          \
    do {                                          \
        if (!(cond)) {                            \
            std::ostringstream os_;               \
            os_ << msg;                           \
            return os_.str();                     \
        }                                         \
    } while (0)

// The self-check may run while the kernel is stopped inside a function (k.step(), a breakpoint,
// or a breakpoint's predicate). The stopped task's call chain is still open then, in the middle
// of changes that Linux makes under a lock (the run queue's, tasklist_lock) and that no other CPU
// could see half done: a task going to sleep is off its queue while still its CPU's curr, an
// exiting task runs on as a zombie until its last schedule(), a reaped one is half unhashed.
// The check accepts such a state only where the stopped chain is making it.
struct stopped_chain {
    const task_struct* task = nullptr;  // whose fiber is suspended mid-function; none between steps
    const trace_event* ev = nullptr;    // where: a function's entry or a tracepoint

    // fn is open on the stopped chain.
    bool in(const char* fn) const {
        if (!task) return false;
        for (const char* f : task->thread.kstack)
            if (!std::strcmp(f, fn)) return true;
        return false;
    }
    // The chain is stopped at fn's entry (or at the tracepoint fn).
    bool at(const char* fn) const { return task && ev->name && !std::strcmp(ev->name, fn); }
};

// Whether p's scheduling class holds it: in the CFS tree or its curr (se.on_rq), or on an RT list.
static bool class_holds(const task_struct& p) {
    if (p.sched_class == &fair_sched_class) return p.se.on_rq;
    if (p.sched_class == &rt_sched_class) return static_cast<const run_list_hook&>(p).is_linked();
    return false;
}

// Whether p is in its run queue's nr_running: activate_task put it there and deactivate_task has
// not finished taking it off (while dequeue_task runs, on_rq is already cleared but the class
// still holds it).
static bool counted_in_nr_running(const task_struct& p) { return p.on_rq == TASK_ON_RQ_QUEUED || class_holds(p); }

std::string Kernel::check() {
    stopped_chain chain;
    if (stop.task) {
        chain.task = stop.task.get();
        chain.ev = &stop.ev;
    }
    // At most one task may be between its queue and its class: the one enqueue_task or
    // dequeue_task is moving.
    bool moving_seen = false;
    // The scheduler's view of one task: a task on the task list, or one that released itself and
    // runs on to its last schedule() (dead_task).
    auto check_sched = [&](const task_struct& t) -> std::string {
        rq* r = cpu_rq(t.cpu);
        bool is_curr = r->curr == &t;
        bool held = class_holds(t);
        bool queued = t.on_rq == TASK_ON_RQ_QUEUED;
        if (t.exit_state) {
            // An exiting task stays its CPU's task, TASK_RUNNING, until do_task_dead(); its last
            // __schedule() takes it off the queue and switches away, and then its kernel stack
            // is freed (finish_task_switch's put_task_stack in Linux; the fiber's end here).
            const char* what = t.exit_state == EXIT_ZOMBIE ? "zombie " : "dead task ";
            bool last_schedule = chain.task == &t && t.__state == TASK_DEAD && chain.in("__schedule");
            bool exiting = t.__state == TASK_RUNNING && t.thread.where == kstate::KERNEL;
            if (t.on_rq) CHECK(exiting || (last_schedule && is_curr), what << t.pid << " is on a run queue");
            if (t.thread.where == kstate::DEAD)
                CHECK(t.__state == TASK_DEAD, what << t.pid << " has left its kernel stack but is not TASK_DEAD");
            else
                CHECK(exiting || last_schedule, what << t.pid << " still has a kernel stack");
        }
        if (t.on_rq == TASK_ON_RQ_MIGRATING)
            CHECK(chain.at("dequeue_task") || chain.at("sched_migrate_task") || chain.at("enqueue_task"),
                  "pid " << t.pid << " is TASK_ON_RQ_MIGRATING outside move_queued_task");
        else
            CHECK(t.on_rq == 0 || queued, "pid " << t.pid << " has on_rq " << t.on_rq);
        if (held != queued) {
            // dequeue_task runs after deactivate_task cleared on_rq (0 for a sleep, MIGRATING for
            // a move); enqueue_task in __sched_setscheduler puts back a task whose on_rq stayed
            // set while it changed class (Linux's DEQUEUE_SAVE / ENQUEUE_RESTORE).
            bool moving = !moving_seen && ((held && chain.at("dequeue_task")) ||
                                           (queued && chain.at("enqueue_task") && chain.in("__sched_setscheduler")));
            CHECK(moving, "pid " << t.pid << ": on_rq " << t.on_rq << " but its class " << (held ? "holds" : "does not hold") << " it");
            moving_seen = true;
        }
        if (t.__state == TASK_RUNNING && t.thread.where != kstate::DEAD) {
            // wake_up_new_task sets TASK_RUNNING, then activate_task queues the child.
            bool waking_new = t.thread.where == kstate::NEW && chain.at("enqueue_task") && chain.in("wake_up_new_task");
            CHECK(t.on_rq || is_curr || waking_new, "pid " << t.pid << " is TASK_RUNNING but on no run queue");
        }
        if (t.__state != TASK_RUNNING && !is_curr)
            CHECK(!t.on_rq, "pid " << t.pid << " sleeps (" << task_state_to_char(&t) << ") but is on a run queue");
        CHECK(t.cpus_mask & (1ULL << t.cpu) || t.migrate_pending || !queued, "pid " << t.pid << " is queued on cpu " << t.cpu << " outside its affinity");
        if (!is_curr && t.thread.where != kstate::DEAD && t.thread.where != kstate::NEW)
            CHECK(t.thread_info.preempt_count == 0, "pid " << t.pid << " is switched out with preempt_count " << t.thread_info.preempt_count);
        return "";
    };

    std::map<uid_t, int> nproc;
    for (auto& t : tasks) {
        CHECK(!t.reaped, "pid " << t.pid << " is reaped but still on the task list");
        CHECK(t.self.get() == &t, "pid " << t.pid << ": the kernel holds no reference to it");
        // EXIT_DEAD: its reaper (wait_task_zombie, or exit_notify for an autoreaped task and the
        // zombies it hands to init) is about to release it, and release_task unhashes it.
        if (t.exit_state == EXIT_DEAD)
            CHECK(chain.in("wait_task_zombie") || chain.in("exit_notify"), "pid " << t.pid << " is EXIT_DEAD but still hashed");
        bool unhashing = t.exit_state == EXIT_DEAD && chain.in("release_task");
        CHECK(find_task_by_vpid_in(this, t.pid) == &t || unhashing, "pid " << t.pid << " is not found by its pid");
        CHECK(t.real_parent, "pid " << t.pid << " has no parent");
        bool in_parent = false;
        for (auto& c : t.real_parent->children) in_parent = in_parent || &c == &t;
        CHECK(in_parent, "pid " << t.pid << " is missing from its parent's (" << t.real_parent->pid << ") children");
        for (auto& c : t.children)
            CHECK(c.real_parent == &t, "pid " << c.pid << " is in " << t.pid << "'s children but its parent is " << (c.real_parent ? c.real_parent->pid : -1));
        for (int type = PIDTYPE_TGID; type < PIDTYPE_MAX; type++)
            CHECK(t.signal->pids[type], "pid " << t.pid << " has no pid for type " << type);
        if (t.exit_state == EXIT_ZOMBIE) CHECK(t.flags & PF_EXITING, "zombie " << t.pid << " lacks PF_EXITING");
        std::string e = check_sched(t);
        if (!e.empty()) return e;
        nproc[t.real_cred->uid]++;
    }
    if (dead_task) {
        const task_struct& t = *dead_task;
        CHECK(t.reaped && t.exit_state == EXIT_DEAD && !static_cast<const tasks_hook&>(t).is_linked(),
              "pid " << t.pid << " is held as released but is not");
        std::string e = check_sched(t);
        if (!e.empty()) return e;
    }
    // release_task uncharges the user first, then unhashes the task: while the stopped chain is
    // releasing one, its user may be charged one process fewer than the task list shows.
    for (auto& [uid, n] : user_processes) {
        bool releasing = false;
        if (chain.in("release_task"))
            for (auto& t : tasks) releasing = releasing || (t.exit_state == EXIT_DEAD && t.real_cred->uid == uid);
        CHECK(n == nproc[uid] || (releasing && n == nproc[uid] - 1), "user " << uid << " is charged " << n << " processes but has " << nproc[uid]);
    }
    // At most one pid may be unused while still allocated: the one free_pid is freeing.
    bool freeing_seen = false;
    for (auto& [nr, p] : init_pid_ns.idr) {
        if (p->unused()) {
            CHECK(!freeing_seen && chain.at("free_pid"), "pid " << nr << " is allocated but unused");
            freeing_seen = true;
        }
        for (auto& t : p->tasks_pid) CHECK(t.thread_pid == p, "pid " << nr << " lists task " << t.pid << " as PID");
        for (auto& t : p->tasks_pgid) CHECK(t.signal->pids[PIDTYPE_PGID] == p, "pgid " << nr << " lists task " << t.pid);
        for (auto& t : p->tasks_sid) CHECK(t.signal->pids[PIDTYPE_SID] == p, "sid " << nr << " lists task " << t.pid);
    }
    for (int c = 0; c < cfg.cpus; c++) {
        rq* r = cpu_rq(c);
        unsigned queued = 0;
        for (auto& t : tasks) queued += t.cpu == c && counted_in_nr_running(t);
        if (dead_task) queued += dead_task->cpu == c && counted_in_nr_running(*dead_task);
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
        // __schedule() has taken prev off the queue (it sleeps or is dead) and not yet made next
        // the curr.
        bool switching = r->curr == chain.task && chain.in("__schedule");
        CHECK(r->curr && (r->curr == r->idle || r->curr->on_rq || switching), "cpu " << c << ": curr is neither idle nor runnable");
        CHECK(r->curr == r->idle || static_cast<const tasks_hook&>(*r->curr).is_linked() || r->curr == dead_task.get(),
              "cpu " << c << ": curr (pid " << r->curr->pid << ") is neither hashed nor a task that released itself");
        unsigned rt = 0;
        for (int prio = 0; prio < MAX_RT_PRIO; prio++) {
            bool bit = r->rt.bitmap[prio / 64] & (1ULL << (prio % 64));
            CHECK(bit == !r->rt.queue[prio].empty(), "cpu " << c << ": rt bitmap bit " << prio << " disagrees with its list");
            for (auto& t : r->rt.queue[prio]) {
                CHECK(t.prio == prio && t.cpu == c, "cpu " << c << ": rt list " << prio << " holds pid " << t.pid << " wrongly");
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
    std::string pipes = check_files();
    if (!pipes.empty()) return pipes;
    return check_net();
}

// Descriptor tables and pipes: every pipe a table reaches is live, and no more of its ends are
// open in tables than the pipe counts (a call in progress may hold one more).
std::string Kernel::check_files() {
    std::string bad = pipe_check(this);
    if (!bad.empty()) return bad;
    std::set<const file*> seen;
    std::map<pipe_inode_info*, std::pair<unsigned, unsigned>> ends;
    std::set<const files_struct*> tables;
    for (task_struct& t : tasks) {
        if (!t.files || !tables.insert(t.files.get()).second) continue;
        for (const fdentry& e : t.files->fdt) {
            if (!e.f || !seen.insert(e.f.get()).second) continue;
            pipe_inode_info* pipe = get_pipe_info(e.f.get());
            if (!pipe) continue;
            if (!pipes.count(pipe->i_ino) || pipes[pipe->i_ino] != pipe) return "a descriptor table holds a pipe that was freed";
            unsigned mode = e.f->f_flags & O_ACCMODE;
            if (mode != O_WRONLY) ends[pipe].first++;
            if (mode != O_RDONLY) ends[pipe].second++;
        }
    }
    for (auto& [pipe, n] : ends)
        if (n.first > pipe->readers || n.second > pipe->writers)
            return "pipe:[" + std::to_string(pipe->i_ino) + "]: " + std::to_string(n.first) + " read and " + std::to_string(n.second) +
                   " write ends in descriptor tables, but readers=" + std::to_string(pipe->readers) + " writers=" + std::to_string(pipe->writers);
    return "";
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
        queued += sk->sk_receive_queue.qlen() + sk->sk_backlog.qlen() + sk->sk_write_queue.qlen();
        if (auto* tp = dynamic_cast<tcp_sock*>(sk)) {  // out-of-order data is charged to the receive buffer too
            for (auto& skb : tp->out_of_order_queue.q) rmem += skb.truesize;
            queued += tp->out_of_order_queue.qlen() + tp->tcp_rtx_queue.qlen();
        }
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
    return tcp_check(n);
}

}  // namespace gk
