// The simulator's kernel stacks: each task's kernel stack is a Boost.Context fiber on a stack from
// a cache (as Linux caches task stacks), with a guard page below it or an end-of-stack magic word.
#include <sys/mman.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <new>
#include <stdexcept>
#include <system_error>

#include "engine/stack_cache.h"
#include "glasskernel/linux.h"

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/asan_interface.h>
#include <sanitizer/common_interface_defs.h>
#define GK_ASAN 1
#endif

namespace gk {

constinit thread_local Kernel* this_kernel __attribute__((tls_model("initial-exec"))) = nullptr;

kernel_context::kernel_context(Kernel* k) : saved_(this_kernel) { this_kernel = k; }
kernel_context::~kernel_context() { this_kernel = saved_; }

// AddressSanitizer must be told about every switch between the host stack and a kernel stack.
#ifdef GK_ASAN
static thread_local const void* host_stack_bottom __attribute__((tls_model("initial-exec"))) = nullptr;
static thread_local size_t host_stack_size __attribute__((tls_model("initial-exec"))) = 0;
static void asan_enter_fiber(task_struct* t, void** fake) { __sanitizer_start_switch_fiber(fake, t->thread.stack_bottom, t->thread.stack_size); }
static void asan_back_on_host(void* fake) { __sanitizer_finish_switch_fiber(fake, nullptr, nullptr); }
static void asan_leave_fiber(void** fake) { __sanitizer_start_switch_fiber(fake, host_stack_bottom, host_stack_size); }
static void asan_on_fiber(void* fake) { __sanitizer_finish_switch_fiber(fake, &host_stack_bottom, &host_stack_size); }
#else
static void asan_enter_fiber(task_struct*, void**) {}
static void asan_back_on_host(void*) {}
static void asan_leave_fiber(void**) {}
static void asan_on_fiber(void*) {}
#endif

static size_t page_size() {
    static size_t ps = static_cast<size_t>(sysconf(_SC_PAGESIZE));
    return ps;
}

stack_cache::stack_cache(size_t size, bool guard) : size_(size), guard_(guard) {
    size_t ps = page_size();
    size_ = (size_ + ps - 1) / ps * ps;
}

stack_cache::~stack_cache() {
    for (auto& s : free_) release(s);
}

boost::context::stack_context stack_cache::allocate() {
    boost::context::stack_context sctx;
    if (!free_.empty()) {
        sctx = free_.back();
        free_.pop_back();
    } else {
        size_t total = size_ + (guard_ ? page_size() : 0);
        void* base;
        if (guard_) {
            base = mmap(nullptr, total, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
            if (base == MAP_FAILED) throw std::bad_alloc();
            // The guard page: a kernel stack overflow faults here instead of corrupting memory.
            // Splitting the mapping can fail at vm.max_map_count: no stack rather than one
            // without its guard.
            if (mprotect(base, page_size(), PROT_NONE) != 0) {
                munmap(base, total);
                throw std::bad_alloc();
            }
        } else {
            base = std::aligned_alloc(page_size(), total);
            if (!base) throw std::bad_alloc();
        }
        sctx.size = total;
        sctx.sp = static_cast<char*>(base) + total;
        live_++;
    }
#ifdef GK_ASAN
    // A cached stack may still carry the poisoned redzones of the frames of the task that used
    // it last (a stack unwound by teardown never unpoisons them): start clean.
    {
        char* base = static_cast<char*>(sctx.sp) - sctx.size + (guard_ ? page_size() : 0);
        ASAN_UNPOISON_MEMORY_REGION(base, sctx.size - (guard_ ? page_size() : 0));
    }
#endif
    // STACK_END_MAGIC at the lowest usable word, checked at every switch (end_of_stack()).
    *end_of_stack(sctx) = STACK_END_MAGIC;
    last = sctx;
    return sctx;
}

void stack_cache::deallocate(boost::context::stack_context& sctx) noexcept {
    if (free_.size() < max_cached_) {
        // noexcept (Boost.Context calls it as a fiber ends): with no memory to grow the cache,
        // the stack goes back to the system instead.
        try {
            free_.push_back(sctx);
            return;
        } catch (const std::bad_alloc&) {
        }
    }
    release(sctx);
}

void stack_cache::release(boost::context::stack_context& sctx) noexcept {
    void* base = static_cast<char*>(sctx.sp) - sctx.size;
#ifdef GK_ASAN
    // The memory goes back to the system with whatever redzones the last frames left in its
    // shadow; whoever maps it next (a shared library, say) must not inherit them.
    ASAN_UNPOISON_MEMORY_REGION(static_cast<char*>(base) + (guard_ ? page_size() : 0), sctx.size - (guard_ ? page_size() : 0));
#endif
    if (guard_)
        munmap(base, sctx.size);
    else
        std::free(base);
    live_--;
}

unsigned long* stack_cache::end_of_stack(const boost::context::stack_context& sctx) const {
    char* base = static_cast<char*>(sctx.sp) - sctx.size;
    return reinterpret_cast<unsigned long*>(base + (guard_ ? page_size() : 0));
}

struct stack_alloc {
    stack_cache* cache;
    boost::context::stack_context allocate() { return cache->allocate(); }
    void deallocate(boost::context::stack_context& sctx) noexcept { cache->deallocate(sctx); }
};

static void task_fiber_main(task_struct* t) {
    try {
        ret_from_fork_body();
        do_task_dead();
    } catch (const std::bad_alloc&) {
        // The host ran out of memory in the middle of kernel code: there is no consistent way
        // on, so the machine panics (k.run() raises KernelPanic); the interpreter lives on. (An
        // exception leaving the fiber would abort the process.)
        t->kernel->panic_oom = true;
        t->kernel->panic("Out of memory: the simulator could not allocate host memory");
    }
}

bool Kernel::new_task_fiber(task_struct* t) {
    // A task without a kernel stack cannot exist: dup_task_struct fails (ENOMEM) instead.
    try {
        return start_task_fiber(t);
    } catch (const std::bad_alloc&) {
        return false;
    } catch (const std::system_error&) {
        return false;
    }
}

bool Kernel::start_task_fiber(task_struct* t) {
    t->thread.fiber = boost::context::fiber(
        std::allocator_arg, stack_alloc{stacks.get()}, [t](boost::context::fiber&& host) {
            asan_on_fiber(nullptr);
            t->thread.host = std::move(host);
            task_fiber_main(t);
            // The task is dead and no longer current anywhere: ending the fiber hands its
            // stack back to the cache (Linux frees it in finish_task_switch of the next task).
            Kernel* k = t->kernel;
            k->act = host_act::DEAD;
            t->thread.where = kstate::DEAD;
            asan_leave_fiber(nullptr);  // this stack is finished for good
            return std::move(t->thread.host);
        });
    t->thread.stack_end = stacks->end_of_stack(stacks->last);
    t->thread.stack_bottom = static_cast<char*>(stacks->last.sp) - stacks->last.size;
    t->thread.stack_size = stacks->last.size;
    t->thread.where = kstate::NEW;
    return true;
}

void Kernel::destroy_task_fiber(task_struct* t) {
    if (!t->thread.fiber) return;
    if (t->thread.where == kstate::NEW) {
        // Never started: nothing on its stack to unwind beyond Boost's own entry frame.
        t->thread.fiber = boost::context::fiber();
        return;
    }
    if (t->thread.in_destructor) {
        // Suspended inside a destructor (a file's release stopped at a breakpoint, or sleeping):
        // unwinding would throw through it and abort the process. The stack is abandoned
        // instead, with what its frames hold: a leak, once per such task at teardown.
        new boost::context::fiber(std::move(t->thread.fiber));
        return;
    }
    void* fake = nullptr;
    asan_enter_fiber(t, &fake);
    t->thread.fiber = boost::context::fiber();
    asan_back_on_host(fake);
}

void Kernel::switch_to_host(host_act a) {
    task_struct* t = running;
    if (*t->thread.stack_end != STACK_END_MAGIC) panic("kernel stack overflow: end-of-stack magic overwritten");
    act = a;
    void* fake = nullptr;
    asan_leave_fiber(&fake);
    try {
        t->thread.host = std::move(t->thread.host).resume();
    } catch (boost::context::detail::forced_unwind&) {
        // Kernel teardown destroys this suspended stack: we arrived here by the unwinder,
        // not by a resume. Tell ASan where we are, then that the stack is being left for good.
        asan_on_fiber(fake);
        asan_leave_fiber(nullptr);
        throw;
    }
    asan_on_fiber(fake);
}

void Kernel::resume(task_struct* t) {
    kernel_context ctx(this);
    this_cpu = t->cpu;
    for (;;) {
        running = t;
        act = host_act::NONE;
        t->thread.where = kstate::KERNEL;
        void* fake = nullptr;
        asan_enter_fiber(t, &fake);
        t->thread.fiber = std::move(t->thread.fiber).resume();
        asan_back_on_host(fake);
        running = nullptr;
        if (act == host_act::UPCALL) {
            std::shared_ptr<upcall_fn> fn = std::move(pending_upcall);
            try {
                upcall_result = fn->call(*this);
            } catch (...) {
                // A failing predicate stops the run: the error is raised once the kernel
                // has reached a consistent point, and the fiber sees "stop here".
                if (!host_error) host_error = std::current_exception();
                upcall_result = 1;
            }
            continue;
        }
        break;
    }
    // A task that reaped itself handed us its last reference; its fiber has ended now.
    if (act == host_act::DEAD) dead_task.reset();
    if (!deferred_images.empty()) release_deferred();
}

void Kernel::release_deferred() {
    // User images may hold Python objects; they are freed here, on the host stack.
    std::vector<std::unique_ptr<user_image>> v;
    v.swap(deferred_images);
    v.clear();
}

long Kernel::upcall(std::shared_ptr<upcall_fn> fn) {
    if (!running) return fn->call(*this);
    pending_upcall = std::move(fn);
    switch_to_host(host_act::UPCALL);
    return upcall_result;
}

}  // namespace gk
