// Models include/linux/fs.h and fdtable.h (v6.1): struct file, file_operations and files_struct.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "glasskernel/types.h"

namespace gk {

struct file;
struct wait_queue_head;
struct epitem;

// What ->poll is given: poll_wait() calls qproc to hang the caller on each wait queue the file
// may be woken through (epoll's ep_ptable_queue_proc); key is the events asked for.
struct poll_table {
    void (*qproc)(file* f, wait_queue_head* whead, poll_table* pt) = nullptr;
    unsigned key = ~0u;
};
inline void poll_wait(file* f, wait_queue_head* whead, poll_table* pt) {
    if (pt && pt->qproc && whead) pt->qproc(f, whead, pt);
}

u64 file_next_id();
// Inode numbers of the pseudo filesystems (pipefs, sockfs): one counter per machine, as in Linux.
unsigned long get_next_ino();

struct kiocb;
struct iov_iter;

struct file_operations {
    const char* name;
    // Move data between the file and the iterator; return the bytes moved or -errno.
    long (*read_iter)(kiocb* iocb, iov_iter* to);
    long (*write_iter)(kiocb* iocb, iov_iter* from);
    void (*release)(file* f);
    unsigned (*poll)(file* f, poll_table* pt) = nullptr;  // the EPOLL* events ready now
    // nullptr: a stream (pipe, socket, tty) with no position: lseek and pread say ESPIPE.
    long long (*llseek)(file* f, long long offset, int whence) = nullptr;
    // O_ASYNC on or off (F_SETFL): SIGIO to the F_SETOWN owner on I/O. No owner can be set here
    // (F_SETOWN is not modeled), so the flag is recorded and no signal ever goes out.
    int (*fasync)(int fd, file* f, int on) = nullptr;
};
int fasync_helper(int fd, file* filp, int on);
long long noop_llseek(file* f, long long offset, int whence);  // a file whose position stays 0

constexpr unsigned O_RDONLY = 0, O_WRONLY = 1, O_RDWR = 2, O_ACCMODE = 3, O_EXCL = 0200, O_APPEND = 02000,
                   O_NONBLOCK = 04000, FASYNC = 020000, O_DIRECT = 040000, O_LARGEFILE = 0100000, O_NOATIME = 01000000,
                   O_CLOEXEC = 02000000;
constexpr unsigned O_NOTIFICATION_PIPE = O_EXCL;  // pipe2(): a watch-queue pipe
constexpr int FD_CLOEXEC = 1;
// fcntl(2) commands (include/uapi/asm-generic/fcntl.h, linux/fcntl.h).
enum : unsigned {
    F_DUPFD = 0, F_GETFD = 1, F_SETFD = 2, F_GETFL = 3, F_SETFL = 4,
    F_DUPFD_CLOEXEC = 1030, F_SETPIPE_SZ = 1031, F_GETPIPE_SZ = 1032,
};

// A struct file is shared by every descriptor that dup() or fork() made from it;
// shared_ptr's count plays f_count.
struct file {
    const file_operations* f_op = nullptr;
    unsigned f_flags = 0;
    void* private_data = nullptr;
    std::string name;
    std::vector<epitem*> f_ep;  // the epoll items watching this file
    u64 f_id = file_next_id();  // creation order: what epoll's tree is ordered by, for determinism
    ~file();
};

struct fdentry {
    std::shared_ptr<file> f;
    bool cloexec = false;
    bool reserved = false;  // taken by get_unused_fd_flags, not yet installed (its open_fds bit)
};

struct files_struct {
    int count = 1;  // tasks sharing this table (CLONE_FILES)
    std::vector<fdentry> fdt;
    int next_fd = 0;
};

std::shared_ptr<files_struct> dup_fd(const files_struct* oldf);
int alloc_fd(files_struct* files, unsigned start, unsigned long end);  // a free fd, or -EMFILE
void fd_install(files_struct* files, unsigned fd, std::shared_ptr<file> f, bool cloexec);
// get_unused_fd_flags / put_unused_fd: a number held for a file still being made (accept may
// sleep meanwhile; a thread sharing the table must not be given the same number).
int get_unused_fd(files_struct* files, unsigned long nofile);
void put_unused_fd(files_struct* files, unsigned fd);
int fd_install_lowest(files_struct* files, std::shared_ptr<file> f, bool cloexec, unsigned long nofile);
std::shared_ptr<file> fget(files_struct* files, unsigned int fd);
void do_close_on_exec(files_struct* files);
void exit_files(struct task_struct* tsk);
void eventpoll_release_file(file* f);

}  // namespace gk
