// Models the console tty of drivers/tty/tty_io.c and n_tty.c (v6.1), in miniature: every write
// lands in the kernel's console log, in order; reads take what the host typed and sleep on the
// console's wait queue until input arrives.
#include "glasskernel/eventpoll.h"
#include "glasskernel/linux.h"
#include "glasskernel/uio.h"

namespace gk {

static long tty_write(kiocb* iocb, iov_iter* from) {
    trace_scope ts("tty_write", "count=%zu", iov_iter_count(from));
    Kernel* k = static_cast<Kernel*>(iocb->ki_filp->private_data);
    task_struct* t = current;
    std::string buf(iov_iter_count(from), '\0');
    size_t n = copy_from_iter(buf.data(), buf.size(), from);
    if (n < buf.size() && !n) return ts.ret(-EFAULT);
    buf.resize(n);
    k->console_out += buf;
    k->console_log.push_back(console_record{k->now(), t ? t->pid : 0, buf});
    return ts.ret(static_cast<long>(n));
}

static long tty_read(kiocb* iocb, iov_iter* to) {
    size_t count = iov_iter_count(to);
    trace_scope ts("tty_read", "count=%zu", count);
    file* f = iocb->ki_filp;
    Kernel* k = static_cast<Kernel*>(f->private_data);
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
    Kernel* k = static_cast<Kernel*>(f->private_data);
    poll_wait(f, &k->console_wait, wait);
    unsigned mask = EPOLLOUT | EPOLLWRNORM;
    if (!k->console_in.empty() || k->console_eof) mask |= EPOLLIN | EPOLLRDNORM;
    return mask;
}

static const file_operations console_fops = {
    .name = "console",
    .read_iter = tty_read,
    .write_iter = tty_write,
    .release = nullptr,
    .poll = console_poll,
};

std::shared_ptr<file> console_file(Kernel* k, unsigned flags) {
    auto f = std::make_shared<file>();
    f->f_op = &console_fops;
    f->f_flags = flags;
    f->private_data = k;
    f->name = "/dev/console";
    return f;
}

}  // namespace gk
