// Models fs/fcntl.c (v6.1): fcntl(2)'s descriptor commands -- F_DUPFD / F_DUPFD_CLOEXEC,
// F_GETFD / F_SETFD (close-on-exec), F_GETFL / F_SETFL (O_APPEND, O_NONBLOCK, O_DIRECT, ...)
// and the pipe commands handed to pipe_fcntl. Locks, leases and owners are not modeled: EINVAL.
#include "glasskernel/pipe_fs_i.h"
#include "glasskernel/syscalls.h"

namespace gk {

// fasync_helper: the file joins or leaves the list of files that signal their owner on I/O; with
// no owner settable here, only FASYNC in f_flags records it.
int fasync_helper(int fd, file* filp, int on) {
    (void)fd;
    if (on)
        filp->f_flags |= FASYNC;
    else
        filp->f_flags &= ~FASYNC;
    return on ? 1 : 0;
}

// The flags F_SETFL may change; the access mode and creation flags stay.
constexpr unsigned SETFL_MASK = O_APPEND | O_NONBLOCK | O_DIRECT | O_NOATIME;

// O_DIRECT is packet mode on a pipe; other files here have no direct I/O, so it is EINVAL.
static int setfl(int fd, file* filp, unsigned long arg) {
    trace_scope ts("setfl", "arg=%#lx", arg);
    if ((arg & O_DIRECT) && !get_pipe_info(filp)) return ts.ret(-EINVAL);
    // ->fasync sets or clears FASYNC itself; a file without one keeps it as it was.
    if (((arg ^ filp->f_flags) & FASYNC) && filp->f_op->fasync) {
        int error = filp->f_op->fasync(fd, filp, (arg & FASYNC) != 0);
        if (error < 0) return ts.ret(error);
    }
    filp->f_flags = (static_cast<unsigned>(arg) & SETFL_MASK) | (filp->f_flags & ~SETFL_MASK);
    return ts.ret(0);
}

// The new descriptor is the lowest free one at or above `from`; a start beyond RLIMIT_NOFILE is
// EINVAL, no room below it EMFILE.
static long f_dupfd(unsigned from, const std::shared_ptr<file>& f, bool cloexec) {
    trace_scope ts("f_dupfd", "from=%u", from);
    unsigned long nofile = task_rlimit(current, RLIMIT_NOFILE);
    if (from >= nofile) return ts.ret(-EINVAL);
    int fd = alloc_fd(current->files.get(), from, nofile);
    if (fd >= 0) fd_install(current->files.get(), static_cast<unsigned>(fd), f, cloexec);
    return ts.ret(fd);
}

static long do_fcntl(unsigned fd, unsigned cmd, unsigned long arg, const std::shared_ptr<file>& filp) {
    trace_scope ts("do_fcntl", "fd=%u cmd=%u", fd, cmd);
    files_struct* files = current->files.get();
    switch (cmd) {
    case F_DUPFD: return ts.ret(f_dupfd(static_cast<unsigned>(arg), filp, false));
    case F_DUPFD_CLOEXEC: return ts.ret(f_dupfd(static_cast<unsigned>(arg), filp, true));
    case F_GETFD: return ts.ret(files->fdt[fd].cloexec ? FD_CLOEXEC : 0);
    case F_SETFD: files->fdt[fd].cloexec = arg & FD_CLOEXEC; return ts.ret(0);
    case F_GETFL: return ts.ret(filp->f_flags);
    case F_SETFL: return ts.ret(setfl(static_cast<int>(fd), filp.get(), arg));
    case F_SETPIPE_SZ:
    case F_GETPIPE_SZ: return ts.ret(pipe_fcntl(filp.get(), cmd, arg));
    default: return ts.ret(-EINVAL);
    }
}

SYSCALL_DEFINE3(fcntl, unsigned int, fd, unsigned int, cmd, unsigned long, arg) {
    std::shared_ptr<file> f = fget(current->files.get(), fd);
    if (!f) return -EBADF;
    return do_fcntl(fd, cmd, arg, f);
}

}  // namespace gk
