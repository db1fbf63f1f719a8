// The simulator's exceptions for the host: what k.run() and friends raise when the machine
// cannot go on (a panic) or its self-check found a broken invariant. Errors a C caller could get
// are errnos, not exceptions.
#pragma once
#include <stdexcept>
#include <string>

namespace gk {

class Kernel;

// The self-check (Kernel::check) found a broken invariant; the message names it.
struct kernel_inconsistency : std::runtime_error {
    using std::runtime_error::runtime_error;
};

// The machine panicked (panic()): it will not run again.
struct kernel_panic : std::runtime_error {
    using std::runtime_error::runtime_error;
};

// The machine panicked because the host had no memory for kernel code (a MemoryError too, in
// Python: KernelOutOfMemory).
struct kernel_oom_panic : kernel_panic {
    using kernel_panic::kernel_panic;
};

// Throws kernel_panic (kernel_oom_panic) if k has panicked.
void throw_if_panicked(const Kernel& k);

}  // namespace gk
