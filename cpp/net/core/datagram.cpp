// Models net/core/datagram.c (v6.1): taking a datagram off a receive queue (or peeking at it), and
// sleeping on the socket's wait queue until one arrives, an error is reported, the socket is shut
// down, a signal comes, or the timeout runs out.
#include "glasskernel/eventpoll.h"
#include "glasskernel/linux.h"
#include "glasskernel/net/ip.h"

namespace gk {

// datagram_poll: what a datagram socket can do now, and the queue to be woken through.
unsigned datagram_poll(file* f, socket* sock, poll_table* wait) {
    struct sock* sk = sock->sk;
    poll_wait(f, &sock->wq.wait, wait);
    if (!sk) return EPOLLHUP;
    unsigned mask = 0;
    if (sk->sk_err) mask |= EPOLLERR;
    if (sk->sk_shutdown & RCV_SHUTDOWN) mask |= EPOLLRDHUP | EPOLLIN | EPOLLRDNORM;
    if (sk->sk_shutdown == (RCV_SHUTDOWN | SEND_SHUTDOWN)) mask |= EPOLLHUP;
    if (skb_peek(&sk->sk_receive_queue)) mask |= EPOLLIN | EPOLLRDNORM;
    if (sk->sk_wmem_alloc * 2 < sk->sk_sndbuf) mask |= EPOLLOUT | EPOLLWRNORM | EPOLLWRBAND;  // sock_writeable
    return mask;
}

static int receiver_wake_function(wait_queue_entry* wait, unsigned mode, int sync, void* key) {
    return autoremove_wake_function(wait, mode, sync, key);
}
WAKE_FUNCTION_NAME(receiver_wake_function);

// Sleep until something changes on the socket; 0 to look again, or the error to return.
static int __skb_wait_for_more_packets(struct sock* sk, int* err, long* timeo_p, const sk_buff* skb) {
    trace_scope ts("__skb_wait_for_more_packets");
    wait_queue_entry wait;
    init_wait_entry(&wait, 0);
    wait.func = receiver_wake_function;
    wait_queue_head* wq = &sk->sk_wq->wait;
    prepare_to_wait_exclusive(wq, &wait, TASK_INTERRUPTIBLE);
    int error = 0;
    if (sk->sk_err) {
        error = sock_error(sk);
    } else if (skb_peek(&sk->sk_receive_queue) != skb) {
        error = 0;  // something arrived meanwhile
    } else if (sk->sk_shutdown & RCV_SHUTDOWN) {
        error = 1;  // no more data: return 0 bytes
    } else if (signal_pending(current)) {
        error = sock_intr_errno(*timeo_p);
    } else {
        *timeo_p = schedule_timeout(*timeo_p);
        error = 0;
    }
    finish_wait(wq, &wait);
    if (error < 0) *err = error;
    return ts.ret(error);
}

static sk_buff* __skb_try_recv_from_queue(sk_buff_head* queue, int flags, int* off) {
    (void)off;
    sk_buff* skb = skb_peek(queue);
    if (!skb) return nullptr;
    if (!(flags & MSG_PEEK)) skb_unlink(skb, queue);
    return skb;
}

// Returns a datagram, or nullptr with *err set (-EAGAIN when none and not waiting; 0 when the
// socket was shut down for reading).
sk_buff* __skb_recv_datagram(struct sock* sk, sk_buff_head* queue, int flags, int* off, int* err) {
    trace_scope ts("__skb_recv_datagram", "flags=%#x", flags);
    long timeo = sock_rcvtimeo(sk, flags & MSG_DONTWAIT);
    for (;;) {
        int e = sock_error(sk);
        if (e) {
            *err = e;
            return nullptr;
        }
        sk_buff* skb = __skb_try_recv_from_queue(queue, flags, off);
        if (skb) return skb;
        if (sk->sk_shutdown & RCV_SHUTDOWN) {
            *err = 0;
            return nullptr;
        }
        if (!timeo) {
            *err = -EAGAIN;
            return nullptr;
        }
        int r = __skb_wait_for_more_packets(sk, err, &timeo, nullptr);
        if (r < 0) return nullptr;
        if (r > 0) {
            *err = 0;
            return nullptr;
        }
    }
}

// The datagram's bytes into the receiver's buffer; a fault part-way is EFAULT.
int skb_copy_datagram_iter(const sk_buff* from, int offset, iov_iter* to, int size) {
    trace_scope ts("skb_copy_datagram_iter", "offset=%d len=%d", offset, size);
    size_t n = copy_to_iter(from->data_ptr() + offset, static_cast<size_t>(size), to);
    return ts.ret(n == static_cast<size_t>(size) ? 0 : -EFAULT);
}

}  // namespace gk
