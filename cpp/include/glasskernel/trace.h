// The simulator's tracing: a trace scope per modeled function (ftrace's function_graph entry and
// exit), tracepoints under Linux's names, and the stop checks that make stepping possible.
#pragma once
#include <cstdarg>
#include <string>
#include <vector>

#include "glasskernel/types.h"

namespace gk {

class Kernel;
struct task_struct;

enum class ev_type : u8 { ENTRY, EXIT, POINT };
enum class ev_ctx : u8 { TASK, SOFTIRQ, HARDIRQ, HOST };

struct trace_event {
    u64 ts = 0;
    const char* name = "";
    std::string args;
    long ret = 0;
    int cpu = 0;
    int pid = -1;
    u16 depth = 0;
    ev_type type = ev_type::POINT;
    ev_ctx ctx = ev_ctx::TASK;
    u64 seq = 0;
};

struct trace_buffer {
    bool enabled = true;
    size_t limit = 2000000;  // events kept; older ones are dropped first
    std::vector<trace_event> events;
    size_t head = 0;         // index of the oldest kept event when the buffer has wrapped
    u64 dropped = 0;
    u64 seq = 0;
    void add(trace_event&& e);
    void clear();
    // A new limit keeps the newest events (the dropped ones count in `dropped`), in order.
    void set_limit(size_t n);
    size_t size() const { return events.size(); }
    const trace_event& at(size_t i) const { return events[(head + i) % events.size()]; }
};

// Which events a query wants (the trace_pipe filters: by function or event name, pid, cpu, type
// and a time window). Unset fields match everything.
struct trace_filter {
    std::string name;  // empty: any
    bool by_pid = false;
    int pid = 0;
    int cpu = -1;
    int type = -1;  // an ev_type
    u64 since = 0, until = ~0ULL;  // ts in [since, until]
};
bool trace_match(const trace_event& e, const trace_filter& f);
// Indices (for at()) of the matching events, oldest first, at most `limit` of them.
std::vector<size_t> trace_select(const trace_buffer& b, const trace_filter& f, size_t limit = ~size_t(0));
// The events of one call: from the entry at index i to its exit, that task's events only.
std::vector<size_t> trace_call(const trace_buffer& b, size_t i);

// Opens on a modeled function's first line; closes when it returns. Costs the function's
// modeled time whether or not tracing is on, so that observing never changes the timeline.
class trace_scope {
public:
    // The constructor without arguments and the destructor are inline (kernel.h defines them):
    // with tracing off and no stop armed, a scope is the cost it charges and one push on the
    // task's call chain, on every path of the scheduler.
    inline explicit trace_scope(const char* name);
    trace_scope(const char* name, const char* fmt, ...) __attribute__((format(printf, 3, 4)));
    // Arguments formatted by fmt(a, b), called only when the event is recorded or checked.
    trace_scope(const char* name, std::string (*fmt)(const void*, const void*), const void* a, const void* b);
    inline ~trace_scope();
    long ret(long v) { ret_ = v; return v; }
    trace_scope(const trace_scope&) = delete;
    trace_scope& operator=(const trace_scope&) = delete;

private:
    // The fast path: false if the scope must be recorded or checked (enter() then).
    inline bool enter_quietly(const char* name);
    void enter(const char* name, std::string&& args);
    void exit_recorded();
    void push_call_chain(task_struct* t, const char* name);
    Kernel* k_;
    const char* name_;
    long ret_ = 0;
    bool recorded_ = false;
    bool pushed_ = false;  // on the task's call chain (not when the host had no memory for it)
};

// Grows a call chain's room; false when the host has no memory (the scope stays off the chain:
// scopes close in destructors, where an exception would abort the process).
bool kstack_grow(std::vector<const char*>& ks);

// A trace name must be one a reader can grep: a function of that name in the model. Where
// Linux has a function that the model writes out inside its caller instead, the scope for it
// is opened with this macro, and the line carries a comment naming Linux's function and file.
#define INLINED_SCOPE(var, name, ...) ::gk::trace_scope var(name __VA_OPT__(, ) __VA_ARGS__)

// A tracepoint (TRACE_EVENT in Linux): one event with formatted fields.
void trace_point(const char* name, const char* fmt, ...) __attribute__((format(printf, 2, 3)));
std::string vformat(const char* fmt, va_list ap);

}  // namespace gk
