// The simulator's trace scopes and tracepoints (the function_graph tracer's entry/exit records
// and TRACE_EVENT), and the hook that stops the engine at one of them.
#include <algorithm>
#include <cstdio>
#include <cstring>
#include <new>

#include "glasskernel/linux.h"

namespace gk {

// Tracing must never fail the code it traces (it runs in panic() and in destructors too): out
// of host memory, an event loses its arguments (here) or is dropped (trace_buffer::add).
std::string vformat(const char* fmt, va_list ap) {
    char buf[512];
    int n = vsnprintf(buf, sizeof buf, fmt, ap);
    if (n < 0) return {};
    try {
        return std::string(buf, static_cast<size_t>(n) < sizeof buf ? n : sizeof buf - 1);
    } catch (const std::bad_alloc&) {
        return {};
    }
}

void trace_buffer::add(trace_event&& e) {
    e.seq = seq++;
    if (events.size() < limit) {
        // Tracing must never fail the code it traces (this runs in destructors, too): when the
        // host has no memory for a bigger buffer, the buffer stays this size and wraps.
        try {
            events.push_back(std::move(e));
            return;
        } catch (const std::bad_alloc&) {
            if (events.empty()) {
                dropped++;
                return;
            }
            limit = events.size();
        }
    }
    events[head] = std::move(e);
    head = (head + 1) % events.size();
    dropped++;
}

void trace_buffer::clear() {
    events.clear();
    head = 0;
    dropped = 0;
}

void trace_buffer::set_limit(size_t n) {
    // Unwrap the ring first: add() appends while there is room, so head must be 0 then.
    std::rotate(events.begin(), events.begin() + static_cast<std::ptrdiff_t>(head), events.end());
    head = 0;
    if (events.size() > n) {
        size_t drop = events.size() - n;
        events.erase(events.begin(), events.begin() + static_cast<std::ptrdiff_t>(drop));
        dropped += drop;
    }
    limit = n;
}

bool trace_match(const trace_event& e, const trace_filter& f) {
    if (!f.name.empty() && f.name != e.name) return false;
    if (f.by_pid && e.pid != f.pid) return false;
    if (f.cpu >= 0 && e.cpu != f.cpu) return false;
    if (f.type >= 0 && static_cast<int>(e.type) != f.type) return false;
    return e.ts >= f.since && e.ts <= f.until;
}

std::vector<size_t> trace_select(const trace_buffer& b, const trace_filter& f, size_t limit) {
    std::vector<size_t> out;
    for (size_t i = 0; i < b.size() && out.size() < limit; i++)
        if (trace_match(b.at(i), f)) out.push_back(i);
    return out;
}

std::vector<size_t> trace_call(const trace_buffer& b, size_t i) {
    const trace_event& start = b.at(i);
    std::vector<size_t> out{i};
    for (size_t j = i + 1; j < b.size(); j++) {
        const trace_event& e = b.at(j);
        // Another task's events (or host code on another CPU) interleave: leave them out.
        if (e.pid != start.pid || (e.cpu != start.cpu && e.ctx == ev_ctx::HOST)) continue;
        out.push_back(j);
        if (e.type == ev_type::EXIT && e.depth == start.depth && std::strcmp(e.name, start.name) == 0) break;
    }
    return out;
}

static trace_event make_event(Kernel* k, const char* name, ev_type type) {
    trace_event e;
    e.name = name;
    e.type = type;
    task_struct* t = k->running;
    e.cpu = k->this_cpu;
    e.ts = k->runqueues[k->this_cpu].clock;
    if (t) {
        e.pid = t->pid;
        e.depth = static_cast<u16>(t->thread.kstack.size());
        int pc = t->thread_info.preempt_count;
        e.ctx = pc & HARDIRQ_MASK ? ev_ctx::HARDIRQ : (pc & SOFTIRQ_OFFSET) ? ev_ctx::SOFTIRQ : ev_ctx::TASK;
    } else {
        e.ctx = ev_ctx::HOST;
    }
    return e;
}

bool kstack_grow(std::vector<const char*>& ks) {
    try {
        ks.reserve(std::max<size_t>(16, ks.size() * 2));
        return true;
    } catch (const std::bad_alloc&) {
        return false;
    }
}

void trace_scope::push_call_chain(task_struct* t, const char* name) {
    if (!t) return;
    std::vector<const char*>& ks = t->thread.kstack;
    if (ks.size() < ks.capacity() || kstack_grow(ks)) {
        ks.push_back(name);
        pushed_ = true;
    }
}

void trace_scope::enter(const char* name, std::string&& args) {
    Kernel* k = k_;
    if (!k || k->tearing_down) {
        k_ = nullptr;
        return;
    }
    task_struct* t = k->running;
    bool check = k->stop_armed && t;
    if (!k->trace.enabled && !check) {
        k->charge(k->costs.function);
        push_call_chain(t, name);
        return;
    }
    trace_event e = make_event(k, name, ev_type::ENTRY);
    k->charge(k->costs.function);  // after the entry stamp, so a call's duration includes its cost
    e.args = std::move(args);
    trace_event copy;
    if (check) {
        try {
            copy = e;
        } catch (const std::bad_alloc&) {
            copy = make_event(k, name, ev_type::ENTRY);  // the stop check without the arguments
        }
    }
    if (k->trace.enabled) {
        k->trace.add(std::move(e));
        recorded_ = true;
    }
    // Pushed before the stop check, so a stop here shows this function on the call chain.
    push_call_chain(t, name);
    if (check) k->maybe_stop(copy);
}

trace_scope::trace_scope(const char* name, const char* fmt, ...) : k_(this_kernel), name_(name) {
    if (enter_quietly(name)) return;
    std::string args;
    if (k_ && (k_->trace.enabled || k_->stop_armed)) {
        va_list ap;
        va_start(ap, fmt);
        args = vformat(fmt, ap);
        va_end(ap);
    }
    enter(name, std::move(args));
}

trace_scope::trace_scope(const char* name, std::string (*fmt)(const void*, const void*), const void* a, const void* b)
    : k_(this_kernel), name_(name) {
    if (enter_quietly(name)) return;
    std::string args;
    if (k_ && (k_->trace.enabled || k_->stop_armed)) {
        try {
            args = fmt(a, b);
        } catch (const std::bad_alloc&) {
            args.clear();  // recorded without its arguments, as vformat does
        }
    }
    enter(name, std::move(args));
}

void trace_scope::exit_recorded() {
    Kernel* k = k_;
    if (!k->trace.enabled) return;
    trace_event e = make_event(k, name_, ev_type::EXIT);
    e.ret = ret_;
    k->trace.add(std::move(e));
}

void trace_point(const char* name, const char* fmt, ...) {
    Kernel* k = this_kernel;
    if (!k || k->tearing_down || (!k->trace.enabled && !k->stop_armed)) return;
    trace_event e = make_event(k, name, ev_type::POINT);
    va_list ap;
    va_start(ap, fmt);
    e.args = vformat(fmt, ap);
    va_end(ap);
    bool check = k->stop_armed && k->running;
    trace_event copy;
    if (check) {
        try {
            copy = e;
        } catch (const std::bad_alloc&) {
            copy = make_event(k, name, ev_type::POINT);
        }
    }
    if (k->trace.enabled) k->trace.add(std::move(e));
    if (check) k->maybe_stop(copy);
}

}  // namespace gk
