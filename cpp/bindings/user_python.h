// The user-mode driver for Python programs: a process's user image is an `async def` coroutine,
// run on the host stack; fork rebuilds the child's coroutine by deterministic replay.
#pragma once
#include <pybind11/pybind11.h>

#include <memory>
#include <string>
#include <vector>

#include "glasskernel/kernel.h"

namespace gk {
namespace py = pybind11;

struct py_program {
    std::string path;
    py::object fn;  // async def main(sys, *args)
};

// One recorded event of a process's user side: a system call (the request and what it got
// back), or the delivery of a signal to a handler (a new coroutine pushed on the user stack).
struct log_entry {
    py::object req;
    py::object result;
    int err = 0;  // non-zero: the call failed with this errno
    bool deliver = false;
    long token = 0;  // deliver: the handler's "address" in the image
    int signo = 0;
    py::object info;  // deliver: the SigInfo, for SA_SIGINFO handlers
    u64 frame_id = 0;
};

// A coroutine on the user "stack": main, or a signal handler running in a signal frame.
struct user_frame {
    py::object coro;
    py::object last_req;  // the request it is blocked on (none before it starts)
    bool started = false;
    u64 frame_id = 0;     // the kernel's rt_sigframe it runs in (0: main)
};

// A process's syscall log since its exec, as a chain: a fork child's log starts with the first
// `prev_len` entries of its parent's segment, so fork shares the log instead of copying it.
struct log_segment {
    std::shared_ptr<log_segment> prev;
    size_t prev_len = 0;
    std::vector<log_entry> entries;
};

class py_mm : public mm_struct {
public:
    py_mm(std::shared_ptr<py_program> prog, std::vector<std::string> argv, std::vector<std::string> envp);
    ~py_mm() override;
    user_step run_user(task_struct* t, long ret, const user_out& out, syscall_regs* regs) override;
    std::unique_ptr<mm_struct> dup_mm(const syscall_regs& fork_regs) override;
    const char* kind() const override { return "python"; }

    std::shared_ptr<py_program> prog;
    std::vector<std::string> argv, envp;
    size_t log_size() const;
    size_t stack_depth() const { return stack.size(); }
    // Signal handlers live in the image: a token stands for a handler's address.
    long handler_token(PyObject* fn);
    py::object handler_object(long token) const;

private:
    bool make_coroutine(std::string* why);
    bool push_handler(const rt_sigframe& f, std::string* why);
    user_step start_top(task_struct* t, syscall_regs* regs);
    user_step replay(task_struct* t, long ret, const user_out& out, syscall_regs* regs);
    user_step deliver(task_struct* t, py::object value, int err, syscall_regs* regs);
    user_step answer(task_struct* t, long nr, long ret, const user_out& out, syscall_regs* regs);
    user_step outcome(task_struct* t, int status, PyObject* result, syscall_regs* regs);
    user_step crash(const std::string& why, bool kill);
    py::object sys;
    std::vector<user_frame> stack;  // stack[0] is main
    std::vector<py::object> handlers;
    std::shared_ptr<log_segment> log;
    bool replay_pending = false;
    py::object fork_req;  // a fork child's copy of the parent's request
    bool finished = false;
};

// Converts the kernel's return value and copy_to_user data into the Python value a call returns.
py::object syscall_result(py_mm* mm, long nr, const py::tuple& req, long ret, const user_out& out);
bool parse_request(py_mm* mm, PyObject* req, syscall_regs* regs, std::string* why);
bool requests_equal(PyObject* a, PyObject* b);
void set_user_api(py::object sys_class);

}  // namespace gk
