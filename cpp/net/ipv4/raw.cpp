// Models net/ipv4/raw.c (v6.1): raw sockets (CAP_NET_RAW only) get a copy of every incoming packet
// of their protocol, IP header included (raw_v4_input → raw_rcv), and send whatever transport
// header and payload the program built (raw_sendmsg), or a whole IP packet with IP_HDRINCL. This is
// how a lesson writes ping: an ICMP echo request out, the echo reply back.

#include <cstring>

#include "glasskernel/linux.h"
#include "glasskernel/net/ip.h"

namespace gk {


static int raw_hash_sk(struct sock* sk) {
    net* n = sock_net(sk);
    n->raw_table.push_back(inet_sk(sk));
    sock_hold(sk);
    sk->hashed = true;
    return 0;
}

static void raw_unhash_sk(struct sock* sk) {
    if (!sk->hashed) return;
    net* n = sock_net(sk);
    for (auto it = n->raw_table.begin(); it != n->raw_table.end(); ++it)
        if (*it == sk) {
            n->raw_table.erase(it);
            break;
        }
    sk->hashed = false;
    sock_put(sk);
}

static void raw_close(struct sock* sk, long) {
    trace_scope ts("raw_close");
    sk_common_release(sk);
}

static int raw_bind(struct sock* sk, struct sockaddr* uaddr, int addr_len) {
    trace_scope ts("raw_bind");
    auto* addr = reinterpret_cast<struct sockaddr_in*>(uaddr);
    if (sk->sk_state != TCP_CLOSE || addr_len < static_cast<int>(sizeof(struct sockaddr_in))) return ts.ret(-EINVAL);
    u32 a = ntohl(addr->sin_addr.s_addr);
    int type = inet_addr_type(sock_net(sk), a);
    if (a && type != RTN_LOCAL && type != RTN_BROADCAST) return ts.ret(-EADDRNOTAVAIL);
    inet_sk(sk)->inet_rcv_saddr = inet_sk(sk)->inet_saddr = a;
    return ts.ret(0);
}

static int raw_rcv(struct sock* sk, sk_buff* skb) {
    trace_scope ts("raw_rcv");
    // The program sees the IP header too.
    skb_push(skb, skb->data - static_cast<unsigned>(skb->network_header));
    if (sock_queue_rcv_skb(sk, skb) < 0) {
        kfree_skb_reason(skb, "SOCKET_RCVBUFF");
        return ts.ret(-1);
    }
    return ts.ret(0);
}

int raw_v4_input(sk_buff* skb) {
    net* n = kernel_net(skb->dev->kernel);
    if (n->raw_table.empty()) return 0;
    trace_scope ts("raw_v4_input");
    iphdr* iph = ip_hdr(skb);
    u32 saddr = ntohl(iph->saddr), daddr = ntohl(iph->daddr);
    int delivered = 0;
    for (inet_sock* sk : n->raw_table) {
        if (sk->inet_num != iph->protocol) continue;
        if (sk->inet_rcv_saddr && sk->inet_rcv_saddr != daddr) continue;
        if (sk->inet_daddr && sk->inet_daddr != saddr) continue;
        sk_buff* clone = skb_clone(skb);
        raw_rcv(sk, clone);
        delivered++;
    }
    return ts.ret(delivered);
}

static int raw_sendmsg(struct sock* sk, msghdr* msg, size_t len) {
    trace_scope ts("raw_sendmsg", "len=%zu", len);
    inet_sock* inet = inet_sk(sk);
    net* n = sock_net(sk);
    if (len > 0xFFFF) return ts.ret(-EMSGSIZE);
    if (msg->msg_flags & MSG_OOB) return ts.ret(-EOPNOTSUPP);
    u32 daddr;
    if (auto* usin = static_cast<struct sockaddr_in*>(msg->msg_name)) {
        if (msg->msg_namelen < static_cast<int>(sizeof(*usin))) return ts.ret(-EINVAL);
        if (usin->sin_family != AF_INET && usin->sin_family != AF_UNSPEC) return ts.ret(-EAFNOSUPPORT);
        daddr = ntohl(usin->sin_addr.s_addr);
    } else {
        if (sk->sk_state != TCP_ESTABLISHED) return ts.ret(-EDESTADDRREQ);
        daddr = inet->inet_daddr;
    }
    rtable rt;
    int err = ip_route_output(n, daddr, inet->inet_saddr, &rt);
    if (err) return ts.ret(err);
    if (rt.rt_type == RTN_BROADCAST && !inet->bcast) return ts.ret(-EACCES);
    u32 saddr = inet->inet_saddr ? inet->inet_saddr : rt.src;
    daddr = rt.dst;
    sk_buff* skb = alloc_skb(static_cast<unsigned>(len) + sizeof(iphdr) + ETH_HLEN + 32);
    skb_reserve(skb, sizeof(iphdr) + ETH_HLEN + 32);
    skb_set_owner_w(skb, sk);
    if (inet->hdrincl && len < sizeof(iphdr)) {
        kfree_skb(skb);
        return ts.ret(-EINVAL);
    }
    // raw_getfrag: the packet straight from the sender's memory.
    if (!copy_from_iter_full(skb_put(skb, static_cast<unsigned>(len)), len, &msg->msg_iter)) {
        kfree_skb(skb);
        return ts.ret(-EFAULT);
    }
    if (inet->hdrincl) {
        // raw_send_hdrinc: the program wrote the IP header; the kernel fills what it left 0.
        skb_reset_network_header(skb);
        iphdr* iph = ip_hdr(skb);
        if (!iph->saddr) iph->saddr = htonl(saddr);
        if (!iph->id) iph->id = htons(n->ip_id++);
        skb->dev = rt.dev;
        skb->rt_gateway = rt.gateway;
        skb->rt_type = static_cast<u8>(rt.rt_type);
        skb->protocol = ETH_P_IP;
        err = ip_local_out(skb);
    } else {
        skb_reset_transport_header(skb);
        int ttl = inet->uc_ttl == -1 ? n->ip_default_ttl : inet->uc_ttl;
        err = ip_build_and_send(n, skb, saddr, daddr, static_cast<u8>(inet->inet_num), ttl, &rt);
    }
    if (err > 0) err = 0;
    return ts.ret(err ? err : static_cast<int>(len));
}

static int raw_recvmsg(struct sock* sk, msghdr* msg, size_t len, int flags, int* addr_len) {
    trace_scope ts("raw_recvmsg", "len=%zu", len);
    int off = 0, err = 0;
    sk_buff* skb = __skb_recv_datagram(sk, &sk->sk_receive_queue, flags, &off, &err);
    if (!skb) return ts.ret(err);
    unsigned copied = static_cast<unsigned>(std::min<size_t>(len, skb->len));
    if (copied < skb->len) msg->msg_flags |= MSG_TRUNC;
    err = skb_copy_datagram_msg(skb, 0, msg, static_cast<int>(copied));
    if (!err) {
        if (auto* sin = static_cast<struct sockaddr_in*>(msg->msg_name)) {
            *sin = sockaddr_in{};
            sin->sin_family = AF_INET;
            sin->sin_addr.s_addr = ip_hdr(skb)->saddr;
            *addr_len = sizeof(*sin);
        }
        if (flags & MSG_TRUNC) copied = skb->len;
    }
    if (!(flags & MSG_PEEK)) consume_skb(skb);  // skb_free_datagram
    return ts.ret(err ? err : static_cast<int>(copied));
}

static int raw_setsockopt(struct sock* sk, int level, int optname, const char __user* optval, unsigned int optlen) {
    return ip_setsockopt(sk, level, optname, optval, optlen);  // no SOL_RAW options are modeled
}

static int raw_getsockopt(struct sock* sk, int level, int optname, char __user* optval, int __user* optlen) {
    return ip_getsockopt(sk, level, optname, optval, optlen);
}

proto raw_prot = {
    .close = raw_close,
    .connect = ip4_datagram_connect,
    .disconnect = __udp_disconnect,
    .setsockopt = raw_setsockopt,
    .getsockopt = raw_getsockopt,
    .sendmsg = raw_sendmsg,
    .recvmsg = raw_recvmsg,
    .bind = raw_bind,
    .hash = raw_hash_sk,
    .unhash = raw_unhash_sk,
    .get_port = nullptr,
    .no_autobind = true,
    .name = "RAW",
};

}  // namespace gk
