// Models the socket-level corner of net/ipv4/tcp.c and inet_connection_sock.c (v6.1): a SOCK_STREAM
// socket can be created, bound (ports come from inet_csk_get_port's table) and closed. The
// connection state machine is not modeled yet: connect, send and receive say EOPNOTSUPP.
#include "glasskernel/linux.h"
#include "glasskernel/net/ip.h"

namespace gk {

static bool tcp_conflict(struct sock* sk, inet_sock* sk2) {
    if (sk2 == sk) return false;
    inet_sock* a = inet_sk(sk);
    if (a->inet_rcv_saddr && sk2->inet_rcv_saddr && a->inet_rcv_saddr != sk2->inet_rcv_saddr) return false;
    if (sk->sk_reuseport && sk2->sk_reuseport && sk->uid == sk2->uid) return false;
    return true;  // SO_REUSEADDR only helps against TIME_WAIT, which is not modeled
}

static int inet_csk_get_port(struct sock* sk, unsigned short snum) {
    trace_scope ts("inet_csk_get_port", "snum=%u", snum);
    net* n = sock_net(sk);
    auto inuse = [&](u16 port) {
        auto r = n->tcp_bhash.equal_range(port);
        for (auto it = r.first; it != r.second; ++it)
            if (tcp_conflict(sk, it->second)) return true;
        return false;
    };
    if (!snum) {
        for (int p = n->ip_local_port_range[0]; p <= n->ip_local_port_range[1]; p++)
            if (!inuse(static_cast<u16>(p))) {
                snum = static_cast<u16>(p);
                break;
            }
        if (!snum) return ts.ret(1);
    } else if (inuse(snum)) {
        return ts.ret(1);
    }
    inet_sk(sk)->inet_num = snum;
    n->tcp_bhash.emplace(snum, inet_sk(sk));
    sock_hold(sk);
    sk->hashed = true;
    return ts.ret(0);
}

static int tcp_hash(struct sock*) { return 0; }

static void tcp_unhash(struct sock* sk) {
    if (!sk->hashed) return;
    net* n = sock_net(sk);
    auto r = n->tcp_bhash.equal_range(inet_sk(sk)->inet_num);
    for (auto it = r.first; it != r.second; ++it)
        if (it->second == sk) {
            n->tcp_bhash.erase(it);
            break;
        }
    sk->hashed = false;
    sock_put(sk);
}

static void tcp_close(struct sock* sk, long) {
    trace_scope ts("tcp_close");
    sk_common_release(sk);
}

static int tcp_v4_connect(struct sock*, struct sockaddr*, int) { return -EOPNOTSUPP; }
static int tcp_disconnect(struct sock*, int) { return -EOPNOTSUPP; }
static int tcp_sendmsg(struct sock*, msghdr*, size_t) { return -EOPNOTSUPP; }
static int tcp_recvmsg(struct sock*, msghdr*, size_t, int, int*) { return -EOPNOTSUPP; }
static int tcp_setsockopt(struct sock* sk, int level, int optname, const char __user* optval, unsigned int optlen) {
    return ip_setsockopt(sk, level, optname, optval, optlen);  // no SOL_TCP options are modeled
}
static int tcp_getsockopt(struct sock* sk, int level, int optname, char __user* optval, int __user* optlen) {
    return ip_getsockopt(sk, level, optname, optval, optlen);
}

proto tcp_prot = {
    .close = tcp_close,
    .connect = tcp_v4_connect,
    .disconnect = tcp_disconnect,
    .setsockopt = tcp_setsockopt,
    .getsockopt = tcp_getsockopt,
    .sendmsg = tcp_sendmsg,
    .recvmsg = tcp_recvmsg,
    .bind = nullptr,
    .hash = tcp_hash,
    .unhash = tcp_unhash,
    .get_port = inet_csk_get_port,
    .no_autobind = false,
    .name = "TCP",
};

}  // namespace gk
