// Models fs/read_write.c and fs/open.c: read(2), write(2), close(2), dup(2), dup2(2).
#include "glasskernel/linux.h"

namespace gk {

long ksys_read(int fd, size_t count, std::string* out) {
    trace_scope ts("ksys_read", "fd=%d count=%zu", fd, count);
    file* f = fget(current->files.get(), fd);
    if (!f) return ts.ret(-EBADF);
    if ((f->f_flags & 3) == O_WRONLY) return ts.ret(-EBADF);
    if (!f->f_op->read) return ts.ret(-EINVAL);
    trace_scope vs("vfs_read");
    // Sockets and the tty implement ->read_iter: vfs_read goes through new_sync_read.
    trace_scope ns("new_sync_read");
    return ts.ret(vs.ret(ns.ret(f->f_op->read(f, out, count))));
}

long ksys_write(int fd, const std::string& buf) {
    trace_scope ts("ksys_write", "fd=%d count=%zu", fd, buf.size());
    file* f = fget(current->files.get(), fd);
    if (!f) return ts.ret(-EBADF);
    if ((f->f_flags & 3) == O_RDONLY) return ts.ret(-EBADF);
    if (!f->f_op->write) return ts.ret(-EINVAL);
    trace_scope vs("vfs_write");
    trace_scope ns("new_sync_write");
    return ts.ret(vs.ret(ns.ret(f->f_op->write(f, buf))));
}

long close_fd(unsigned fd) {
    trace_scope ts("close_fd", "fd=%u", fd);
    files_struct* files = current->files.get();
    if (!files || fd >= files->fdt.size() || !files->fdt[fd].f) return ts.ret(-EBADF);
    files->fdt[fd] = fdentry{};  // the last reference runs the file's release
    return ts.ret(0);
}

long ksys_dup(unsigned fildes) {
    trace_scope ts("ksys_dup", "fd=%u", fildes);
    files_struct* files = current->files.get();
    if (!fget(files, static_cast<int>(fildes))) return ts.ret(-EBADF);
    std::shared_ptr<file> f = files->fdt[fildes].f;
    return ts.ret(fd_install_lowest(files, f, false, task_rlimit(current, RLIMIT_NOFILE)));
}

long ksys_dup3(unsigned oldfd, unsigned newfd, int flags) {
    trace_scope ts("ksys_dup3", "oldfd=%u newfd=%u", oldfd, newfd);
    files_struct* files = current->files.get();
    if (!fget(files, static_cast<int>(oldfd))) return ts.ret(-EBADF);
    if (newfd >= task_rlimit(current, RLIMIT_NOFILE)) return ts.ret(-EBADF);
    if (oldfd == newfd) return ts.ret(newfd);  // dup2 with equal fds only checks oldfd
    if (newfd >= files->fdt.size()) files->fdt.resize(newfd + 1);
    files->fdt[newfd] = fdentry{files->fdt[oldfd].f, (flags & O_CLOEXEC) != 0};
    return ts.ret(newfd);
}

}  // namespace gk

// ---- system calls ----
#include "glasskernel/syscalls.h"

namespace gk {

SYSCALL_DEFINE(read) {
    if (regs.args[1] < 0) return -EINVAL;
    return ksys_read(static_cast<int>(regs.args[0]), static_cast<size_t>(regs.args[1]), &current->thread.uout.data);
}

SYSCALL_DEFINE(write) { return ksys_write(static_cast<int>(regs.args[0]), regs.data); }

SYSCALL_DEFINE(close) {
    if (regs.args[0] < 0 || regs.args[0] > INT_MAX) return -EBADF;
    return close_fd(static_cast<unsigned>(regs.args[0]));
}

SYSCALL_DEFINE(dup) {
    if (regs.args[0] < 0 || regs.args[0] > INT_MAX) return -EBADF;
    return ksys_dup(static_cast<unsigned>(regs.args[0]));
}

SYSCALL_DEFINE(dup2) {
    if (regs.args[0] < 0 || regs.args[1] < 0 || regs.args[0] > INT_MAX || regs.args[1] > INT_MAX) return -EBADF;
    return ksys_dup3(static_cast<unsigned>(regs.args[0]), static_cast<unsigned>(regs.args[1]), 0);
}

}  // namespace gk
