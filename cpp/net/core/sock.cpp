// Models net/core/sock.c: allocating a sock for a protocol (sk_alloc) and giving it its default
// callbacks (sock_init_data: sk_data_ready = sock_def_readable), the reference count and the
// write-memory count that keep it alive, receive/send buffer accounting, SOL_SOCKET options,
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
    auto* sk = new inet_sock();
    sk->skc_family = family;
    sk->sk_prot = prot;
    sk->sk_net = n;
    sk->sk_id = n->next_sk_id++;
    sk->uid = current ? current->real_cred->euid : 0;
    sk->sk_receive_queue.name = "sk_receive_queue";
    n->socks[sk->sk_id] = sk;
    return sk;
}

// The last write-memory reference is gone: free it (__sk_free).
static void __sk_free(struct sock* sk) {
    trace_scope ts("__sk_free");
    net* n = sock_net(sk);
    skb_queue_purge(&sk->sk_receive_queue);
    n->socks.erase(sk->sk_id);
    delete sk;
}

// sk_free: drop the write-memory reference the sock held on itself; buffers still in flight
// keep it alive until they are freed.
void sk_free(struct sock* sk) {
    if (--sk->sk_wmem_alloc == 0) __sk_free(sk);
}

void sock_put(struct sock* sk) {
    if (--sk->sk_refcnt == 0) sk_free(sk);
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

long sock_rcvtimeo(const struct sock* sk, bool noblock) {
    (void)sk;
    return noblock ? 0 : MAX_SCHEDULE_TIMEOUT;
}

// A sleep cut short by a signal: restart it (SA_RESTART) unless it had a timeout.
int sock_intr_errno(long timeo) { return timeo == MAX_SCHEDULE_TIMEOUT ? -ERESTARTSYS : -EINTR; }

// SOL_SOCKET options; buffer sizes are doubled for bookkeeping overhead, as Linux does.
int sock_setsockopt(socket* sock, int level, int optname, long val) {
    struct sock* sk = sock->sk;
    net* n = sock_net(sk);
    if (level == SOL_IP) {
        if (optname == IP_TTL) {
            if (val == -1) val = -1;
            else if (val < 1 || val > 255) return -EINVAL;
            inet_sk(sk)->uc_ttl = static_cast<int>(val);
            return 0;
        }
        if (optname == IP_HDRINCL) {
            if (sk->sk_type != SOCK_RAW) return -ENOPROTOOPT;
            inet_sk(sk)->hdrincl = val != 0;
            return 0;
        }
        return -ENOPROTOOPT;
    }
    if (level != SOL_SOCKET) return -ENOPROTOOPT;
    int v = static_cast<int>(std::max(std::min(val, static_cast<long>(INT_MAX)), static_cast<long>(INT_MIN)));
    switch (optname) {
    case SO_REUSEADDR: sk->sk_reuse = v != 0; return 0;
    case SO_REUSEPORT: sk->sk_reuseport = v != 0; return 0;
    case SO_BROADCAST: inet_sk(sk)->bcast = v != 0; return 0;
    case SO_RCVBUF:
        v = std::min(v, n->rmem_max);
        sk->sk_rcvbuf = std::max(v * 2, SOCK_MIN_RCVBUF);
        return 0;
    case SO_SNDBUF:
        v = std::min(v, n->wmem_max);
        sk->sk_sndbuf = std::max(v * 2, SOCK_MIN_SNDBUF);
        return 0;
    case SO_TYPE: case SO_ERROR: case SO_PROTOCOL: case SO_DOMAIN:
        return -ENOPROTOOPT;  // read-only
    default:
        return -ENOPROTOOPT;
    }
}

int sock_getsockopt(socket* sock, int level, int optname, long* val) {
    struct sock* sk = sock->sk;
    if (level == SOL_IP && optname == IP_TTL) {
        int ttl = inet_sk(sk)->uc_ttl;
        *val = ttl == -1 ? sock_net(sk)->ip_default_ttl : ttl;
        return 0;
    }
    if (level != SOL_SOCKET) return -ENOPROTOOPT;
    switch (optname) {
    case SO_REUSEADDR: *val = sk->sk_reuse; return 0;
    case SO_REUSEPORT: *val = sk->sk_reuseport; return 0;
    case SO_BROADCAST: *val = inet_sk(sk)->bcast; return 0;
    case SO_RCVBUF: *val = sk->sk_rcvbuf; return 0;
    case SO_SNDBUF: *val = sk->sk_sndbuf; return 0;
    case SO_TYPE: *val = sk->sk_type; return 0;
    case SO_PROTOCOL: *val = sk->sk_protocol; return 0;
    case SO_DOMAIN: *val = sk->skc_family; return 0;
    case SO_ERROR: *val = -sock_error(sk); return 0;
    default: return -ENOPROTOOPT;
    }
}

}  // namespace gk
