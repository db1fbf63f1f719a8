// Models include/linux/wait.h and include/linux/completion.h (v6.1): wait queues and completions.
#pragma once
#include <boost/intrusive/list.hpp>
#include <string>

#include "glasskernel/types.h"

namespace gk {

struct task_struct;
struct wait_queue_entry;

using wait_queue_func_t = int (*)(wait_queue_entry* wq_entry, unsigned mode, int flags, void* key);

enum : unsigned { WQ_FLAG_EXCLUSIVE = 0x01, WQ_FLAG_WOKEN = 0x02 };

// One sleeper. DEFINE_WAIT puts it on the sleeper's kernel stack, as here.
struct wait_queue_entry {
    unsigned flags = 0;
    task_struct* private_ = nullptr;  // the sleeping task ("private" in Linux)
    wait_queue_func_t func = nullptr;
    boost::intrusive::list_member_hook<boost::intrusive::link_mode<boost::intrusive::auto_unlink>> entry;
};

using wait_list = boost::intrusive::list<
    wait_queue_entry,
    boost::intrusive::member_hook<wait_queue_entry, decltype(wait_queue_entry::entry), &wait_queue_entry::entry>,
    boost::intrusive::constant_time_size<false>>;

struct wait_queue_head {
    const char* name;
    wait_list head;
    explicit wait_queue_head(const char* n = "wait_queue_head") : name(n) {}
    wait_queue_head(const wait_queue_head&) = delete;
    wait_queue_head& operator=(const wait_queue_head&) = delete;
};

int default_wake_function(wait_queue_entry* wq_entry, unsigned mode, int flags, void* key);
int autoremove_wake_function(wait_queue_entry* wq_entry, unsigned mode, int flags, void* key);
// wait_woken / woken_wake_function: a sleep that stays on the queue between wake-ups (the
// socket waits), with WQ_FLAG_WOKEN so that a wake-up before the sleep is not lost.
int woken_wake_function(wait_queue_entry* wq_entry, unsigned mode, int flags, void* key);
long wait_woken(wait_queue_entry* wq_entry, unsigned mode, long timeout);
// What the views call a wake function (autoremove_wake_function, ep_poll_callback, pollwake, ...);
// each file that defines one names it with a static WAKE_FUNCTION_NAME(fn).
const char* wake_function_name(wait_queue_func_t fn);
struct wake_function_namer {
    wake_function_namer(wait_queue_func_t fn, const char* name);
};
#define WAKE_FUNCTION_NAME(fn) static const ::gk::wake_function_namer fn##_namer(fn, #fn)
void init_wait_entry(wait_queue_entry* wq_entry, int flags);
void add_wait_queue(wait_queue_head* wq_head, wait_queue_entry* wq_entry);
void add_wait_queue_exclusive(wait_queue_head* wq_head, wait_queue_entry* wq_entry);
void remove_wait_queue(wait_queue_head* wq_head, wait_queue_entry* wq_entry);
void prepare_to_wait(wait_queue_head* wq_head, wait_queue_entry* wq_entry, unsigned state);
void prepare_to_wait_exclusive(wait_queue_head* wq_head, wait_queue_entry* wq_entry, unsigned state);
void finish_wait(wait_queue_head* wq_head, wait_queue_entry* wq_entry);
// Wakes up to nr_exclusive exclusive waiters (0 = all) after every non-exclusive one.
int __wake_up(wait_queue_head* wq_head, unsigned mode, int nr_exclusive, void* key);
inline bool waitqueue_active(const wait_queue_head* wq_head) { return !wq_head->head.empty(); }

constexpr unsigned TASK_NORMAL_MODE = 3;  // TASK_INTERRUPTIBLE | TASK_UNINTERRUPTIBLE
inline void wake_up(wait_queue_head* q) { __wake_up(q, TASK_NORMAL_MODE, 1, nullptr); }
inline void wake_up_all(wait_queue_head* q) { __wake_up(q, TASK_NORMAL_MODE, 0, nullptr); }
inline void wake_up_nr(wait_queue_head* q, int nr) { __wake_up(q, TASK_NORMAL_MODE, nr, nullptr); }
inline void wake_up_interruptible(wait_queue_head* q) { __wake_up(q, 1, 1, nullptr); }
inline void wake_up_interruptible_all(wait_queue_head* q) { __wake_up(q, 1, 0, nullptr); }
// The "sync" wake-ups of socket callbacks: one exclusive waiter; the waker does not expect to sleep.
// The key carries the EPOLL* events that happened, for epoll's callback to filter on.
inline void wake_up_interruptible_sync_poll(wait_queue_head* q, unsigned long events) {
    __wake_up(q, 1, 1, reinterpret_cast<void*>(events));
}

// A completion: "done" counts complete() calls not yet consumed by a waiter.
struct completion {
    unsigned done = 0;
    wait_queue_head wait{"completion.wait"};
};
void init_completion(completion* x);
void complete(completion* x);
void complete_all(completion* x);
void wait_for_completion(completion* x);
// Returns -ERESTARTSYS if a fatal signal arrived first.
long wait_for_completion_killable(completion* x);

}  // namespace gk
