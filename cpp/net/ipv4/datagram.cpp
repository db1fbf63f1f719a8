// Models net/ipv4/datagram.c and udp.c's __udp_disconnect (v6.1): connect() on a datagram socket
// only records the peer (and picks the source address from the route); connect(AF_UNSPEC) forgets
// it.
#include "glasskernel/linux.h"
#include "glasskernel/net/ip.h"

namespace gk {

static int __ip4_datagram_connect(struct sock* sk, struct sockaddr* uaddr, int addr_len) {
    auto* usin = reinterpret_cast<struct sockaddr_in*>(uaddr);
    u32 daddr = ntohl(usin->sin_addr.s_addr);
    u16 dport = ntohs(usin->sin_port);
    trace_scope ts("__ip4_datagram_connect", "addr=%s port=%u", ip_str(daddr).c_str(), dport);
    inet_sock* inet = inet_sk(sk);
    if (addr_len < static_cast<int>(sizeof(*usin))) return ts.ret(-EINVAL);
    if (usin->sin_family != AF_INET) return ts.ret(-EAFNOSUPPORT);
    rtable rt;
    int err = ip_route_output(sock_net(sk), daddr, inet->inet_saddr, &rt);
    if (err) return ts.ret(err);
    if (rt.rt_type == RTN_BROADCAST && !inet->bcast) return ts.ret(-EACCES);
    if (!inet->inet_saddr) inet->inet_saddr = rt.src;
    if (!inet->inet_rcv_saddr) inet->inet_rcv_saddr = rt.src;
    inet->inet_daddr = rt.dst;  // fl4->daddr: connecting to INADDR_ANY connects to this host
    inet->inet_dport = dport;
    sk->sk_state = TCP_ESTABLISHED;
    return ts.ret(0);
}

// Linux takes the socket lock around the work; nothing else runs on this machine meanwhile.
int ip4_datagram_connect(struct sock* sk, struct sockaddr* uaddr, int addr_len) {
    trace_scope ts("ip4_datagram_connect");
    return ts.ret(__ip4_datagram_connect(sk, uaddr, addr_len));
}

int __udp_disconnect(struct sock* sk, int flags) {
    trace_scope ts("__udp_disconnect");
    (void)flags;
    inet_sock* inet = inet_sk(sk);
    sk->sk_state = TCP_CLOSE;
    inet->inet_daddr = 0;
    inet->inet_dport = 0;
    sk->sk_bound_dev_if = 0;
    if (!(sk->sk_userlocks & SOCK_BINDADDR_LOCK)) inet->inet_rcv_saddr = inet->inet_saddr = 0;
    if (!(sk->sk_userlocks & SOCK_BINDPORT_LOCK) && sk->sk_prot->unhash) {
        // The port came from autobind: give it back.
        sk->sk_prot->unhash(sk);
        inet->inet_sport = 0;
    }
    return ts.ret(0);
}

}  // namespace gk
