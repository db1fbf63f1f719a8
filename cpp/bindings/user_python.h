// The simulator's Python binding. The user-mode driver for Python programs: a process's user-mode code is an `async def`
// coroutine run on the host stack; its system calls are converted to registers and user memory
// by the types the kernel declares for them (SYSCALL_DEFINEn), and fork rebuilds a child's
// coroutine by deterministic replay.
#pragma once
#include <pybind11/pybind11.h>

#include <memory>
#include <string>
#include <vector>

#include "bindings/user_arg.h"
#include "engine/user_image.h"
#include "glasskernel/syscalls.h"

namespace gk {
namespace py = pybind11;

struct py_program {
    std::string path;
    py::object fn;           // async def main(sys, *argv), or main(sys) as C's int main(void)
    bool takes_argv = true;  // false: main takes only sys
};

// Where one out-argument of the pending call lives in user memory, and how to read it back.
struct out_slot {
    unsigned long addr = 0;
    const uapi_type* type = nullptr;  // the pointee
    long count = -1;                  // as user_arg::count
    bool trunc = false;               // OUTBUF
    py::object in_value;              // INOUT: what was passed (msghdr needs it to read back)
};

// One recorded event of a process's user side: a system call (the request and what it got
// back), or the delivery of a signal to a handler (a new coroutine pushed on the user stack).
struct log_entry {
    py::object req;
    py::object result;  // the value, or (failed) the out-arguments attached to the OSError
    int err = 0;        // > 0: the call failed with this errno; PYEXC: the boundary raised `result`
    bool deliver = false;
    long token = 0;     // deliver: the handler's address in the image
    int signo = 0;
    py::object info;    // deliver: the SigInfo, for SA_SIGINFO handlers
    u64 frame_id = 0;
};
constexpr int PYEXC = -1;

// A coroutine on the user "stack": main, or a signal handler running in a signal frame.
struct user_frame {
    py::object coro;
    py::object last_req;        // the request it is blocked on (none before it starts)
    bool started = false;
    u64 frame_id = 0;           // the kernel's rt_sigframe it runs in (0: main)
    unsigned long sp = 0;       // the top of its stack: arguments go below
    std::vector<out_slot> outs; // the pending call's out-arguments
    std::vector<std::pair<unsigned long, unsigned long>> maps;  // large buffers mapped for the call
};

// A process's syscall log since its exec, as a chain: a fork child's log starts with the first
// `prev_len` entries of its parent's segment, so fork shares the log instead of copying it.
struct log_segment {
    std::shared_ptr<log_segment> prev;
    size_t prev_len = 0;
    std::vector<log_entry> entries;
};

class py_image : public user_image {
public:
    py_image(std::shared_ptr<py_program> prog, std::vector<std::string> argv, std::vector<std::string> envp);
    ~py_image() override;
    user_step run_user(task_struct* t, syscall_regs* regs) override;
    std::unique_ptr<user_image> dup_image() override;
    const char* kind() const override { return "python"; }

    std::shared_ptr<py_program> prog;
    std::vector<std::string> argv, envp;
    size_t log_size() const;
    size_t stack_depth() const { return stack.size(); }
    // Signal handlers live in the image: a handler's "address" in the program's text.
    unsigned long handler_token(PyObject* fn);
    py::object handler_object(unsigned long token) const;

private:
    bool make_coroutine(py::object* coro, std::string* why);
    bool push_handler(task_struct* t, const rt_sigframe& f, std::string* why);
    user_step resume(task_struct* t, PyObject* value, int err, PyObject* exc, syscall_regs* regs);
    user_step outcome(task_struct* t, int status, PyObject* result, syscall_regs* regs);
    user_step replay(task_struct* t, syscall_regs* regs);
    user_step answer(task_struct* t, syscall_regs* regs);
    user_step crash(const std::string& why, bool kill);
    py::object sys;
    std::vector<user_frame> stack;  // stack[0] is main
    std::vector<py::object> handlers;
    std::shared_ptr<log_segment> log;
    bool replay_pending = false;
    py::object fork_req;  // a fork child's copy of the parent's request
    bool finished = false;
};

// Raised by k.run() when a fork child's replay took another path than its parent.
struct replay_divergence : std::runtime_error {
    using std::runtime_error::runtime_error;
};

void set_user_api(py::object sys_class);
void bind_user_api(py::module_& m);

}  // namespace gk
