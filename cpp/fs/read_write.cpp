// Models fs/read_write.c, fs/open.c and fs/file.c's system calls (v6.1): read(2) and write(2)
// through vfs_read/vfs_write and new_sync_read/new_sync_write (every file here has ->read_iter),
// lseek(2), pread64(2) and pwrite64(2) (ESPIPE on the streams every file here is), close(2),
// dup(2), dup2(2), dup3(2).
#include "glasskernel/syscalls.h"
#include "glasskernel/uio.h"

namespace gk {

static long new_sync_read(file* filp, char __user* buf, size_t len) {
    trace_scope ts("new_sync_read", "len=%zu", len);
    kiocb kiocb{filp};
    iov_iter iter;
    iov_iter_ubuf(&iter, ITER_DEST, buf, len);
    return ts.ret(filp->f_op->read_iter(&kiocb, &iter));
}

long vfs_read(file* f, char __user* buf, size_t count) {
    trace_scope ts("vfs_read", "count=%zu", count);
    if ((f->f_flags & O_ACCMODE) == O_WRONLY) return ts.ret(-EBADF);  // !(f_mode & FMODE_READ)
    if (!f->f_op->read_iter) return ts.ret(-EINVAL);
    if (!access_ok(buf, count)) return ts.ret(-EFAULT);
    if (static_cast<long>(count) < 0) return ts.ret(-EINVAL);  // rw_verify_area
    if (count > MAX_RW_COUNT) count = MAX_RW_COUNT;
    return ts.ret(new_sync_read(f, buf, count));
}

static long new_sync_write(file* filp, const char __user* buf, size_t len) {
    trace_scope ts("new_sync_write", "len=%zu", len);
    kiocb kiocb{filp};
    iov_iter iter;
    iov_iter_ubuf(&iter, ITER_SOURCE, const_cast<char __user*>(buf), len);
    return ts.ret(filp->f_op->write_iter(&kiocb, &iter));
}

long vfs_write(file* f, const char __user* buf, size_t count) {
    trace_scope ts("vfs_write", "count=%zu", count);
    if ((f->f_flags & O_ACCMODE) == O_RDONLY) return ts.ret(-EBADF);
    if (!f->f_op->write_iter) return ts.ret(-EINVAL);
    if (!access_ok(buf, count)) return ts.ret(-EFAULT);
    if (static_cast<long>(count) < 0) return ts.ret(-EINVAL);
    if (count > MAX_RW_COUNT) count = MAX_RW_COUNT;
    return ts.ret(new_sync_write(f, buf, count));
}

long long noop_llseek(file*, long long, int) { return 0; }

constexpr int SEEK_MAX = 4;  // SEEK_HOLE

static long ksys_lseek(unsigned fd, long long offset, unsigned whence) {
    trace_scope ts("ksys_lseek", "fd=%u offset=%lld whence=%u", fd, offset, whence);
    std::shared_ptr<file> f = fget(current->files.get(), fd);
    if (!f) return ts.ret(-EBADF);
    if (whence > SEEK_MAX) return ts.ret(-EINVAL);
    if (!f->f_op->llseek) return ts.ret(-ESPIPE);  // vfs_llseek: no FMODE_LSEEK
    return ts.ret(f->f_op->llseek(f.get(), offset, static_cast<int>(whence)));
}

// A positioned read or write needs FMODE_PREAD / FMODE_PWRITE, which no file here has (pipes,
// sockets and the terminal are streams; epoll files cannot be read): ESPIPE, after the offset
// and the descriptor are checked.
static long ksys_pread_pwrite(unsigned fd, char __user* buf, size_t count, long long pos, bool write) {
    trace_scope ts(write ? "ksys_pwrite64" : "ksys_pread64", "fd=%u count=%zu pos=%lld", fd, count, pos);
    if (pos < 0) return ts.ret(-EINVAL);
    std::shared_ptr<file> f = fget(current->files.get(), fd);
    if (!f) return ts.ret(-EBADF);
    (void)buf;
    (void)count;
    (void)write;
    return ts.ret(-ESPIPE);
}

long ksys_read(unsigned int fd, char __user* buf, size_t count) {
    trace_scope ts("ksys_read", "fd=%u count=%zu", fd, count);
    std::shared_ptr<file> f = fget(current->files.get(), fd);  // held while the read sleeps
    if (!f) return ts.ret(-EBADF);
    return ts.ret(vfs_read(f.get(), buf, count));
}

long ksys_write(unsigned int fd, const char __user* buf, size_t count) {
    trace_scope ts("ksys_write", "fd=%u count=%zu", fd, count);
    std::shared_ptr<file> f = fget(current->files.get(), fd);
    if (!f) return ts.ret(-EBADF);
    return ts.ret(vfs_write(f.get(), buf, count));
}

long close_fd(unsigned fd) {
    trace_scope ts("close_fd", "fd=%u", fd);
    files_struct* files = current->files.get();
    if (!files || fd >= files->fdt.size() || !files->fdt[fd].f) return ts.ret(-EBADF);
    files->fdt[fd] = fdentry{};  // the last reference runs the file's release
    return ts.ret(0);
}

static long ksys_dup(unsigned fildes) {
    trace_scope ts("ksys_dup", "fd=%u", fildes);
    files_struct* files = current->files.get();
    std::shared_ptr<file> f = fget(files, fildes);
    if (!f) return ts.ret(-EBADF);
    return ts.ret(fd_install_lowest(files, f, false, task_rlimit(current, RLIMIT_NOFILE)));
}

// A target beyond RLIMIT_NOFILE is checked before the source descriptor: EBADF either way.
static long ksys_dup3(unsigned oldfd, unsigned newfd, int flags) {
    trace_scope ts("ksys_dup3", "oldfd=%u newfd=%u", oldfd, newfd);
    files_struct* files = current->files.get();
    if (flags & ~O_CLOEXEC) return ts.ret(-EINVAL);
    if (oldfd == newfd) return ts.ret(-EINVAL);
    if (newfd >= task_rlimit(current, RLIMIT_NOFILE)) return ts.ret(-EBADF);
    std::shared_ptr<file> f = fget(files, oldfd);
    if (!f) return ts.ret(-EBADF);
    // do_dup2: a number another thread holds for a file still being made (accept) is EBUSY.
    if (newfd < files->fdt.size() && files->fdt[newfd].reserved && !files->fdt[newfd].f) return ts.ret(-EBUSY);
    if (newfd >= files->fdt.size()) files->fdt.resize(newfd + 1);
    files->fdt[newfd] = fdentry{f, (flags & O_CLOEXEC) != 0};  // an open newfd is closed first
    return ts.ret(newfd);
}

SYSCALL_DEFINE3(read, unsigned int, fd, char __user *, buf, size_t, count) { return ksys_read(fd, buf, count); }

SYSCALL_DEFINE3(write, unsigned int, fd, const char __user *, buf, size_t, count) { return ksys_write(fd, buf, count); }

SYSCALL_DEFINE3(lseek, unsigned int, fd, long, offset, unsigned int, whence) { return ksys_lseek(fd, offset, whence); }

SYSCALL_DEFINE4(pread64, unsigned int, fd, char __user *, buf, size_t, count, long, pos) {
    return ksys_pread_pwrite(fd, buf, count, pos, false);
}

SYSCALL_DEFINE4(pwrite64, unsigned int, fd, const char __user *, buf, size_t, count, long, pos) {
    return ksys_pread_pwrite(fd, const_cast<char __user*>(buf), count, pos, true);
}

SYSCALL_DEFINE1(close, unsigned int, fd) {
    long retval = close_fd(fd);
    // The table entry is gone: close is never restarted.
    if (retval == -ERESTARTSYS || retval == -ERESTARTNOINTR || retval == -ERESTARTNOHAND || retval == -ERESTART_RESTARTBLOCK)
        retval = -EINTR;
    return retval;
}

SYSCALL_DEFINE1(dup, unsigned int, fildes) { return ksys_dup(fildes); }

// dup2 onto itself only checks that the descriptor is open.
SYSCALL_DEFINE2(dup2, unsigned int, oldfd, unsigned int, newfd) {
    if (newfd == oldfd) return fget(current->files.get(), oldfd) ? static_cast<long>(oldfd) : -EBADF;
    return ksys_dup3(oldfd, newfd, 0);
}

SYSCALL_DEFINE3(dup3, unsigned int, oldfd, unsigned int, newfd, int, flags) { return ksys_dup3(oldfd, newfd, flags); }

}  // namespace gk
