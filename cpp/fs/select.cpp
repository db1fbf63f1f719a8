// Models fs/select.c (v6.1): poll(2) (do_sys_poll → do_poll → do_pollfd → vfs_poll) and
// select(2) (kern_select → core_sys_select → do_select). The first pass over the descriptors
// hangs a poll_table_entry, woken through pollwake, on every wait queue each file's ->poll names
// (__pollwait); the task then sleeps until one of them is woken or the time runs out, and polls
// every file again. A pass that finds something ready registers nothing more.
#include <deque>

#include "glasskernel/eventpoll.h"
#include "glasskernel/hrtimer.h"
#include "glasskernel/syscalls.h"
#include "glasskernel/time64.h"
#include "glasskernel/timekeeping.h"

namespace gk {

long schedule_hrtimeout(u64 expires_abs, unsigned state);

struct poll_wqueues;

// One wait queue a polled file may be woken through (include/linux/poll.h).
struct poll_table_entry {
    file* filp = nullptr;
    unsigned key = 0;  // the events this descriptor asked for
    wait_queue_entry wait;
    wait_queue_head* wait_address = nullptr;
    poll_wqueues* pwq = nullptr;
};

// Where the entries live (Linux: pages of them): a deque, since a linked entry must never move;
// and a reference on each file an entry waits on (get_file), which a close cannot drop.
struct poll_table_page {
    std::deque<poll_table_entry> entries;
    std::vector<std::shared_ptr<file>> held;
};

// The sleeper's side of one poll() or select(): its entries, and whether any was woken.
struct poll_wqueues {
    poll_table pt;
    poll_table_page* table = nullptr;
    task_struct* polling_task = nullptr;
    bool triggered = false;
    int error = 0;
};

static int pollwake(wait_queue_entry* wait, unsigned mode, int sync, void* key) {
    poll_table_entry* entry = container_of(wait, poll_table_entry, wait);
    unsigned events = static_cast<unsigned>(reinterpret_cast<unsigned long>(key));
    if (events && !(events & entry->key)) return 0;  // not what this descriptor waits for
    trace_scope ts("pollwake");
    // __pollwake: the flag is set before the wake-up, so a task that has not yet slept sees it
    // in poll_schedule_timeout and does not sleep at all.
    entry->pwq->triggered = true;
    return ts.ret(default_wake_function(wait, mode, sync, key));
}
WAKE_FUNCTION_NAME(pollwake);

static void __pollwait(file* filp, wait_queue_head* wait_address, poll_table* p) {
    poll_wqueues* pwq = container_of(p, poll_wqueues, pt);
    poll_table_entry& entry = pwq->table->entries.emplace_back();
    entry.filp = filp;
    entry.key = p->key;
    entry.wait_address = wait_address;
    entry.pwq = pwq;
    entry.wait.flags = 0;
    entry.wait.private_ = pwq->polling_task;
    entry.wait.func = pollwake;
    add_wait_queue(wait_address, &entry.wait);
}

static void poll_initwait(poll_wqueues* pwq, poll_table_page* table) {
    pwq->table = table;
    pwq->pt.qproc = __pollwait;
    pwq->pt.key = ~0u;
    pwq->polling_task = current;
    pwq->triggered = false;
    pwq->error = 0;
}

static void poll_freewait(poll_wqueues* pwq) {
    for (poll_table_entry& e : pwq->table->entries) remove_wait_queue(e.wait_address, &e.wait);
    pwq->table->entries.clear();
    pwq->table->held.clear();
}

// Sleep unless a wake-up already came; false when the time ran out.
static bool poll_schedule_timeout(poll_wqueues* pwq, unsigned state, u64 expires) {
    trace_scope ts("poll_schedule_timeout");
    long rc = -EINTR;
    set_current_state(state);
    if (!pwq->triggered) rc = schedule_hrtimeout(expires, state);
    __set_current_state(TASK_RUNNING);
    pwq->triggered = false;
    return ts.ret(rc != 0);
}

// What the file has ready; a file with no ->poll is always ready to read and write.
static unsigned vfs_poll(file* f, poll_table* pt) {
    constexpr unsigned DEFAULT_POLLMASK = EPOLLIN | EPOLLOUT | EPOLLRDNORM | EPOLLWRNORM;
    if (!f->f_op->poll) return DEFAULT_POLLMASK;
    return f->f_op->poll(f, pt);
}

// The file behind fd for one pass, kept alive (get_file) while an entry on the first pass
// may still wait on its queues.
static std::shared_ptr<file> poll_fget(poll_wqueues* pwq, int fd) {
    std::shared_ptr<file> f = fd < 0 ? nullptr : fget(current->files.get(), static_cast<unsigned>(fd));
    if (f && pwq->pt.qproc) pwq->table->held.push_back(f);
    return f;
}

// ---- poll ----

static unsigned do_pollfd(pollfd* pfd, poll_wqueues* pwq) {
    unsigned mask = 0;
    if (pfd->fd >= 0) {
        mask = EPOLLNVAL;
        if (std::shared_ptr<file> f = poll_fget(pwq, pfd->fd)) {
            unsigned filter = static_cast<unsigned short>(pfd->events) | EPOLLERR | EPOLLHUP;
            pwq->pt.key = filter;
            mask = vfs_poll(f.get(), &pwq->pt) & filter;
        }
    }
    pfd->revents = static_cast<short>(mask);
    return mask;
}

// end_time: nullptr waits for ever; 0 does not wait.
static int do_poll(std::vector<pollfd>& fds, poll_wqueues* wait, const u64* end_time) {
    trace_scope ts("do_poll", "nfds=%zu", fds.size());
    bool timed_out = false;
    int count = 0;
    if (end_time && !*end_time) {
        wait->pt.qproc = nullptr;
        timed_out = true;
    }
    for (;;) {
        for (pollfd& pfd : fds)
            if (do_pollfd(&pfd, wait)) {
                count++;
                wait->pt.qproc = nullptr;  // we will not sleep: register nothing more
            }
        wait->pt.qproc = nullptr;  // every queue is hooked after the first pass
        if (!count) {
            count = wait->error;
            if (signal_pending(current)) count = -ERESTARTNOHAND;
        }
        if (count || timed_out) break;
        if (!poll_schedule_timeout(wait, TASK_INTERRUPTIBLE, end_time ? *end_time : KTIME_MAX)) timed_out = true;
    }
    return ts.ret(count);
}

static int do_sys_poll(pollfd __user* ufds, unsigned nfds, const u64* end_time) {
    trace_scope ts("do_sys_poll", "nfds=%u", nfds);
    if (nfds > task_rlimit(current, RLIMIT_NOFILE)) return ts.ret(-EINVAL);
    std::vector<pollfd> fds(nfds);
    if (nfds && copy_from_user(fds.data(), ufds, nfds * sizeof(pollfd))) return ts.ret(-EFAULT);
    poll_table_page entries;
    poll_wqueues table;
    poll_initwait(&table, &entries);
    int fdcount = do_poll(fds, &table, end_time);
    poll_freewait(&table);
    for (unsigned i = 0; i < nfds; i++)
        if (put_user(fds[i].revents, &ufds[i].revents)) return ts.ret(-EFAULT);
    return ts.ret(fdcount);
}

// An absolute end time from a relative one; 0 stays 0 ("do not wait"). EINVAL if invalid.
static int poll_select_set_timeout(u64* to, long long sec, long long nsec) {
    __kernel_timespec ts{sec, nsec};
    if (!timespec64_valid(&ts)) return -EINVAL;
    if (!sec && !nsec)
        *to = 0;
    else
        *to = ktime_add_safe(ktime_get(), timespec64_to_ns(&ts));
    return 0;
}

// A poll interrupted by a signal with no handler sleeps on to the same end time.
static long do_restart_poll(restart_block* rb) {
    trace_scope ts("do_restart_poll");
    u64 end_time = rb->expires;
    int ret = do_sys_poll(static_cast<pollfd __user*>(rb->ufds), rb->nfds, rb->has_timeout ? &end_time : nullptr);
    if (ret == -ERESTARTNOHAND) {
        rb->fn = do_restart_poll;
        return ts.ret(-ERESTART_RESTARTBLOCK);
    }
    return ts.ret(ret);
}

SYSCALL_DEFINE3(poll, struct pollfd __user *, ufds, unsigned int, nfds, int, timeout_msecs) {
    u64 end_time = 0, *to = nullptr;
    if (timeout_msecs >= 0) {
        to = &end_time;
        poll_select_set_timeout(to, timeout_msecs / 1000, static_cast<long long>(NSEC_PER_MSEC) * (timeout_msecs % 1000));
    }
    int ret = do_sys_poll(ufds, nfds, to);
    if (ret == -ERESTARTNOHAND) {
        restart_block* rb = &current->restart_block;
        rb->ufds = ufds;
        rb->nfds = nfds;
        rb->has_timeout = to != nullptr;
        rb->expires = end_time;
        rb->fn = do_restart_poll;
        return -ERESTART_RESTARTBLOCK;
    }
    return ret;
}

// ---- select ----

constexpr int BITS_PER_LONG = 64;
// A descriptor closed while select() runs (EPOLLNVAL) counts as ready in every set it is in.
constexpr unsigned POLLIN_SET = EPOLLRDNORM | EPOLLRDBAND | EPOLLIN | EPOLLHUP | EPOLLERR | EPOLLNVAL;
constexpr unsigned POLLOUT_SET = EPOLLWRBAND | EPOLLWRNORM | EPOLLOUT | EPOLLERR | EPOLLNVAL;
constexpr unsigned POLLEX_SET = EPOLLPRI | EPOLLNVAL;

// The three sets the caller gave and the three the call returns, a long per 64 descriptors.
struct fd_set_bits {
    std::vector<unsigned long> in, out, ex, res_in, res_out, res_ex;
};

static size_t fds_longs(int n) { return (static_cast<size_t>(n) + BITS_PER_LONG - 1) / BITS_PER_LONG; }
static bool test_fd(const std::vector<unsigned long>& set, int fd) { return set[fd / BITS_PER_LONG] >> (fd % BITS_PER_LONG) & 1; }

// The table's capacity (fdt->max_fds): 64 descriptors, doubled as the table grows. select()
// looks no further than this, whatever n says.
static int max_fds(const files_struct* files) {
    size_t n = BITS_PER_LONG;
    while (n < files->fdt.size()) n *= 2;
    return static_cast<int>(n);
}

// One past the highest descriptor in any set; EBADF if any named descriptor is not open.
static int max_select_fd(int n, const fd_set_bits& fds) {
    files_struct* files = current->files.get();
    int max = 0;
    for (int fd = 0; fd < n; fd++) {
        if (!test_fd(fds.in, fd) && !test_fd(fds.out, fd) && !test_fd(fds.ex, fd)) continue;
        if (static_cast<size_t>(fd) >= files->fdt.size() || !files->fdt[static_cast<size_t>(fd)].f) return -EBADF;
        max = fd + 1;
    }
    return max;
}

static int do_select(int n, fd_set_bits* fds, const u64* end_time) {
    trace_scope ts("do_select", "n=%d", n);
    int retval = max_select_fd(n, *fds);
    if (retval < 0) return ts.ret(retval);
    n = retval;
    poll_table_page entries;
    poll_wqueues table;
    poll_initwait(&table, &entries);
    bool timed_out = false;
    if (end_time && !*end_time) {
        table.pt.qproc = nullptr;
        timed_out = true;
    }
    retval = 0;
    for (;;) {
        for (int fd = 0; fd < n; fd++) {
            bool in = test_fd(fds->in, fd), out = test_fd(fds->out, fd), ex = test_fd(fds->ex, fd);
            if (!in && !out && !ex) continue;
            unsigned mask = EPOLLNVAL;
            if (std::shared_ptr<file> f = poll_fget(&table, fd)) {
                table.pt.key = POLLEX_SET | (in ? POLLIN_SET : 0) | (out ? POLLOUT_SET : 0);  // wait_key_set
                mask = vfs_poll(f.get(), &table.pt);
            }
            unsigned long bit = 1UL << (fd % BITS_PER_LONG);
            size_t w = static_cast<size_t>(fd / BITS_PER_LONG);
            if ((mask & POLLIN_SET) && in) { fds->res_in[w] |= bit; retval++; table.pt.qproc = nullptr; }
            if ((mask & POLLOUT_SET) && out) { fds->res_out[w] |= bit; retval++; table.pt.qproc = nullptr; }
            if ((mask & POLLEX_SET) && ex) { fds->res_ex[w] |= bit; retval++; table.pt.qproc = nullptr; }
        }
        table.pt.qproc = nullptr;
        if (retval || timed_out || signal_pending(current)) break;
        if (table.error) {
            retval = table.error;
            break;
        }
        if (!poll_schedule_timeout(&table, TASK_INTERRUPTIBLE, end_time ? *end_time : KTIME_MAX)) timed_out = true;
    }
    poll_freewait(&table);
    return ts.ret(retval);
}

// Only the longs that hold descriptors below n are read and written back.
static int get_fd_set(int n, unsigned long __user* ufdset, std::vector<unsigned long>* set) {
    set->assign(fds_longs(n), 0);
    if (ufdset && n && copy_from_user(set->data(), ufdset, set->size() * sizeof(unsigned long))) return -EFAULT;
    return 0;
}
static int set_fd_set(int n, unsigned long __user* ufdset, const std::vector<unsigned long>& set) {
    if (ufdset && n && copy_to_user(ufdset, set.data(), fds_longs(n) * sizeof(unsigned long))) return -EFAULT;
    return 0;
}

static int core_sys_select(int n, fd_set __user* inp, fd_set __user* outp, fd_set __user* exp, const u64* end_time) {
    trace_scope ts("core_sys_select", "n=%d", n);
    if (n < 0) return ts.ret(-EINVAL);
    n = std::min(n, max_fds(current->files.get()));
    fd_set_bits fds;
    auto* in = reinterpret_cast<unsigned long __user*>(inp);
    auto* out = reinterpret_cast<unsigned long __user*>(outp);
    auto* ex = reinterpret_cast<unsigned long __user*>(exp);
    int ret;
    if ((ret = get_fd_set(n, in, &fds.in)) || (ret = get_fd_set(n, out, &fds.out)) || (ret = get_fd_set(n, ex, &fds.ex)))
        return ts.ret(ret);
    fds.res_in.assign(fds_longs(n), 0);
    fds.res_out.assign(fds_longs(n), 0);
    fds.res_ex.assign(fds_longs(n), 0);
    ret = do_select(n, &fds, end_time);
    if (ret < 0) return ts.ret(ret);
    if (!ret && signal_pending(current)) return ts.ret(-ERESTARTNOHAND);
    if (set_fd_set(n, in, fds.res_in) || set_fd_set(n, out, fds.res_out) || set_fd_set(n, ex, fds.res_ex)) return ts.ret(-EFAULT);
    return ts.ret(ret);
}

// select() tells the caller how much of its timeout is left, in the timeval it passed (a Linux
// habit other systems do not share). If that fails, the call is not restarted: EINTR.
static int poll_select_finish(const u64* end_time, __kernel_old_timeval __user* p, int ret) {
    if (!p || !*end_time) return ret;
    u64 now = ktime_get();
    __kernel_old_timeval rtv = ns_to_kernel_old_timeval(*end_time > now ? *end_time - now : 0);
    if (!copy_to_user(p, &rtv, sizeof rtv)) return ret;
    if (ret == -ERESTARTNOHAND) ret = -EINTR;
    return ret;
}

static int kern_select(int n, fd_set __user* inp, fd_set __user* outp, fd_set __user* exp, __kernel_old_timeval __user* tvp) {
    trace_scope ts("kern_select", "n=%d", n);
    u64 end_time = 0, *to = nullptr;
    if (tvp) {
        __kernel_old_timeval tv;
        if (copy_from_user(&tv, tvp, sizeof tv)) return ts.ret(-EFAULT);
        to = &end_time;
        long long sec = tv.tv_sec + tv.tv_usec / 1000000, nsec = (tv.tv_usec % 1000000) * 1000LL;
        if (poll_select_set_timeout(to, sec, nsec)) return ts.ret(-EINVAL);
    }
    int ret = core_sys_select(n, inp, outp, exp, to);
    return ts.ret(poll_select_finish(&end_time, tvp, ret));
}

SYSCALL_DEFINE5(select, int, n, fd_set __user *, inp, fd_set __user *, outp, fd_set __user *, exp,
                struct __kernel_old_timeval __user *, tvp) {
    return kern_select(n, inp, outp, exp, tvp);
}

}  // namespace gk
