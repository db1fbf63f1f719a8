// Models fs/file.c (v6.1): the descriptor table (dup_fd at fork, lowest-free allocation,
// close-on-exec) and the close/dup/dup2 system calls' work.
#include "glasskernel/linux.h"

namespace gk {

u64 file_next_id() {
    static u64 next = 0;
    return ++next;
}

file::~file() {
    // The release may stop at a breakpoint or sleep (SO_LINGER): the task's stack then holds a
    // destructor, which the unwinding of a kernel teardown must not cross.
    task_struct* t = this_kernel ? this_kernel->running : nullptr;
    if (t) t->thread.in_destructor++;
    // eventpoll_release: no epoll set may keep watching a file that is going away.
    if (!f_ep.empty()) eventpoll_release_file(this);
    if (f_op && f_op->release) f_op->release(this);
    if (t) t->thread.in_destructor--;
}

unsigned long get_next_ino() { return ++this_kernel->last_ino; }

std::shared_ptr<files_struct> dup_fd(const files_struct* oldf) {
    trace_scope ts("dup_fd");
    auto newf = std::make_shared<files_struct>();
    newf->fdt = oldf->fdt;  // each struct file gains a reference: parent and child share offsets
    // sane_fdtable_size: the child's table is as large as the highest open descriptor needs.
    for (fdentry& e : newf->fdt) e.reserved = false;  // a number the parent holds is not the child's
    while (!newf->fdt.empty() && !newf->fdt.back().f) newf->fdt.pop_back();
    newf->next_fd = oldf->next_fd;
    return newf;
}

// POSIX: a new descriptor is always the lowest free number (at or above start, for F_DUPFD).
int alloc_fd(files_struct* files, unsigned start, unsigned long end) {
    size_t fd = start;
    while (fd < files->fdt.size() && (files->fdt[fd].f || files->fdt[fd].reserved)) fd++;
    if (fd >= end) return -EMFILE;
    return static_cast<int>(fd);
}

void fd_install(files_struct* files, unsigned fd, std::shared_ptr<file> f, bool cloexec) {
    if (fd >= files->fdt.size()) files->fdt.resize(fd + 1);
    files->fdt[fd] = fdentry{std::move(f), cloexec};
}

int get_unused_fd(files_struct* files, unsigned long nofile) {
    int fd = alloc_fd(files, 0, nofile);
    if (fd < 0) return fd;
    if (static_cast<size_t>(fd) >= files->fdt.size()) files->fdt.resize(static_cast<size_t>(fd) + 1);
    files->fdt[static_cast<size_t>(fd)].reserved = true;
    return fd;
}

void put_unused_fd(files_struct* files, unsigned fd) {
    if (fd < files->fdt.size() && !files->fdt[fd].f) files->fdt[fd] = fdentry{};
}

int fd_install_lowest(files_struct* files, std::shared_ptr<file> f, bool cloexec, unsigned long nofile) {
    int fd = alloc_fd(files, 0, nofile);
    if (fd >= 0) fd_install(files, static_cast<unsigned>(fd), std::move(f), cloexec);
    return fd;
}

// The file behind fd, with a reference the caller holds for as long as it uses it (fput is the
// shared_ptr going away): a close() by a task sharing the table cannot free it meanwhile.
std::shared_ptr<file> fget(files_struct* files, unsigned int fd) {
    if (!files || fd >= files->fdt.size()) return nullptr;
    return files->fdt[fd].f;
}

void do_close_on_exec(files_struct* files) {
    trace_scope ts("do_close_on_exec");
    for (auto& e : files->fdt)
        if (e.f && e.cloexec) e = fdentry{};
}

void exit_files(task_struct* tsk) {
    trace_scope ts("exit_files");
    std::shared_ptr<files_struct> files = std::move(tsk->files);
    if (files && files->count <= 0) files->fdt.clear();
}

}  // namespace gk
