// Models the console tty of drivers/tty/tty_io.c and n_tty.c (v6.1), in miniature: every write
// lands in the kernel's console log, in order; reads take what the host typed and sleep on the
// console's wait queue until input arrives.
#include "glasskernel/eventpoll.h"
#include "glasskernel/linux.h"
#include "glasskernel/uio.h"

namespace gk {

// tty_file_private: what an open of the console knows -- the machine, and which stream it is
// (fd 2 is opened on its own at boot, so what goes to stderr can be told from stdout).
struct tty_file_private {
    Kernel* k;
    int stream;
};

static Kernel* tty_kernel(file* f) { return static_cast<tty_file_private*>(f->private_data)->k; }

static long tty_write(kiocb* iocb, iov_iter* from) {
    trace_scope ts("tty_write", "count=%zu", iov_iter_count(from));
    auto* priv = static_cast<tty_file_private*>(iocb->ki_filp->private_data);
    Kernel* k = priv->k;
    task_struct* t = current;
    std::string buf(iov_iter_count(from), '\0');
    size_t n = copy_from_iter(buf.data(), buf.size(), from);
    if (n < buf.size() && !n) return ts.ret(-EFAULT);
    buf.resize(n);
    k->console_out += buf;
    if (k->console_out.size() > 2 * Kernel::CONSOLE_KEEP) {
        // Let the oldest half go at once: trimming on every write would copy the buffer each time.
        size_t drop = k->console_out.size() - Kernel::CONSOLE_KEEP;
        k->console_out.erase(0, drop);
        k->console_dropped += drop;
    }
    if (k->console_log.size() >= Kernel::CONSOLE_RECORDS) k->console_log.pop_front();
    k->console_log.push_back(console_record{ktime_get(), t ? t->pid : 0, priv->stream, buf});
    return ts.ret(static_cast<long>(n));
}

static long tty_read(kiocb* iocb, iov_iter* to) {
    size_t count = iov_iter_count(to);
    trace_scope ts("tty_read", "count=%zu", count);
    file* f = iocb->ki_filp;
    Kernel* k = tty_kernel(f);
    if (count == 0) return ts.ret(0);
    wait_queue_entry wait;
    init_wait_entry(&wait, 0);
    long ret = 0;
    for (;;) {
        if (!k->console_in.empty()) {
            size_t n = copy_to_iter(k->console_in.data(), std::min(count, k->console_in.size()), to);
            if (!n) {
                ret = -EFAULT;  // the input stays for the next read
                break;
            }
            k->console_in.erase(0, n);
            ret = static_cast<long>(n);
            break;
        }
        if (k->console_eof) break;
        if (f->f_flags & O_NONBLOCK) { ret = -EAGAIN; break; }
        if (signal_pending(current)) { ret = -ERESTARTSYS; break; }
        prepare_to_wait(&k->console_wait, &wait, TASK_INTERRUPTIBLE);
        schedule();
    }
    finish_wait(&k->console_wait, &wait);
    return ts.ret(ret);
}

// n_tty_poll: readable when input is waiting (or at end of input), always writable.
static unsigned console_poll(file* f, poll_table* wait) {
    Kernel* k = tty_kernel(f);
    poll_wait(f, &k->console_wait, wait);
    unsigned mask = EPOLLOUT | EPOLLWRNORM;
    if (!k->console_in.empty() || k->console_eof) mask |= EPOLLIN | EPOLLRDNORM;
    return mask;
}

static void tty_release(file* f) { delete static_cast<tty_file_private*>(f->private_data); }

static const file_operations console_fops = {
    .name = "console",
    .read_iter = tty_read,
    .write_iter = tty_write,
    .release = tty_release,
    .poll = console_poll,
};

std::shared_ptr<file> console_file(Kernel* k, unsigned flags, int stream) {
    auto f = std::make_shared<file>();
    f->f_op = &console_fops;
    f->f_flags = flags;
    f->private_data = new tty_file_private{k, stream};
    f->name = "/dev/console";
    return f;
}

}  // namespace gk
