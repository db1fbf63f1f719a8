// Models fs/eventpoll.c (v6.1): epoll_create1 makes an eventpoll behind a new file; epoll_ctl(ADD)
// puts an epitem in its tree and, through the file's ->poll, hangs an eppoll_entry on every wait
// queue the file can be woken through (ep_ptable_queue_proc); when such a queue is woken (a
// datagram arrives: sock_def_readable), ep_poll_callback moves the item to the ready list and wakes
// the epoll_wait sleepers; ep_send_events re-polls each ready item, reports it, and keeps it ready
// while level-triggered (not EPOLLET), or disables it (EPOLLONESHOT).
#include "glasskernel/eventpoll.h"
#include "glasskernel/syscalls.h"

namespace gk {

static void ep_eventpoll_release(file* f);
static unsigned ep_eventpoll_poll(file* f, poll_table* pt);
static const file_operations eventpoll_fops = {
    .name = "[eventpoll]",
    .read_iter = nullptr,
    .write_iter = nullptr,
    .release = ep_eventpoll_release,
    .poll = ep_eventpoll_poll,
    .llseek = noop_llseek,
};

eventpoll* eventpoll_of(file* f) { return f && f->f_op == &eventpoll_fops ? static_cast<eventpoll*>(f->private_data) : nullptr; }

static epitem* ep_item_from_wait(wait_queue_entry* wait) {
    // container_of(wait, struct eppoll_entry, wait)->base
    eppoll_entry* pwq = container_of(wait, eppoll_entry, wait);
    return pwq->base;
}

static void list_add_ready(epitem* epi) {
    if (epi->on_rdllist) return;
    epi->on_rdllist = true;
    epi->ep->rdllist.push_back(epi);
}

static void list_del_ready(epitem* epi) {
    if (!epi->on_rdllist) return;
    auto& l = epi->ep->rdllist;
    for (auto it = l.begin(); it != l.end(); ++it)
        if (*it == epi) {
            l.erase(it);
            break;
        }
    epi->on_rdllist = false;
}

// Called by __wake_up on the watched file's queue: the key says what happened.
static int ep_poll_callback(wait_queue_entry* wait, unsigned mode, int sync, void* key) {
    (void)mode;
    (void)sync;
    trace_scope ts("ep_poll_callback");
    epitem* epi = ep_item_from_wait(wait);
    unsigned pollflags = static_cast<unsigned>(reinterpret_cast<unsigned long>(key));
    // A disarmed EPOLLONESHOT item, or events nobody asked for: nothing to do.
    if (!(epi->event.events & ~EP_PRIVATE_BITS)) return ts.ret(0);
    if (pollflags && !(pollflags & epi->event.events)) return ts.ret(0);
    epi->wakeups++;
    list_add_ready(epi);
    // An EPOLLEXCLUSIVE item counts as an exclusive waiter woken only if its set has a sleeper
    // and the event is one it asked for: then __wake_up stops there, one set woken per event.
    int ewake = 0;
    if (waitqueue_active(&epi->ep->wq)) {
        if (epi->event.events & EPOLLEXCLUSIVE) {
            switch (pollflags & (EPOLLIN | EPOLLOUT)) {
            case EPOLLIN: ewake = (epi->event.events & EPOLLIN) != 0; break;
            case EPOLLOUT: ewake = (epi->event.events & EPOLLOUT) != 0; break;
            case 0: ewake = 1; break;
            }
        }
        wake_up(&epi->ep->wq);
    }
    if (!(epi->event.events & EPOLLEXCLUSIVE)) ewake = 1;
    return ts.ret(ewake);
}
WAKE_FUNCTION_NAME(ep_poll_callback);

// The poll table ep_insert hands to ->poll, with the item it is for (struct ep_pqueue).
struct ep_pqueue {
    poll_table pt;
    epitem* epi = nullptr;
};

// poll_wait's queue procedure for epoll: one eppoll_entry per wait queue.
static void ep_ptable_queue_proc(file* f, wait_queue_head* whead, poll_table* pt) {
    (void)f;
    epitem* epi = reinterpret_cast<ep_pqueue*>(pt)->epi;  // container_of(pt, struct ep_pqueue, pt)
    auto pwq = std::make_unique<eppoll_entry>();
    init_wait_entry(&pwq->wait, 0);
    pwq->wait.func = ep_poll_callback;
    pwq->whead = whead;
    pwq->base = epi;
    if (epi->event.events & EPOLLEXCLUSIVE)
        add_wait_queue_exclusive(whead, &pwq->wait);
    else
        add_wait_queue(whead, &pwq->wait);
    epi->pwqlist.push_back(std::move(pwq));
}

// ep_item_poll: what the file reports now, restricted to what the item asked for.
static unsigned ep_item_poll(epitem* epi, poll_table* pt) {
    unsigned mask = epi->ffd_file->f_op->poll(epi->ffd_file, pt);
    return mask & (epi->event.events | EPOLLERR | EPOLLHUP);
}

static void ep_unregister_pollwait(epitem* epi) {
    for (auto& pwq : epi->pwqlist) remove_wait_queue(pwq->whead, &pwq->wait);
    epi->pwqlist.clear();
}

static void ep_remove(eventpoll* ep, epitem* epi) {
    trace_scope ts("ep_remove");
    ep_unregister_pollwait(epi);
    list_del_ready(epi);
    auto& fe = epi->ffd_file->f_ep;
    for (auto it = fe.begin(); it != fe.end(); ++it)
        if (*it == epi) {
            fe.erase(it);
            break;
        }
    ep->rbr.erase({epi->ffd_file->f_id, epi->ffd_fd});
}

static int ep_insert(eventpoll* ep, const struct epoll_event& event, file* tfile, int fd) {
    trace_scope ts("ep_insert", "fd=%d events=%#x", fd, event.events);
    auto item = std::make_unique<epitem>();
    epitem* epi = item.get();
    epi->ffd_file = tfile;
    epi->ffd_fd = fd;
    epi->ep = ep;
    epi->event = event;
    ep->rbr[{tfile->f_id, fd}] = std::move(item);
    tfile->f_ep.push_back(epi);
    ep_pqueue epq;
    epq.pt.qproc = ep_ptable_queue_proc;
    epq.pt.key = event.events;
    epq.epi = epi;
    unsigned revents = ep_item_poll(epi, &epq.pt);
    // Already ready: report it at the next epoll_wait.
    if (revents) list_add_ready(epi);
    return ts.ret(0);
}

static int ep_modify(eventpoll* ep, epitem* epi, const struct epoll_event& event) {
    trace_scope ts("ep_modify", "events=%#x", event.events);
    (void)ep;
    epi->event = event;
    if (ep_item_poll(epi, nullptr)) {
        list_add_ready(epi);
        if (waitqueue_active(&ep->wq)) wake_up(&ep->wq);
    }
    return ts.ret(0);
}

// Fill the user's array from the ready list; level-triggered items stay ready. A fault on the
// array puts the item back and reports EFAULT if nothing was delivered.
static int ep_send_events(eventpoll* ep, struct epoll_event __user* events, int maxevents) {
    trace_scope ts("ep_send_events");
    std::vector<epitem*> txlist;
    txlist.swap(ep->rdllist);
    for (epitem* epi : txlist) epi->on_rdllist = false;
    int res = 0;
    size_t i = 0;
    for (; i < txlist.size() && res < maxevents; i++) {
        epitem* epi = txlist[i];
        unsigned revents = ep_item_poll(epi, nullptr);
        if (!revents) continue;  // no longer ready (someone read it meanwhile)
        struct epoll_event uevent{revents, epi->event.data};
        if (copy_to_user(events + res, &uevent, sizeof uevent)) {
            list_add_ready(epi);
            if (!res) res = -EFAULT;
            i++;
            break;
        }
        res++;
        if (epi->event.events & EPOLLONESHOT) epi->event.events &= EP_PRIVATE_BITS;
        else if (!(epi->event.events & EPOLLET)) list_add_ready(epi);
    }
    for (; i < txlist.size(); i++) list_add_ready(txlist[i]);  // beyond maxevents: still ready
    return ts.ret(res);
}

static long ep_poll(eventpoll* ep, struct epoll_event __user* events, int maxevents, long timeout_ms) {
    trace_scope ts("ep_poll", "maxevents=%d timeout=%ld", maxevents, timeout_ms);
    long timeout = timeout_ms < 0 ? MAX_SCHEDULE_TIMEOUT : static_cast<long>(msecs_to_jiffies(static_cast<unsigned>(std::min(timeout_ms, 100000000L))));
    for (;;) {
        if (!ep->rdllist.empty()) {
            int n = ep_send_events(ep, events, maxevents);
            if (n) return ts.ret(n);
            continue;  // every ready item went stale: look again (or sleep)
        }
        if (!timeout || timeout_ms == 0) return ts.ret(0);
        if (signal_pending(current)) return ts.ret(-EINTR);  // epoll_wait is never restarted
        wait_queue_entry wait;
        init_wait_entry(&wait, 0);
        prepare_to_wait_exclusive(&ep->wq, &wait, TASK_INTERRUPTIBLE);
        if (ep->rdllist.empty() && !signal_pending(current)) timeout = schedule_timeout(timeout);
        finish_wait(&ep->wq, &wait);
        if (ep->rdllist.empty() && !signal_pending(current) && !timeout) return ts.ret(0);
    }
}

// The epoll file itself can be watched: readable when events are ready.
static unsigned ep_eventpoll_poll(file* f, poll_table* pt) {
    eventpoll* ep = eventpoll_of(f);
    poll_wait(f, &ep->wq, pt);
    return ep->rdllist.empty() ? 0 : (EPOLLIN | EPOLLRDNORM);
}

// Every watched file leaves the set, then the set goes.
static void ep_free(eventpoll* ep) {
    trace_scope ts("ep_free");
    std::vector<epitem*> items;
    for (auto& [key, epi] : ep->rbr) items.push_back(epi.get());
    for (epitem* epi : items) ep_remove(ep, epi);
    delete ep;
}

// The epoll file's last reference is gone.
static void ep_eventpoll_release(file* f) {
    ep_free(eventpoll_of(f));
    f->private_data = nullptr;
}

// The watched file is going away: it leaves every epoll set that watches it.
void eventpoll_release_file(file* f) {
    trace_scope ts("eventpoll_release_file");
    std::vector<epitem*> items = f->f_ep;
    for (epitem* epi : items) ep_remove(epi->ep, epi);
}

static long do_epoll_create(int flags) {
    trace_scope ts("do_epoll_create", "flags=%#x", flags);
    if (flags & ~static_cast<int>(O_CLOEXEC)) return ts.ret(-EINVAL);
    auto f = std::make_shared<file>();
    auto* ep = new eventpoll();
    ep->self = f.get();
    f->f_op = &eventpoll_fops;
    f->f_flags = O_RDWR | (flags & O_CLOEXEC);
    f->private_data = ep;
    f->name = "anon_inode:[eventpoll]";
    return ts.ret(fd_install_lowest(current->files.get(), f, flags & O_CLOEXEC, task_rlimit(current, RLIMIT_NOFILE)));
}

static bool ep_op_has_event(int op) { return op != EPOLL_CTL_DEL; }

int do_epoll_ctl(int epfd, int op, int fd, struct epoll_event* epds) {
    trace_scope ts("do_epoll_ctl", "epfd=%d op=%d fd=%d", epfd, op, fd);
    files_struct* files = current->files.get();
    std::shared_ptr<file> ef = epfd < 0 ? nullptr : fget(files, static_cast<unsigned>(epfd));
    if (!ef) return ts.ret(-EBADF);
    std::shared_ptr<file> tf = fd < 0 ? nullptr : fget(files, static_cast<unsigned>(fd));
    if (!tf) return ts.ret(-EBADF);
    if (!tf->f_op->poll) return ts.ret(-EPERM);  // the target cannot be polled
    eventpoll* ep = eventpoll_of(ef.get());
    if (!ep || ef == tf) return ts.ret(-EINVAL);
    // Exclusive wake-ups are set up at ADD only, and not for nested epoll sets.
    if (ep_op_has_event(op) && (epds->events & EPOLLEXCLUSIVE)) {
        if (op == EPOLL_CTL_MOD) return ts.ret(-EINVAL);
        if (op == EPOLL_CTL_ADD && (eventpoll_of(tf.get()) || (epds->events & ~EPOLLEXCLUSIVE_OK_BITS))) return ts.ret(-EINVAL);
    }
    auto it = ep->rbr.find({tf->f_id, fd});
    epitem* epi = it == ep->rbr.end() ? nullptr : it->second.get();
    switch (op) {
    case EPOLL_CTL_ADD:
        if (epi) return ts.ret(-EEXIST);
        epds->events |= EPOLLERR | EPOLLHUP;
        return ts.ret(ep_insert(ep, *epds, tf.get(), fd));
    case EPOLL_CTL_DEL:
        if (!epi) return ts.ret(-ENOENT);
        ep_remove(ep, epi);
        return ts.ret(0);
    case EPOLL_CTL_MOD:
        if (!epi) return ts.ret(-ENOENT);
        if (epi->event.events & EPOLLEXCLUSIVE) return ts.ret(-EINVAL);
        epds->events |= EPOLLERR | EPOLLHUP;
        return ts.ret(ep_modify(ep, epi, *epds));
    default:
        return ts.ret(-EINVAL);
    }
}

static int do_epoll_wait(int epfd, struct epoll_event __user* events, int maxevents, int timeout) {
    trace_scope ts("do_epoll_wait", "epfd=%d maxevents=%d timeout=%d", epfd, maxevents, timeout);
    if (maxevents <= 0 || maxevents > EP_MAX_EVENTS) return ts.ret(-EINVAL);
    // The whole array must be writable before anything is looked at.
    if (!access_ok(events, static_cast<unsigned long>(maxevents) * sizeof(struct epoll_event))) return ts.ret(-EFAULT);
    std::shared_ptr<file> ef = epfd < 0 ? nullptr : fget(current->files.get(), static_cast<unsigned>(epfd));  // held while we sleep
    if (!ef) return ts.ret(-EBADF);
    eventpoll* ep = eventpoll_of(ef.get());
    if (!ep) return ts.ret(-EINVAL);
    return ts.ret(static_cast<int>(ep_poll(ep, events, maxevents, timeout)));
}

// ---- system calls ----

SYSCALL_DEFINE1(epoll_create1, int, flags) { return do_epoll_create(flags); }

SYSCALL_DEFINE1(epoll_create, int, size) {
    if (size <= 0) return -EINVAL;  // the size is ignored, but must be positive
    return do_epoll_create(0);
}

SYSCALL_DEFINE4(epoll_ctl, int, epfd, int, op, int, fd, struct epoll_event __user *, event) {
    struct epoll_event epds{};
    if (ep_op_has_event(op) && copy_from_user(&epds, event, sizeof epds)) return -EFAULT;
    return do_epoll_ctl(epfd, op, fd, &epds);
}

// A negative timeout waits for ever; the time is in milliseconds.
SYSCALL_DEFINE4(epoll_wait, int, epfd, struct epoll_event __user *, events, int, maxevents, int, timeout) {
    return do_epoll_wait(epfd, events, maxevents, timeout);
}

}  // namespace gk
