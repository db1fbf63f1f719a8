// Models net/ipv4/af_inet.c (v6.1): inet_init registers the family, the protocols and the protocol
// switch (inetsw_array: SOCK_STREAM → tcp_prot + inet_stream_ops, SOCK_DGRAM → udp_prot +
// inet_dgram_ops, SOCK_RAW → raw_prot + inet_sockraw_ops) and the receive handlers; inet_create
// builds a socket's sock from the matching entry; inet_bind, inet_dgram_connect, inet_sendmsg (with
// autobind), inet_recvmsg, inet_getname, inet_shutdown and inet_release are the proto_ops every
// inet socket shares.
#include "glasskernel/linux.h"
#include "glasskernel/net/tcp.h"

namespace gk {

net* kernel_net(Kernel* k) { return k->init_net.get(); }
net* sock_net(const struct sock* sk) { return sk->sk_net; }

net::~net() {
    // Teardown: the socks still alive (buffers in flight kept them) go with their machine; the
    // links to other machines are unplugged so that those never reach into this one again.
    for (auto& [id, sk] : socks) delete sk;
    socks.clear();
    for (auto& l : links) {
        for (int e = 0; e < 2; e++)
            if (l->end[e] && l->end[e]->kernel == kernel) l->end[e] = nullptr;
        for (int e = 0; e < 2; e++)
            if (l->end[e]) l->end[e]->link = nullptr;
    }
    for (auto& q : ipfrags)
        for (sk_buff* skb : q->fragments) {
            skb->destructor = nullptr;
            skb->owner = nullptr;
            delete skb;
        }
}

static int inet_create(net* n, socket* sock, int protocol, int kern);
static const net_proto_family inet_family_ops = {.family = AF_INET, .create = inet_create};

static int inet_create(net* n, socket* sock, int protocol, int kern) {
    trace_scope ts("inet_create", "type=%d protocol=%d", sock->type, protocol);
    if (protocol < 0 || protocol >= IPPROTO_MAX) return ts.ret(-EINVAL);
    sock->state = SS_UNCONNECTED;
    // Look for the requested type/protocol pair; IPPROTO_IP (0) is a wildcard on either side.
    int err = -ESOCKTNOSUPPORT;
    const inet_protosw* answer = nullptr;
    for (const inet_protosw& a : n->inetsw[sock->type]) {
        err = 0;
        if (protocol == a.protocol) {
            if (protocol != IPPROTO_IP) { answer = &a; break; }
        } else {
            if (protocol == IPPROTO_IP) { protocol = a.protocol; answer = &a; break; }
            if (a.protocol == IPPROTO_IP) { answer = &a; break; }
        }
        err = -EPROTONOSUPPORT;
    }
    if (!answer) return ts.ret(err ? err : -EPROTONOSUPPORT);
    if (sock->type == SOCK_RAW && !kern && current->real_cred->euid != 0) return ts.ret(-EPERM);  // CAP_NET_RAW
    sock->ops = answer->ops;
    struct sock* sk = sk_alloc(n, AF_INET, answer->prot, kern);
    if (answer->flags & INET_PROTOSW_REUSE) sk->sk_reuse = true;
    inet_sock* inet = inet_sk(sk);
    if (sock->type == SOCK_RAW) {
        inet->inet_num = static_cast<u16>(protocol);
        if (protocol == IPPROTO_RAW) inet->hdrincl = true;
    }
    sock_init_data(sock, sk);
    sk->sk_protocol = protocol;
    if (sk->sk_prot->init) sk->sk_prot->init(sk);
    inet->uc_ttl = -1;
    if (inet->inet_num) {
        // A raw socket is reachable from the moment it exists: hash it now.
        inet->inet_sport = inet->inet_num;
        err = sk->sk_prot->hash(sk);
        if (err) {
            sk_common_release(sk);
            sock->sk = nullptr;
            return ts.ret(err);
        }
    }
    return ts.ret(0);
}

int inet_release(socket* sock) {
    trace_scope ts("inet_release");
    struct sock* sk = sock->sk;
    if (sk) {
        // SO_LINGER makes close() wait (up to the linger time) for the FIN to be acknowledged,
        // unless the process is exiting.
        long timeout = 0;
        if (sk->sk_linger && current && !(current->flags & PF_EXITING))
            timeout = static_cast<long>(sk->sk_lingertime) * this_kernel->cfg.hz;
        sk->sk_prot->close(sk, timeout);
        sock->sk = nullptr;
    }
    return ts.ret(0);
}

// inet_autobind: a socket that sends (or connects) before binding gets an ephemeral port.
static int inet_autobind(struct sock* sk) {
    trace_scope ts("inet_autobind");
    inet_sock* inet = inet_sk(sk);
    if (!inet->inet_num) {
        if (sk->sk_prot->get_port(sk, 0)) return ts.ret(-EAGAIN);
        inet->inet_sport = inet->inet_num;
    }
    return ts.ret(0);
}

static int __inet_bind(struct sock* sk, struct sockaddr* uaddr, int addr_len) {
    auto* addr = reinterpret_cast<struct sockaddr_in*>(uaddr);
    u32 a = ntohl(addr->sin_addr.s_addr);
    unsigned short snum = ntohs(addr->sin_port);
    trace_scope ts("__inet_bind", "addr=%s port=%u", ip_str(a).c_str(), snum);
    (void)addr_len;
    inet_sock* inet = inet_sk(sk);
    net* n = sock_net(sk);
    if (addr->sin_family != AF_INET) {
        // AF_UNSPEC is accepted for INADDR_ANY only (compatibility).
        if (addr->sin_family != AF_UNSPEC || a != 0) return ts.ret(-EAFNOSUPPORT);
    }
    int chk = inet_addr_type(n, a);
    if (a != 0 && chk != RTN_LOCAL && chk != RTN_BROADCAST) return ts.ret(-EADDRNOTAVAIL);
    if (snum && snum < n->ip_unprivileged_port_start && current->real_cred->euid != 0) return ts.ret(-EACCES);
    if (sk->sk_state != TCP_CLOSE || inet->inet_num) return ts.ret(-EINVAL);  // active or already bound
    inet->inet_rcv_saddr = inet->inet_saddr = a;
    if (chk == RTN_BROADCAST) inet->inet_saddr = 0;
    if (sk->sk_prot->get_port(sk, snum)) {
        inet->inet_saddr = inet->inet_rcv_saddr = 0;
        return ts.ret(-EADDRINUSE);
    }
    if (inet->inet_rcv_saddr) sk->sk_userlocks |= SOCK_BINDADDR_LOCK;
    if (snum) sk->sk_userlocks |= SOCK_BINDPORT_LOCK;
    inet->inet_sport = inet->inet_num;
    inet->inet_daddr = 0;
    inet->inet_dport = 0;
    return ts.ret(0);
}

int inet_bind(socket* sock, struct sockaddr* uaddr, int addr_len) {
    trace_scope ts("inet_bind");
    struct sock* sk = sock->sk;
    if (sk->sk_prot->bind) return ts.ret(sk->sk_prot->bind(sk, uaddr, addr_len));  // raw
    if (addr_len < static_cast<int>(sizeof(struct sockaddr_in))) return ts.ret(-EINVAL);
    return ts.ret(__inet_bind(sk, uaddr, addr_len));
}

int inet_dgram_connect(socket* sock, struct sockaddr* uaddr, int addr_len, int flags) {
    trace_scope ts("inet_dgram_connect");
    struct sock* sk = sock->sk;
    if (addr_len < static_cast<int>(sizeof(uaddr->sa_family))) return ts.ret(-EINVAL);
    if (uaddr->sa_family == AF_UNSPEC) return ts.ret(sk->sk_prot->disconnect(sk, flags));
    if (!inet_sk(sk)->inet_num && !sk->sk_prot->no_autobind && inet_autobind(sk)) return ts.ret(-EAGAIN);
    return ts.ret(sk->sk_prot->connect(sk, uaddr, addr_len));
}

int inet_getname(socket* sock, struct sockaddr* uaddr, int peer) {
    struct sock* sk = sock->sk;
    inet_sock* inet = inet_sk(sk);
    auto* sin = reinterpret_cast<struct sockaddr_in*>(uaddr);
    *sin = sockaddr_in{};
    sin->sin_family = AF_INET;
    if (peer) {
        // peer 2 is accept() asking, when the connection may already be closing.
        if (!inet->inet_dport || (((1 << sk->sk_state) & (TCPF_CLOSE | TCPF_SYN_SENT)) && peer == 1)) return -ENOTCONN;
        sin->sin_port = htons(inet->inet_dport);
        sin->sin_addr.s_addr = htonl(inet->inet_daddr);
    } else {
        sin->sin_port = htons(inet->inet_sport);
        sin->sin_addr.s_addr = htonl(inet->inet_rcv_saddr ? inet->inet_rcv_saddr : inet->inet_saddr);
    }
    return sizeof(*sin);
}

int inet_sendmsg(socket* sock, msghdr* msg, size_t size) {
    trace_scope ts("inet_sendmsg", "size=%zu", size);
    struct sock* sk = sock->sk;
    // inet_send_prepare: we may need to bind the socket.
    if (!inet_sk(sk)->inet_num && !sk->sk_prot->no_autobind && inet_autobind(sk)) return ts.ret(-EAGAIN);
    return ts.ret(sk->sk_prot->sendmsg(sk, msg, size));
}

int inet_recvmsg(socket* sock, msghdr* msg, size_t size, int flags) {
    trace_scope ts("inet_recvmsg", "size=%zu flags=%#x", size, flags);
    struct sock* sk = sock->sk;
    int addr_len = 0;
    int err = sk->sk_prot->recvmsg(sk, msg, size, flags, &addr_len);
    if (err >= 0) msg->msg_namelen = addr_len;
    return ts.ret(err);
}

int inet_shutdown(socket* sock, int how);
static int sock_no_listen(socket*, int) { return -EOPNOTSUPP; }

const proto_ops inet_dgram_ops = {
    .family = AF_INET,
    .name = "inet_dgram_ops",
    .release = inet_release,
    .bind = inet_bind,
    .connect = inet_dgram_connect,
    .getname = inet_getname,
    .poll = datagram_poll,
    .listen = sock_no_listen,
    .shutdown = inet_shutdown,
    .setsockopt = sock_common_setsockopt,
    .getsockopt = sock_common_getsockopt,
    .sendmsg = inet_sendmsg,
    .recvmsg = inet_recvmsg,
};

const proto_ops inet_sockraw_ops = {
    .family = AF_INET,
    .name = "inet_sockraw_ops",
    .release = inet_release,
    .bind = inet_bind,
    .connect = inet_dgram_connect,
    .getname = inet_getname,
    .poll = datagram_poll,
    .listen = sock_no_listen,
    .shutdown = inet_shutdown,
    .setsockopt = sock_common_setsockopt,
    .getsockopt = sock_common_getsockopt,
    .sendmsg = inet_sendmsg,
    .recvmsg = inet_recvmsg,
};

// inet_wait_for_connect: sleep until the handshake leaves SYN_SENT / SYN_RECV, a signal, or
// the time-out; returns the time left.
static long inet_wait_for_connect(struct sock* sk, long timeo) {
    trace_scope ts("inet_wait_for_connect");
    wait_queue_entry wait;
    init_wait_entry(&wait, 0);
    wait.func = woken_wake_function;
    add_wait_queue(&sk->sk_wq->wait, &wait);
    // (Linux counts a pending write here only for TCP Fast Open's data, which is not modeled.)
    while ((1 << sk->sk_state) & (TCPF_SYN_SENT | TCPF_SYN_RECV)) {
        release_sock(sk);
        timeo = wait_woken(&wait, TASK_INTERRUPTIBLE, timeo);
        lock_sock(sk);
        if (signal_pending(current) || !timeo) break;
    }
    remove_wait_queue(&sk->sk_wq->wait, &wait);
    return ts.ret(timeo);
}

// connect(2) on a stream socket (__inet_stream_connect): AF_UNSPEC disconnects; a second connect
// while one is in progress is EALREADY, once connected EISCONN; a non-blocking one returns
// EINPROGRESS and completes in the background; a refused or reset attempt reports the error.
static int __inet_stream_connect(socket* sock, struct sockaddr* uaddr, int addr_len, int flags) {
    trace_scope ts("__inet_stream_connect");
    struct sock* sk = sock->sk;
    int err;
    if (uaddr) {
        if (addr_len < static_cast<int>(sizeof(uaddr->sa_family))) return ts.ret(-EINVAL);
        if (uaddr->sa_family == AF_UNSPEC) {
            err = sk->sk_prot->disconnect(sk, flags);
            sock->state = err ? SS_DISCONNECTING : SS_UNCONNECTED;
            return ts.ret(err);
        }
    }
    switch (sock->state) {
    default: return ts.ret(-EINVAL);
    case SS_CONNECTED: return ts.ret(-EISCONN);
    case SS_CONNECTING: err = -EALREADY; break;
    case SS_UNCONNECTED:
        if (sk->sk_state != TCP_CLOSE) return ts.ret(-EISCONN);
        err = sk->sk_prot->connect(sk, uaddr, addr_len);
        if (err < 0) return ts.ret(err);
        sock->state = SS_CONNECTING;
        err = -EINPROGRESS;
        break;
    }
    long timeo = (flags & O_NONBLOCK) ? 0 : sk->sk_sndtimeo;
    if ((1 << sk->sk_state) & (TCPF_SYN_SENT | TCPF_SYN_RECV)) {
        if (!timeo || !(timeo = inet_wait_for_connect(sk, timeo))) return ts.ret(err);
        err = sock_intr_errno(timeo);
        if (signal_pending(current)) return ts.ret(err);
    }
    if (sk->sk_state == TCP_CLOSE) {
        // Closed by a reset, a time-out or an ICMP error.
        int e = sock_error(sk);
        err = e ? e : -ECONNABORTED;
        sock->state = SS_UNCONNECTED;
        if (sk->sk_prot->disconnect(sk, flags)) sock->state = SS_DISCONNECTING;
        return ts.ret(err);
    }
    sock->state = SS_CONNECTED;
    return ts.ret(0);
}

static int inet_stream_connect(socket* sock, struct sockaddr* uaddr, int addr_len, int flags) {
    trace_scope ts("inet_stream_connect");
    lock_sock(sock->sk);
    int err = __inet_stream_connect(sock, uaddr, addr_len, flags);
    release_sock(sock->sk);
    return ts.ret(err);
}

// listen(2): only an unconnected stream socket, from CLOSE (or LISTEN again, which just changes
// the backlog).
static int inet_listen(socket* sock, int backlog) {
    trace_scope ts("inet_listen", "backlog=%d", backlog);
    struct sock* sk = sock->sk;
    lock_sock(sk);
    int err = -EINVAL;
    int old_state = sk->sk_state;
    if (sock->state == SS_UNCONNECTED && sock->type == SOCK_STREAM && ((1 << old_state) & (TCPF_CLOSE | TCPF_LISTEN))) {
        sk->sk_max_ack_backlog = static_cast<unsigned>(backlog);
        err = old_state != TCP_LISTEN ? inet_csk_listen_start(sk) : 0;
    }
    release_sock(sk);
    return ts.ret(err);
}

// The accepted sock joins the new struct socket (sock_graft).
static void sock_graft(struct sock* sk, socket* parent) {
    sk->sk_wq = &parent->wq;
    parent->sk = sk;
    sk->sk_socket = parent;
    sk->ino = parent->ino;
}

static int inet_accept(socket* sock, socket* newsock, int flags, bool kern) {
    trace_scope ts("inet_accept");
    struct sock* sk1 = sock->sk;
    int err = -EINVAL;
    struct sock* sk2 = sk1->sk_prot->accept(sk1, flags, &err, kern);
    if (!sk2) return ts.ret(err);
    sock_graft(sk2, newsock);
    newsock->state = SS_CONNECTED;
    return ts.ret(0);
}

// shutdown(2) (inet_shutdown): the socket's state decides -- a listener stops listening on
// SHUT_RD, a connect in progress is abandoned, a closed socket is ENOTCONN (but still marked);
// otherwise the protocol shuts its half (TCP sends its FIN).
int inet_shutdown(socket* sock, int how) {
    trace_scope ts("inet_shutdown", "how=%d", how);
    struct sock* sk = sock->sk;
    // SHUT_RD → RCV_SHUTDOWN, SHUT_WR → SEND_SHUTDOWN, SHUT_RDWR → both. The kernel is built
    // with -fno-strict-overflow, so INT_MAX wraps (and is refused below) rather than being UB.
    how = static_cast<int>(static_cast<unsigned>(how) + 1u);
    if ((how & ~(RCV_SHUTDOWN | SEND_SHUTDOWN)) || !how) return ts.ret(-EINVAL);
    lock_sock(sk);
    if (sock->state == SS_CONNECTING) {
        if ((1 << sk->sk_state) & (TCPF_SYN_SENT | TCPF_SYN_RECV | TCPF_CLOSE))
            sock->state = SS_DISCONNECTING;
        else
            sock->state = SS_CONNECTED;
    }
    int err = 0;
    switch (sk->sk_state) {
    case TCP_CLOSE:
        err = -ENOTCONN;
        [[fallthrough]];
    default:
        sk->sk_shutdown |= how;
        if (sk->sk_prot->shutdown) sk->sk_prot->shutdown(sk, how);
        break;
    case TCP_LISTEN:
        if (!(how & RCV_SHUTDOWN)) break;
        [[fallthrough]];
    case TCP_SYN_SENT:
        err = sk->sk_prot->disconnect(sk, O_NONBLOCK);
        sock->state = err ? SS_DISCONNECTING : SS_UNCONNECTED;
        break;
    }
    sk->sk_state_change(sk);
    release_sock(sk);
    return ts.ret(err);
}

const proto_ops inet_stream_ops = {
    .family = AF_INET,
    .name = "inet_stream_ops",
    .release = inet_release,
    .bind = inet_bind,
    .connect = inet_stream_connect,
    .getname = inet_getname,
    .poll = tcp_poll,
    .listen = inet_listen,
    .shutdown = inet_shutdown,
    .setsockopt = sock_common_setsockopt,
    .getsockopt = sock_common_getsockopt,
    .sendmsg = inet_sendmsg,
    .recvmsg = inet_recvmsg,
    .accept = inet_accept,
};

extern const net_protocol udp_protocol, icmp_protocol, tcp_protocol;

void inet_init(Kernel* k) {
    kernel_context ctx(k);
    trace_scope ts("inet_init");
    net* n = kernel_net(k);
    proto_register(n, &tcp_prot);
    proto_register(n, &udp_prot);
    proto_register(n, &raw_prot);
    sock_register(n, &inet_family_ops);
    // inet_add_protocol: what ip_local_deliver hands each protocol number to.
    n->inet_protos[IPPROTO_ICMP] = &icmp_protocol;
    n->inet_protos[IPPROTO_UDP] = &udp_protocol;
    n->inet_protos[IPPROTO_TCP] = &tcp_protocol;
    n->tcp = std::make_unique<tcp_net>();
    n->tcp->default_ca = &cubictcp;
    n->tcp->isn_secret = static_cast<u32>(k->cfg.seed * 0x9E3779B97F4A7C15ULL >> 17) ^ 0x5bd1e995u;
    // inetsw_array
    n->inetsw[SOCK_STREAM].push_back({SOCK_STREAM, IPPROTO_TCP, &tcp_prot, &inet_stream_ops, INET_PROTOSW_PERMANENT | INET_PROTOSW_ICSK});
    n->inetsw[SOCK_DGRAM].push_back({SOCK_DGRAM, IPPROTO_UDP, &udp_prot, &inet_dgram_ops, INET_PROTOSW_PERMANENT});
    n->inetsw[SOCK_RAW].push_back({SOCK_RAW, IPPROTO_IP, &raw_prot, &inet_sockraw_ops, INET_PROTOSW_REUSE});
}

}  // namespace gk
