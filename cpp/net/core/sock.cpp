// Models net/core/sock.c (v6.1): allocating a sock for a protocol (sk_alloc) and giving it its
// default callbacks (sock_init_data: sk_data_ready = sock_def_readable), the reference count and
// the write-memory count that keep it alive, receive/send buffer accounting, SOL_SOCKET options,
// and the common release path (sk_common_release: unhash, sock_orphan, sock_put).
#include "glasskernel/eventpoll.h"
#include "glasskernel/linux.h"
#include "glasskernel/net/ip.h"

namespace gk {

int sock_register(net* n, const net_proto_family* ops) {
    trace_scope ts("sock_register", "family=%d", ops->family);
    if (ops->family < 0 || ops->family >= NPROTO) return ts.ret(-ENOBUFS);
    if (n->net_families[ops->family]) return ts.ret(-EEXIST);
    n->net_families[ops->family] = ops;
    return ts.ret(0);
}

int proto_register(net* n, proto* prot) {
    trace_scope ts("proto_register", "name=%s", prot->name);
    n->proto_list.push_back(prot);
    return ts.ret(0);
}

struct sock* sk_alloc(net* n, int family, proto* prot, int kern) {
    trace_scope ts("sk_alloc", "prot=%s", prot->name);
    (void)kern;
    struct sock* sk = prot->sk_prot_alloc ? prot->sk_prot_alloc() : new inet_sock();
    sk->skc_family = family;
    sk->sk_prot = prot;
    sk->sk_net = n;
    sk->sk_id = n->next_sk_id++;
    sk->uid = current ? current->real_cred->euid : 0;
    sk->sk_receive_queue.name = "sk_receive_queue";
    sk->sk_backlog.name = "sk_backlog";
    n->socks[sk->sk_id] = sk;
    return sk;
}

// The last write-memory reference is gone: free it (__sk_free).
static void __sk_free(struct sock* sk) {
    trace_scope ts("__sk_free");
    net* n = sock_net(sk);
    skb_queue_purge(&sk->sk_receive_queue);
    skb_queue_purge(&sk->sk_backlog);
    n->socks.erase(sk->sk_id);
    delete sk;
}

// sk_free: drop the write-memory reference the sock held on itself; buffers still in flight
// keep it alive until they are freed.
void sk_free(struct sock* sk) {
    if (--sk->sk_wmem_alloc == 0) __sk_free(sk);
}

// Drop a reference; the last one frees the sock. (A static inline of include/net/sock.h in
// Linux; a function here so that the trace shows who drops the last reference.)
void sock_put(struct sock* sk) {
    trace_scope ts("sock_put", "refcnt=%d", sk->sk_refcnt);
    if (--sk->sk_refcnt == 0) sk_free(sk);
}

// A received packet onto the socket's queue, charged to its receive buffer, and the reader told;
// -ENOMEM (counted in sk_drops) when the buffer is full, and the caller frees the packet.
// (Linux: the inline of include/net/sock.h over sock_queue_rcv_skb_reason and __sock_queue_rcv_skb.)
int sock_queue_rcv_skb(struct sock* sk, sk_buff* skb) {
    trace_scope ts("sock_queue_rcv_skb");
    if (sk->sk_rmem_alloc + static_cast<int>(skb->truesize) > sk->sk_rcvbuf) {
        sk->sk_drops++;
        return ts.ret(-ENOMEM);
    }
    skb_set_owner_r(skb, sk);
    skb_queue_tail(&sk->sk_receive_queue, skb);
    if (!sk->sk_dead) sk->sk_data_ready(sk);
    return ts.ret(0);
}

static void sock_def_wakeup(struct sock* sk) {
    if (sk->sk_wq) wake_up_interruptible_all(&sk->sk_wq->wait);
}

// The receive softirq calls this when data is queued: it wakes the sleeping reader.
void sock_def_readable(struct sock* sk) {
    trace_scope ts("sock_def_readable");
    if (sk->sk_wq && waitqueue_active(&sk->sk_wq->wait))
        wake_up_interruptible_sync_poll(&sk->sk_wq->wait, EPOLLIN | EPOLLPRI | EPOLLRDNORM | EPOLLRDBAND);
}

static void sock_def_error_report(struct sock* sk) {
    trace_scope ts("sock_def_error_report");
    if (sk->sk_wq) wake_up_interruptible_sync_poll(&sk->sk_wq->wait, EPOLLERR);
}

static void sock_def_write_space(struct sock* sk) {
    if (sk->sk_wq && sk->sk_wmem_alloc * 2 <= sk->sk_sndbuf)
        wake_up_interruptible_sync_poll(&sk->sk_wq->wait, EPOLLOUT | EPOLLWRNORM | EPOLLWRBAND);
}

void sock_init_data(socket* sock, struct sock* sk) {
    trace_scope ts("sock_init_data");
    sk->sk_type = sock ? sock->type : 0;
    if (sock) {
        sk->sk_wq = &sock->wq;
        sock->sk = sk;
        sk->sk_socket = sock;
        sk->ino = sock->ino;
    }
    sk->sk_state_change = sock_def_wakeup;
    sk->sk_data_ready = sock_def_readable;
    sk->sk_write_space = sock_def_write_space;
    sk->sk_error_report = sock_def_error_report;
    sk->sk_refcnt = 1;
}

// The sock loses its socket (close): nobody can sleep on it any more.
void sock_orphan(struct sock* sk) {
    trace_scope ts("sock_orphan");
    sk->sk_dead = true;
    sk->sk_socket = nullptr;
    sk->sk_wq = nullptr;
}

void sk_common_release(struct sock* sk) {
    trace_scope ts("sk_common_release");
    sk->sk_prot->unhash(sk);
    sock_orphan(sk);
    sock_put(sk);
}

int sock_error(struct sock* sk) {
    int err = sk->sk_err;
    sk->sk_err = 0;
    return -err;
}

static void sock_rfree(sk_buff* skb) { skb->sk->sk_rmem_alloc -= static_cast<int>(skb->truesize); }

void skb_set_owner_r(sk_buff* skb, struct sock* sk) {
    skb_orphan(skb);
    skb->sk = sk;
    skb->destructor = sock_rfree;
    sk->sk_rmem_alloc += static_cast<int>(skb->truesize);
}

static void sock_wfree(sk_buff* skb) {
    struct sock* sk = skb->sk;
    sk->sk_wmem_alloc -= static_cast<int>(skb->truesize);
    if (sk->sk_wmem_alloc == 0) {
        __sk_free(sk);
        return;
    }
    if (!sk->sk_dead) sk->sk_write_space(sk);
}

void skb_set_owner_w(sk_buff* skb, struct sock* sk) {
    skb_orphan(skb);
    skb->sk = sk;
    skb->destructor = sock_wfree;
    sk->sk_wmem_alloc += static_cast<int>(skb->truesize);
}

// lock_sock: a process takes the socket, waiting (uninterruptibly) if another process holds
// it. Kernel code does not run concurrently here, so the spin-lock half has nothing to do.
void lock_sock(struct sock* sk) {
    trace_scope ts("lock_sock");
    while (sk->sk_lock_owned) {
        wait_queue_entry wait;
        init_wait_entry(&wait, WQ_FLAG_EXCLUSIVE);
        prepare_to_wait_exclusive(&sk->sk_lock_wq, &wait, TASK_UNINTERRUPTIBLE);
        if (sk->sk_lock_owned) schedule();
        finish_wait(&sk->sk_lock_wq, &wait);
    }
    sk->sk_lock_owned = true;
}

// release_sock: first the segments that arrived while we held the socket (__release_sock), then
// whatever the protocol deferred, then the next waiter.
void release_sock(struct sock* sk) {
    trace_scope ts("release_sock");
    while (sk_buff* skb = skb_dequeue(&sk->sk_backlog)) {
        sk->sk_backlog_len -= static_cast<int>(skb->truesize);
        sk->sk_backlog_rcv(sk, skb);
    }
    sk->sk_backlog_len = 0;
    if (sk->sk_release_cb) sk->sk_release_cb(sk);
    sk->sk_lock_owned = false;
    if (waitqueue_active(&sk->sk_lock_wq)) wake_up(&sk->sk_lock_wq);
}

// A segment for a socket a process holds waits in the backlog, within a byte limit.
bool sk_add_backlog(struct sock* sk, sk_buff* skb, unsigned limit) {
    if (static_cast<unsigned>(sk->sk_backlog_len + sk->sk_rmem_alloc) > limit) return false;
    sk->sk_backlog_len += static_cast<int>(skb->truesize);
    skb_queue_tail(&sk->sk_backlog, skb);
    return true;
}

long sock_rcvtimeo(const struct sock* sk, bool noblock) { return noblock ? 0 : sk->sk_rcvtimeo; }

// A sleep cut short by a signal: restart it (SA_RESTART) unless it had a timeout.
int sock_intr_errno(long timeo) { return timeo == MAX_SCHEDULE_TIMEOUT ? -ERESTARTSYS : -EINTR; }

// SOL_SOCKET options; buffer sizes are doubled for bookkeeping overhead, as Linux does.
// SOL_SOCKET options (sk_setsockopt): an int, read from user memory. Buffer sizes are hints: a
// request beyond the sysctl maximum is cut to it (as a u32, so a negative one is cut too), and
// the kernel doubles it to leave room for its bookkeeping.
// SO_RCVTIMEO / SO_SNDTIMEO (sock_set_timeout): a struct timeval, 0 meaning no time-out; a
// microsecond field out of range is EDOM, a negative time a time-out of 0.
static int sock_set_timeout(long* timeo_p, const char __user* optval, unsigned int optlen) {
    __kernel_old_timeval tv;
    if (optlen < sizeof tv) return -EINVAL;
    if (copy_from_user(&tv, optval, sizeof tv)) return -EFAULT;
    if (tv.tv_usec < 0 || tv.tv_usec >= 1000000) return -EDOM;
    if (tv.tv_sec < 0) {
        *timeo_p = 0;
        return 0;
    }
    long hz = this_kernel->cfg.hz;
    if (tv.tv_sec == 0 && tv.tv_usec == 0) {
        *timeo_p = MAX_SCHEDULE_TIMEOUT;
        return 0;
    }
    if (tv.tv_sec < (MAX_SCHEDULE_TIMEOUT / hz - 1))
        *timeo_p = tv.tv_sec * hz + (tv.tv_usec + (1000000 / hz - 1)) / (1000000 / hz);
    else
        *timeo_p = MAX_SCHEDULE_TIMEOUT;
    return 0;
}

void tcp_set_keepalive(struct sock* sk, bool val);
bool sk_is_tcp(const struct sock* sk);

int sock_setsockopt(socket* sock, int level, int optname, const char __user* optval, unsigned int optlen) {
    (void)level;
    struct sock* sk = sock->sk;
    net* n = sock_net(sk);
    if (optname == SO_RCVTIMEO_OLD) return sock_set_timeout(&sk->sk_rcvtimeo, optval, optlen);
    if (optname == SO_SNDTIMEO_OLD) return sock_set_timeout(&sk->sk_sndtimeo, optval, optlen);
    if (optname == SO_LINGER) {
        struct { int l_onoff, l_linger; } ling;
        if (optlen < sizeof ling) return -EINVAL;
        if (copy_from_user(&ling, optval, sizeof ling)) return -EFAULT;
        sk->sk_linger = ling.l_onoff != 0;
        sk->sk_lingertime = ling.l_onoff ? std::max(ling.l_linger, 0) : 0;
        return 0;
    }
    if (optlen < sizeof(int)) return -EINVAL;
    int val;
    if (copy_from_user(&val, optval, sizeof val)) return -EFAULT;
    bool valbool = val != 0;
    switch (optname) {
    case SO_REUSEADDR: sk->sk_reuse = valbool; return 0;
    case SO_REUSEPORT: sk->sk_reuseport = valbool; return 0;
    case SO_BROADCAST: inet_sk(sk)->bcast = valbool; return 0;
    case SO_KEEPALIVE:
        if (sk_is_tcp(sk)) tcp_set_keepalive(sk, valbool);
        sk->sk_keepopen = valbool;
        return 0;
    case SO_RCVLOWAT:
        if (val < 0) val = INT_MAX;
        sk->sk_rcvlowat = val ? val : 1;
        return 0;
    case SO_SNDBUF:
        val = static_cast<int>(std::min(static_cast<u32>(val), static_cast<u32>(n->wmem_max)));
        val = std::min(val, INT_MAX / 2);
        sk->sk_userlocks |= 1;  // SOCK_SNDBUF_LOCK: no more autotuning
        sk->sk_sndbuf = std::max(val * 2, SOCK_MIN_SNDBUF);
        return 0;
    case SO_RCVBUF:
        val = static_cast<int>(std::min(static_cast<u32>(val), static_cast<u32>(n->rmem_max)));
        val = std::min(val, INT_MAX / 2);  // __sock_set_rcvbuf
        sk->sk_rcvbuf = std::max(val * 2, SOCK_MIN_RCVBUF);
        return 0;
    case SO_TYPE: case SO_PROTOCOL: case SO_DOMAIN: case SO_ERROR:
        return -ENOPROTOOPT;  // read-only
    default:
        return -ENOPROTOOPT;
    }
}

// sk_getsockopt: the value cut to the length the caller offers; the length written back.
int sock_getsockopt(socket* sock, int level, int optname, char __user* optval, int __user* optlen) {
    (void)level;
    struct sock* sk = sock->sk;
    int len;
    if (get_user(len, optlen)) return -EFAULT;
    if (len < 0) return -EINVAL;
    int val = 0;
    if (optname == SO_RCVTIMEO_OLD || optname == SO_SNDTIMEO_OLD) {
        long t = optname == SO_RCVTIMEO_OLD ? sk->sk_rcvtimeo : sk->sk_sndtimeo;
        long hz = this_kernel->cfg.hz;
        __kernel_old_timeval tv{0, 0};
        if (t != MAX_SCHEDULE_TIMEOUT) tv = __kernel_old_timeval{t / hz, (t % hz) * (1000000 / hz)};
        if (len > static_cast<int>(sizeof tv)) len = sizeof tv;
        if (copy_to_user(optval, &tv, static_cast<unsigned long>(len))) return -EFAULT;
        return put_user(len, optlen);
    }
    if (optname == SO_LINGER) {
        struct { int l_onoff, l_linger; } ling{sk->sk_linger, sk->sk_lingertime};
        if (len > static_cast<int>(sizeof ling)) len = sizeof ling;
        if (copy_to_user(optval, &ling, static_cast<unsigned long>(len))) return -EFAULT;
        return put_user(len, optlen);
    }
    switch (optname) {
    case SO_REUSEADDR: val = sk->sk_reuse; break;
    case SO_KEEPALIVE: val = sk->sk_keepopen; break;
    case SO_RCVLOWAT: val = sk->sk_rcvlowat; break;
    case SO_ACCEPTCONN: val = sk->sk_state == TCP_LISTEN; break;
    case SO_REUSEPORT: val = sk->sk_reuseport; break;
    case SO_BROADCAST: val = inet_sk(sk)->bcast; break;
    case SO_RCVBUF: val = sk->sk_rcvbuf; break;
    case SO_SNDBUF: val = sk->sk_sndbuf; break;
    case SO_TYPE: val = sk->sk_type; break;
    case SO_PROTOCOL: val = sk->sk_protocol; break;
    case SO_DOMAIN: val = sk->skc_family; break;
    case SO_ERROR: val = -sock_error(sk); break;
    default: return -ENOPROTOOPT;
    }
    if (len > static_cast<int>(sizeof val)) len = sizeof val;
    if (copy_to_user(optval, &val, static_cast<unsigned long>(len))) return -EFAULT;
    return put_user(len, optlen);
}

// The protocol's own options (everything but SOL_SOCKET) go to sk->sk_prot.
int sock_common_setsockopt(socket* sock, int level, int optname, const char __user* optval, unsigned int optlen) {
    struct sock* sk = sock->sk;
    return sk->sk_prot->setsockopt(sk, level, optname, optval, optlen);
}

int sock_common_getsockopt(socket* sock, int level, int optname, char __user* optval, int __user* optlen) {
    struct sock* sk = sock->sk;
    return sk->sk_prot->getsockopt(sk, level, optname, optval, optlen);
}

}  // namespace gk
