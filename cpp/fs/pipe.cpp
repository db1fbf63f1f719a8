// Models fs/pipe.c (v6.1): pipe(2) and pipe2(2) through do_pipe2 → __do_pipe_flags →
// create_pipe_files; pipe_read and pipe_write moving data through the ring of page-sized
// pipe_buffers and sleeping on rd_wait / wr_wait; pipe_poll; pipe_release, after which readers
// see end of file and writers EPIPE + SIGPIPE; and F_GETPIPE_SZ / F_SETPIPE_SZ (pipe_fcntl).
#include <new>

#include "glasskernel/eventpoll.h"
#include "glasskernel/pipe_fs_i.h"
#include "glasskernel/syscalls.h"
#include "glasskernel/uio.h"

namespace gk {

static long pipe_read(kiocb* iocb, iov_iter* to);
static long pipe_write(kiocb* iocb, iov_iter* from);
static unsigned pipe_poll(file* filp, poll_table* wait);
static void pipe_release(file* f);

static int pipe_fasync(int fd, file* filp, int on) { return fasync_helper(fd, filp, on); }

static const file_operations pipefifo_fops = {
    .name = "pipe",
    .read_iter = pipe_read,
    .write_iter = pipe_write,
    .release = pipe_release,
    .poll = pipe_poll,
    .llseek = nullptr,
    .fasync = pipe_fasync,
};

pipe_inode_info* get_pipe_info(file* f) {
    return f && f->f_op == &pipefifo_fops ? static_cast<pipe_inode_info*>(f->private_data) : nullptr;
}

static bool pipe_readable(const pipe_inode_info* pipe) { return !pipe_empty(pipe->head, pipe->tail) || !pipe->writers; }
static bool pipe_writable(const pipe_inode_info* pipe) {
    return !pipe_full(pipe->head, pipe->tail, pipe->max_usage) || !pipe->readers;
}
// O_DIRECT on the write end: each write is a packet that one read takes whole (or cuts).
static bool is_packetized(const file* f) { return f->f_flags & O_DIRECT; }

static bool file_can_read(const file* f) { return (f->f_flags & O_ACCMODE) != O_WRONLY; }   // FMODE_READ
static bool file_can_write(const file* f) { return (f->f_flags & O_ACCMODE) != O_RDONLY; }  // FMODE_WRITE

// anon_pipe_buf_release: an emptied buffer's page is kept for the next write when the pipe has
// none in hand, which saves an allocation per page in a steady stream.
static void anon_pipe_buf_release(pipe_inode_info* pipe, pipe_buffer* buf) {
    if (!pipe->tmp_page) pipe->tmp_page = std::move(buf->page);
    buf->page.reset();
    buf->offset = buf->len = buf->flags = 0;
}

static long pipe_read(kiocb* iocb, iov_iter* to) {
    size_t total_len = iov_iter_count(to);
    file* filp = iocb->ki_filp;
    pipe_inode_info* pipe = get_pipe_info(filp);
    trace_scope ts("pipe_read", "ino=%lu len=%zu", pipe->i_ino, total_len);
    if (total_len == 0) return ts.ret(0);  // a null read succeeds
    long ret = 0;
    // Writers are woken only if the pipe was full when the read began: only they can be waiting.
    bool was_full = pipe_full(pipe->head, pipe->tail, pipe->max_usage);
    bool wake_next_reader = false;
    for (;;) {
        unsigned head = pipe->head, tail = pipe->tail, mask = pipe->ring_size - 1;
        if (!pipe_empty(head, tail)) {
            pipe_buffer* buf = &pipe->bufs[tail & mask];
            size_t chars = std::min<size_t>(buf->len, total_len);
            size_t written = copy_to_iter(buf->page->bytes + buf->offset, chars, to);
            if (written < chars) {
                if (!ret) ret = -EFAULT;
                break;
            }
            ret += static_cast<long>(chars);
            buf->offset += static_cast<unsigned>(chars);
            buf->len -= static_cast<unsigned>(chars);
            if (buf->flags & PIPE_BUF_FLAG_PACKET) {  // the rest of a packet is dropped
                total_len = chars;
                buf->len = 0;
            }
            if (!buf->len) {
                anon_pipe_buf_release(pipe, buf);
                pipe->tail = ++tail;
            }
            total_len -= chars;
            if (!total_len) break;
            if (!pipe_empty(head, tail)) continue;
        }
        // Empty: end of file once every writer has gone; otherwise return what we have.
        if (!pipe->writers) break;
        if (ret) break;
        if (filp->f_flags & O_NONBLOCK) {
            ret = -EAGAIN;
            break;
        }
        if (was_full) wake_up_interruptible_sync_poll(&pipe->wr_wait, EPOLLOUT | EPOLLWRNORM);
        if (wait_event_interruptible_exclusive(&pipe->rd_wait, [pipe] { return pipe_readable(pipe); }) < 0)
            return ts.ret(-ERESTARTSYS);
        was_full = pipe_full(pipe->head, pipe->tail, pipe->max_usage);
        wake_next_reader = true;
    }
    // Readers sleep exclusively: the one that took data passes the wake-up on if data is left.
    if (pipe_empty(pipe->head, pipe->tail)) wake_next_reader = false;
    if (was_full) wake_up_interruptible_sync_poll(&pipe->wr_wait, EPOLLOUT | EPOLLWRNORM);
    if (wake_next_reader) wake_up_interruptible_sync_poll(&pipe->rd_wait, EPOLLIN | EPOLLRDNORM);
    if (ret > 0) pipe->bytes_read += static_cast<u64>(ret);
    return ts.ret(ret);
}

static long pipe_write(kiocb* iocb, iov_iter* from) {
    file* filp = iocb->ki_filp;
    pipe_inode_info* pipe = get_pipe_info(filp);
    size_t total_len = iov_iter_count(from);
    trace_scope ts("pipe_write", "ino=%lu len=%zu", pipe->i_ino, total_len);
    long ret = 0;
    bool was_empty = false, wake_next_writer = false;
    if (total_len == 0) return ts.ret(0);
    if (!pipe->readers) {
        send_sig(SIGPIPE, current, 0);
        return ts.ret(-EPIPE);
    }
    {
        // A write whose tail end fits in the last buffer's page goes there first. A write of
        // PIPE_BUF or less is therefore either merged whole or given a page of its own: never
        // split, which is what makes it atomic.
        unsigned head = pipe->head;
        was_empty = pipe_empty(head, pipe->tail);
        size_t chars = total_len & (PAGE_SIZE - 1);
        if (chars && !was_empty) {
            pipe_buffer* buf = &pipe->bufs[(head - 1) & (pipe->ring_size - 1)];
            size_t offset = buf->offset + buf->len;
            if ((buf->flags & PIPE_BUF_FLAG_CAN_MERGE) && offset + chars <= PAGE_SIZE) {
                size_t copied = copy_from_iter(buf->page->bytes + offset, chars, from);
                if (copied < chars) {
                    ret = -EFAULT;
                    goto out;
                }
                ret = static_cast<long>(copied);
                buf->len += static_cast<unsigned>(copied);
                if (!iov_iter_count(from)) goto out;
            }
        }
    }
    for (;;) {
        if (!pipe->readers) {
            send_sig(SIGPIPE, current, 0);
            if (!ret) ret = -EPIPE;
            break;
        }
        unsigned head = pipe->head;
        if (!pipe_full(head, pipe->tail, pipe->max_usage)) {
            if (!pipe->tmp_page) {
                pipe->tmp_page.reset(new (std::nothrow) page_data);
                if (!pipe->tmp_page) {
                    if (!ret) ret = -ENOMEM;
                    break;
                }
            }
            pipe->head = head + 1;
            pipe_buffer* buf = &pipe->bufs[head & (pipe->ring_size - 1)];
            buf->page = std::move(pipe->tmp_page);
            buf->offset = 0;
            buf->len = 0;
            buf->flags = is_packetized(filp) ? PIPE_BUF_FLAG_PACKET : PIPE_BUF_FLAG_CAN_MERGE;
            size_t copied = copy_from_iter(buf->page->bytes, PAGE_SIZE, from);
            if (copied < PAGE_SIZE && iov_iter_count(from)) {
                if (!ret) ret = -EFAULT;
                break;
            }
            ret += static_cast<long>(copied);
            buf->len = static_cast<unsigned>(copied);
            if (!iov_iter_count(from)) break;
        }
        if (!pipe_full(head, pipe->tail, pipe->max_usage)) continue;
        // Full: a non-blocking writer returns what it wrote; a blocking one waits for room.
        if (filp->f_flags & O_NONBLOCK) {
            if (!ret) ret = -EAGAIN;
            break;
        }
        if (signal_pending(current)) {
            if (!ret) ret = -ERESTARTSYS;
            break;
        }
        if (was_empty) wake_up_interruptible_sync_poll(&pipe->rd_wait, EPOLLIN | EPOLLRDNORM);
        wait_event_interruptible_exclusive(&pipe->wr_wait, [pipe] { return pipe_writable(pipe); });
        was_empty = pipe_empty(pipe->head, pipe->tail);
        wake_next_writer = true;
    }
out:
    if (pipe_full(pipe->head, pipe->tail, pipe->max_usage)) wake_next_writer = false;
    // Once anyone has polled the pipe, every write wakes the readers: edge-triggered epoll users
    // came to rely on a wake-up per write.
    if (was_empty || pipe->poll_usage) wake_up_interruptible_sync_poll(&pipe->rd_wait, EPOLLIN | EPOLLRDNORM);
    if (wake_next_writer) wake_up_interruptible_sync_poll(&pipe->wr_wait, EPOLLOUT | EPOLLWRNORM);
    if (ret > 0) pipe->bytes_written += static_cast<u64>(ret);
    return ts.ret(ret);
}

// A read end is woken through rd_wait, a write end through wr_wait; the entry goes on before the
// state is read, so that a change in between still wakes the poller.
static unsigned pipe_poll(file* filp, poll_table* wait) {
    pipe_inode_info* pipe = get_pipe_info(filp);
    pipe->poll_usage = true;
    if (file_can_read(filp)) poll_wait(filp, &pipe->rd_wait, wait);
    if (file_can_write(filp)) poll_wait(filp, &pipe->wr_wait, wait);
    unsigned head = pipe->head, tail = pipe->tail, mask = 0;
    if (file_can_read(filp)) {
        if (!pipe_empty(head, tail)) mask |= EPOLLIN | EPOLLRDNORM;
        if (!pipe->writers) mask |= EPOLLHUP;  // (a FIFO also compares f_version; no FIFOs here)
    }
    if (file_can_write(filp)) {
        if (!pipe_full(head, tail, pipe->max_usage)) mask |= EPOLLOUT | EPOLLWRNORM;
        if (!pipe->readers) mask |= EPOLLERR;
    }
    return mask;
}

static pipe_inode_info* alloc_pipe_info() {
    auto* pipe = new (std::nothrow) pipe_inode_info();
    if (!pipe) return nullptr;
    try {
        pipe->bufs.resize(PIPE_DEF_BUFFERS);
    } catch (const std::bad_alloc&) {
        delete pipe;
        return nullptr;
    }
    pipe->i_ino = get_next_ino();
    this_kernel->pipes[pipe->i_ino] = pipe;
    return pipe;
}

static void free_pipe_info(pipe_inode_info* pipe) {
    this_kernel->pipes.erase(pipe->i_ino);  // first: a stop in here must not find it half freed
    trace_scope ts("free_pipe_info");
    delete pipe;  // the pages of unread buffers go with it
}

static void put_pipe_info(pipe_inode_info* pipe) {
    if (!--pipe->files) free_pipe_info(pipe);
}

static void pipe_release(file* f) {
    pipe_inode_info* pipe = get_pipe_info(f);
    trace_scope ts("pipe_release", "ino=%lu", pipe->i_ino);
    if (file_can_read(f)) pipe->readers--;
    if (file_can_write(f)) pipe->writers--;
    // The last reader or the last writer gone, but not both: the other side must find out
    // (readers see end of file, writers EPIPE). Teardown has no sleepers left to tell.
    if (!pipe->readers != !pipe->writers && !this_kernel->tearing_down) {
        wake_up_interruptible_all(&pipe->rd_wait);
        wake_up_interruptible_all(&pipe->wr_wait);
    }
    f->private_data = nullptr;
    put_pipe_info(pipe);
}

// The read end and the write end: two files on one pipe inode.
static int create_pipe_files(std::shared_ptr<file> res[2], int flags) {
    trace_scope ts("create_pipe_files", "flags=%#x", flags);
    pipe_inode_info* pipe = alloc_pipe_info();  // get_pipe_inode
    if (!pipe) return ts.ret(-ENFILE);
    if (flags & O_NOTIFICATION_PIPE) {  // watch_queue_init: built without CONFIG_WATCH_QUEUE
        free_pipe_info(pipe);
        return ts.ret(-ENOPKG);
    }
    pipe->readers = pipe->writers = 1;
    pipe->files = 2;
    std::string name = "pipe:[" + std::to_string(pipe->i_ino) + "]";
    for (int i = 0; i < 2; i++) {
        res[i] = std::make_shared<file>();
        res[i]->f_op = &pipefifo_fops;
        res[i]->private_data = pipe;
        res[i]->name = name;
    }
    res[0]->f_flags = O_RDONLY | (flags & O_NONBLOCK);
    res[1]->f_flags = O_WRONLY | (flags & (O_NONBLOCK | O_DIRECT));
    return ts.ret(0);
}

static int __do_pipe_flags(int fd[2], std::shared_ptr<file> files[2], int flags) {
    trace_scope ts("__do_pipe_flags");
    if (flags & ~static_cast<int>(O_CLOEXEC | O_NONBLOCK | O_DIRECT | O_NOTIFICATION_PIPE)) return ts.ret(-EINVAL);
    int error = create_pipe_files(files, flags);
    if (error) return ts.ret(error);
    files_struct* fdt = current->files.get();
    unsigned long nofile = task_rlimit(current, RLIMIT_NOFILE);
    // get_unused_fd_flags twice: the read end gets the lower number.
    int fdr = get_unused_fd(fdt, nofile);
    if (fdr < 0) return ts.ret(fdr);  // files[] going away releases the pipe
    int fdw = get_unused_fd(fdt, nofile);
    if (fdw < 0) {
        put_unused_fd(fdt, static_cast<unsigned>(fdr));
        return ts.ret(fdw);
    }
    fd[0] = fdr;
    fd[1] = fdw;
    return ts.ret(0);
}

// The two numbers reach user memory before the descriptors exist: a bad address leaves no
// descriptor behind.
static int do_pipe2(int __user* fildes, int flags) {
    trace_scope ts("do_pipe2", "flags=%#x", flags);
    int fd[2];
    std::shared_ptr<file> files[2];
    int error = __do_pipe_flags(fd, files, flags);
    if (error) return ts.ret(error);
    files_struct* fdt = current->files.get();
    if (copy_to_user(fildes, fd, sizeof fd)) {
        put_unused_fd(fdt, static_cast<unsigned>(fd[0]));
        put_unused_fd(fdt, static_cast<unsigned>(fd[1]));
        return ts.ret(-EFAULT);
    }
    bool cloexec = flags & O_CLOEXEC;
    fd_install(fdt, static_cast<unsigned>(fd[0]), files[0], cloexec);
    fd_install(fdt, static_cast<unsigned>(fd[1]), files[1], cloexec);
    return ts.ret(0);
}

SYSCALL_DEFINE2(pipe2, int __user *, fildes, int, flags) { return do_pipe2(fildes, flags); }

SYSCALL_DEFINE1(pipe, int __user *, fildes) { return do_pipe2(fildes, 0); }

// ---- F_SETPIPE_SZ / F_GETPIPE_SZ ----

// A size in bytes becomes a power-of-two number of pages, at least one; beyond 2 GiB, none.
static unsigned round_pipe_size(unsigned long size) {
    if (size > (1UL << 31)) return 0;
    if (size < PAGE_SIZE) return PAGE_SIZE;
    unsigned long r = 1;
    while (r < size) r <<= 1;
    return static_cast<unsigned>(r);
}

// A new ring of nr_slots; the occupied buffers move to its start, in order. EBUSY if they do
// not fit.
static int pipe_resize_ring(pipe_inode_info* pipe, unsigned nr_slots) {
    unsigned n = pipe_occupancy(pipe->head, pipe->tail);
    if (nr_slots < n) return -EBUSY;
    std::vector<pipe_buffer> bufs;
    try {
        bufs.resize(nr_slots);
    } catch (const std::bad_alloc&) {
        return -ENOMEM;
    }
    unsigned mask = pipe->ring_size - 1;
    for (unsigned i = 0; i < n; i++) bufs[i] = std::move(pipe->bufs[(pipe->tail + i) & mask]);
    pipe->bufs = std::move(bufs);
    pipe->ring_size = nr_slots;
    pipe->tail = 0;
    pipe->head = n;
    pipe->max_usage = nr_slots;
    wake_up_interruptible(&pipe->wr_wait);  // there may be room for writers now
    return 0;
}

// Growing past pipe-max-size takes CAP_SYS_RESOURCE; shrinking is always allowed. (Linux also
// caps the pages a user's pipes may hold, pipe-user-pages-soft/hard; not modeled.)
static long pipe_set_size(pipe_inode_info* pipe, unsigned long arg) {
    trace_scope ts("pipe_set_size", "arg=%lu", arg);
    unsigned size = round_pipe_size(arg);
    unsigned nr_slots = size >> PAGE_SHIFT;
    if (!nr_slots) return ts.ret(-EINVAL);
    if (nr_slots > pipe->max_usage && size > PIPE_MAX_SIZE && current->real_cred->euid != 0) return ts.ret(-EPERM);
    int ret = pipe_resize_ring(pipe, nr_slots);
    if (ret < 0) return ts.ret(ret);
    return ts.ret(static_cast<long>(pipe->max_usage * PAGE_SIZE));
}

long pipe_fcntl(file* f, unsigned cmd, unsigned long arg) {
    pipe_inode_info* pipe = get_pipe_info(f);
    if (!pipe) return -EBADF;
    switch (cmd) {
    case F_SETPIPE_SZ: return pipe_set_size(pipe, arg);
    case F_GETPIPE_SZ: return static_cast<long>(pipe->max_usage * PAGE_SIZE);
    default: return -EINVAL;
    }
}

// ---- the self-check ----

std::string pipe_check(Kernel* k) {
    for (auto& [ino, pipe] : k->pipes) {
        std::string who = "pipe:[" + std::to_string(ino) + "]: ";
        unsigned n = pipe_occupancy(pipe->head, pipe->tail);
        if (pipe->i_ino != ino) return who + "filed under the wrong inode number";
        if (!pipe->ring_size || (pipe->ring_size & (pipe->ring_size - 1))) return who + "ring size is not a power of two";
        if (pipe->bufs.size() != pipe->ring_size) return who + "ring_size disagrees with the ring";
        if (pipe->max_usage > pipe->ring_size) return who + "max_usage exceeds the ring";
        if (n > pipe->ring_size) return who + "head and tail are more than a ring apart";
        if (!pipe->files || pipe->readers + pipe->writers > pipe->files) return who + "more ends open than files";
        unsigned mask = pipe->ring_size - 1;
        for (unsigned i = 0; i < pipe->ring_size; i++) {
            const pipe_buffer& b = pipe->bufs[i];
            bool occupied = ((i - pipe->tail) & mask) < n || n == pipe->ring_size;
            if (occupied && !b.page) return who + "an occupied slot has no page";
            if (!occupied && b.page) return who + "a free slot still holds a page";
            if (b.offset + b.len > PAGE_SIZE) return who + "a buffer runs past its page";
        }
        // A sleeper leaves the queue before it can exit: finish_wait comes first.
        for (wait_queue_head* wq : {&pipe->rd_wait, &pipe->wr_wait})
            for (auto& e : wq->head)
                if (e.private_ && e.private_->exit_state) return who + wq->name + " has an entry for a task that has exited";
    }
    return "";
}

}  // namespace gk
