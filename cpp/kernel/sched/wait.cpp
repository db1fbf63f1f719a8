// Models kernel/sched/wait.c and completion.c (v6.1): wait queue heads, prepare_to_wait/finish_wait,
// __wake_up with exclusive waiters, and completions.
#include <utility>
#include <vector>

#include "glasskernel/linux.h"

namespace gk {

int default_wake_function(wait_queue_entry* wq_entry, unsigned mode, int flags, void* key) {
    (void)key;
    return try_to_wake_up(wq_entry->private_, mode, flags);
}

// The entry leaves the queue as it is woken, so a later wake-up skips it.
int autoremove_wake_function(wait_queue_entry* wq_entry, unsigned mode, int flags, void* key) {
    trace_scope ts("autoremove_wake_function");
    int ret = default_wake_function(wq_entry, mode, flags, key);
    if (ret && wq_entry->entry.is_linked()) wq_entry->entry.unlink();
    return ts.ret(ret);
}

static std::vector<std::pair<wait_queue_func_t, const char*>>& wake_function_names() {
    static std::vector<std::pair<wait_queue_func_t, const char*>> names;
    return names;
}
wake_function_namer::wake_function_namer(wait_queue_func_t fn, const char* name) { wake_function_names().emplace_back(fn, name); }
const char* wake_function_name(wait_queue_func_t fn) {
    for (auto& [f, name] : wake_function_names())
        if (f == fn) return name;
    return "?";
}
WAKE_FUNCTION_NAME(default_wake_function);
WAKE_FUNCTION_NAME(autoremove_wake_function);

int woken_wake_function(wait_queue_entry* wq_entry, unsigned mode, int flags, void* key) {
    trace_scope ts("woken_wake_function");
    wq_entry->flags |= WQ_FLAG_WOKEN;
    return ts.ret(default_wake_function(wq_entry, mode, flags, key));
}
WAKE_FUNCTION_NAME(woken_wake_function);

long wait_woken(wait_queue_entry* wq_entry, unsigned mode, long timeout) {
    trace_scope ts("wait_woken");
    set_current_state(mode);
    if (!(wq_entry->flags & WQ_FLAG_WOKEN)) timeout = schedule_timeout(timeout);
    __set_current_state(TASK_RUNNING);
    wq_entry->flags &= ~WQ_FLAG_WOKEN;
    return timeout;
}

void init_wait_entry(wait_queue_entry* wq_entry, int flags) {
    wq_entry->flags = flags;
    wq_entry->private_ = current;
    wq_entry->func = autoremove_wake_function;
}

void add_wait_queue(wait_queue_head* wq_head, wait_queue_entry* wq_entry) {
    wq_entry->flags &= ~WQ_FLAG_EXCLUSIVE;
    wq_head->head.push_front(*wq_entry);
}

void add_wait_queue_exclusive(wait_queue_head* wq_head, wait_queue_entry* wq_entry) {
    wq_entry->flags |= WQ_FLAG_EXCLUSIVE;
    wq_head->head.push_back(*wq_entry);
}

void remove_wait_queue(wait_queue_head* wq_head, wait_queue_entry* wq_entry) {
    (void)wq_head;
    if (wq_entry->entry.is_linked()) wq_entry->entry.unlink();
}

// The first half of a sleep: on the queue (once), then the sleep state, so that a wake-up that
// comes before schedule() puts the task back to TASK_RUNNING and the sleep does not happen.
void prepare_to_wait(wait_queue_head* wq_head, wait_queue_entry* wq_entry, unsigned state) {
    trace_scope ts("prepare_to_wait", "wq=%s", wq_head->name);
    wq_entry->flags &= ~WQ_FLAG_EXCLUSIVE;
    if (!wq_entry->entry.is_linked()) wq_head->head.push_front(*wq_entry);
    set_current_state(state);
}

void prepare_to_wait_exclusive(wait_queue_head* wq_head, wait_queue_entry* wq_entry, unsigned state) {
    wq_entry->flags |= WQ_FLAG_EXCLUSIVE;
    if (!wq_entry->entry.is_linked()) wq_head->head.push_back(*wq_entry);
    set_current_state(state);
}

long prepare_to_wait_event(wait_queue_head* wq_head, wait_queue_entry* wq_entry, unsigned state) {
    if (signal_pending_state(state, current)) {
        // The entry may be off the queue already (woken); it must not stay on it either way.
        if (wq_entry->entry.is_linked()) wq_entry->entry.unlink();
        return -ERESTARTSYS;
    }
    if (!wq_entry->entry.is_linked()) {
        if (wq_entry->flags & WQ_FLAG_EXCLUSIVE)
            wq_head->head.push_back(*wq_entry);
        else
            wq_head->head.push_front(*wq_entry);
    }
    set_current_state(state);
    return 0;
}

void finish_wait(wait_queue_head* wq_head, wait_queue_entry* wq_entry) {
    (void)wq_head;
    __set_current_state(TASK_RUNNING);
    if (wq_entry->entry.is_linked()) wq_entry->entry.unlink();
}

// Non-exclusive waiters sit at the front and are all woken; exclusive ones at the back, and
// only nr_exclusive of them are (0 = all): that is what avoids the thundering herd.
int __wake_up(wait_queue_head* wq_head, unsigned mode, int nr_exclusive, void* key) {
    trace_scope ts("__wake_up", "wq=%s", wq_head->name);
    int woken = 0;
    for (auto it = wq_head->head.begin(); it != wq_head->head.end();) {
        wait_queue_entry* e = &*it;
        ++it;  // the callback may unlink e
        unsigned flags = e->flags;
        int ret = e->func(e, mode, 0, key);
        if (ret < 0) break;
        if (ret) woken++;
        if (ret && (flags & WQ_FLAG_EXCLUSIVE) && !--nr_exclusive) break;
    }
    return ts.ret(woken);
}

void init_completion(completion* x) { x->done = 0; }

void complete(completion* x) {
    trace_scope ts("complete");
    if (x->done != UINT_MAX) x->done++;
    __wake_up(&x->wait, TASK_NORMAL, 1, nullptr);
}

void complete_all(completion* x) {
    trace_scope ts("complete_all");
    x->done = UINT_MAX;
    __wake_up(&x->wait, TASK_NORMAL, 0, nullptr);
}

static long do_wait_for_common(completion* x, unsigned state) {
    if (!x->done) {
        wait_queue_entry wait;
        init_wait_entry(&wait, WQ_FLAG_EXCLUSIVE);
        wait.func = default_wake_function;
        x->wait.head.push_back(wait);
        do {
            if ((state & TASK_WAKEKILL) && fatal_signal_pending(current)) {
                remove_wait_queue(&x->wait, &wait);
                return -ERESTARTSYS;
            }
            __set_current_state(state);
            schedule();
        } while (!x->done);
        remove_wait_queue(&x->wait, &wait);
    }
    if (x->done != UINT_MAX) x->done--;
    return 0;
}

void wait_for_completion(completion* x) {
    trace_scope ts("wait_for_completion");
    do_wait_for_common(x, TASK_UNINTERRUPTIBLE);
}

long wait_for_completion_killable(completion* x) {
    trace_scope ts("wait_for_completion_killable");
    return ts.ret(do_wait_for_common(x, TASK_KILLABLE));
}

}  // namespace gk
