// Models net/ipv4/udp.c (v6.1): the port table (udp_v4_get_port with SO_REUSEADDR / SO_REUSEPORT),
// the send path (udp_sendmsg → ip_make_skb → udp_send_skb → ip_send_skb), the receive path (udp_rcv
// → __udp4_lib_rcv → __udp4_lib_lookup → udp_queue_rcv_skb → __udp_enqueue_schedule_skb →
// sk_data_ready, or ICMP port unreachable when nobody listens), udp_recvmsg (__skb_recv_udp,
// MSG_PEEK, MSG_TRUNC), udp_err (ECONNREFUSED on a connected socket) and the close path
// (udp_lib_close → sk_common_release).

#include <cstring>

#include "glasskernel/linux.h"
#include "glasskernel/net/ip.h"

namespace gk {


// May sk share port snum with sk2? (udp_lib_lport_inuse's test)
static bool udp_conflict(struct sock* sk, inet_sock* sk2) {
    if (sk2 == sk) return false;
    inet_sock* a = inet_sk(sk);
    if (a->inet_rcv_saddr && sk2->inet_rcv_saddr && a->inet_rcv_saddr != sk2->inet_rcv_saddr) return false;
    if (sk->sk_bound_dev_if && sk2->sk_bound_dev_if && sk->sk_bound_dev_if != sk2->sk_bound_dev_if) return false;
    if (sk->sk_reuse && sk2->sk_reuse) return false;
    if (sk->sk_reuseport && sk2->sk_reuseport && sk->uid == sk2->uid) return false;
    return true;
}

static bool udp_lport_inuse(net* n, struct sock* sk, u16 snum) {
    auto range = n->udp_table.equal_range(snum);
    for (auto it = range.first; it != range.second; ++it)
        if (udp_conflict(sk, it->second)) return true;
    return false;
}

// udp_lib_get_port: snum 0 asks for an ephemeral port from ip_local_port_range.
static int udp_v4_get_port(struct sock* sk, unsigned short snum) {
    trace_scope ts("udp_v4_get_port", "snum=%u", snum);
    net* n = sock_net(sk);
    if (!snum) {
        int lo = n->ip_local_port_range[0], hi = n->ip_local_port_range[1];
        unsigned span = static_cast<unsigned>(hi - lo + 1);
        for (unsigned i = 0; i < span; i++) {
            u16 cand = static_cast<u16>(lo + (n->udp_port_rover++ % span));
            if (!udp_lport_inuse(n, sk, cand)) {
                snum = cand;
                break;
            }
        }
        if (!snum) return ts.ret(1);
    } else if (udp_lport_inuse(n, sk, snum)) {
        return ts.ret(1);
    }
    inet_sk(sk)->inet_num = snum;
    n->udp_table.emplace(snum, inet_sk(sk));
    sock_hold(sk);  // the hash table's reference
    sk->hashed = true;
    return ts.ret(0);
}

static int udp_lib_hash(struct sock*) { return 0; }  // hashing happens in get_port

static void udp_lib_unhash(struct sock* sk) {
    trace_scope ts("udp_lib_unhash");
    if (!sk->hashed) return;
    net* n = sock_net(sk);
    auto range = n->udp_table.equal_range(inet_sk(sk)->inet_num);
    for (auto it = range.first; it != range.second; ++it)
        if (it->second == sk) {
            n->udp_table.erase(it);
            break;
        }
    sk->hashed = false;
    inet_sk(sk)->inet_num = 0;
    sock_put(sk);
}

static void udp_lib_close(struct sock* sk, long timeout) {
    trace_scope ts("udp_lib_close");
    (void)timeout;
    sk_common_release(sk);
}

// sock_alloc_send_skb's wait: too much of our data is still on its way out.
static int sock_wait_for_wmem(struct sock* sk, bool noblock) {
    while (sk->sk_wmem_alloc >= sk->sk_sndbuf) {
        if (noblock) return -EAGAIN;
        if (signal_pending(current)) return -ERESTARTSYS;
        trace_scope ts("sock_wait_for_wmem");
        wait_queue_entry wait;
        init_wait_entry(&wait, 0);
        prepare_to_wait(&sk->sk_wq->wait, &wait, TASK_INTERRUPTIBLE);
        if (sk->sk_wmem_alloc >= sk->sk_sndbuf && !signal_pending(current)) schedule();
        finish_wait(&sk->sk_wq->wait, &wait);
    }
    return 0;
}

static int udp_send_skb(sk_buff* skb, u32 saddr, u32 daddr, u16 sport, u16 dport) {
    trace_scope ts("udp_send_skb", "len=%u", skb->len);
    net* n = sock_net(skb->sk);
    unsigned ulen = skb->len - (skb->transport_header - skb->network_header);
    udphdr* uh = udp_hdr(skb);
    uh->source = htons(sport);
    uh->dest = htons(dport);
    uh->len = htons(static_cast<u16>(ulen));
    uh->check = 0;
    u16 c = csum_fold_buf(uh, ulen, csum_tcpudp_nofold(saddr, daddr, ulen, IPPROTO_UDP));
    uh->check = htons(c == 0 ? 0xffff : c);  // CSUM_MANGLED_0
    int err = ip_send_skb(n, skb);
    if (err) {
        if (err == -ENOBUFS) n->udp.SndbufErrors++;
    } else {
        n->udp.OutDatagrams++;
    }
    return ts.ret(err);
}

static int udp_sendmsg(struct sock* sk, msghdr* msg, size_t len) {
    trace_scope ts("udp_sendmsg", "len=%zu", len);
    inet_sock* inet = inet_sk(sk);
    net* n = sock_net(sk);
    if (len > 0xFFFF) return ts.ret(-EMSGSIZE);
    if (msg->msg_flags & MSG_OOB) return ts.ret(-EOPNOTSUPP);
    u32 daddr;
    u16 dport;
    auto* usin = static_cast<struct sockaddr_in*>(msg->msg_name);
    if (usin) {
        if (msg->msg_namelen < static_cast<int>(sizeof(*usin))) return ts.ret(-EINVAL);
        if (usin->sin_family != AF_INET) {
            if (usin->sin_family != AF_UNSPEC) return ts.ret(-EAFNOSUPPORT);
        }
        daddr = ntohl(usin->sin_addr.s_addr);
        dport = ntohs(usin->sin_port);
        if (dport == 0) return ts.ret(-EINVAL);
    } else {
        if (sk->sk_state != TCP_ESTABLISHED) return ts.ret(-EDESTADDRREQ);
        daddr = inet->inet_daddr;
        dport = inet->inet_dport;
    }
    if (sk->sk_shutdown & SEND_SHUTDOWN) return ts.ret(-EPIPE);
    // __ip_append_data: the whole datagram must fit an IP packet.
    if (len + sizeof(udphdr) > 0xFFFF - sizeof(iphdr)) return ts.ret(-EMSGSIZE);
    rtable rt;
    int err = ip_route_output(n, daddr, inet->inet_saddr, &rt);
    if (err) {
        n->ip.OutNoRoutes++;
        return ts.ret(err);
    }
    if (rt.rt_type == RTN_BROADCAST && !inet->bcast) return ts.ret(-EACCES);
    u32 saddr = inet->inet_saddr ? inet->inet_saddr : rt.src;
    daddr = rt.dst;  // INADDR_ANY became this host
    err = sock_error(sk);  // sock_alloc_send_skb reports a pending error first
    if (err) return ts.ret(err);
    err = sock_wait_for_wmem(sk, msg->msg_flags & MSG_DONTWAIT);
    if (err) return ts.ret(err);
    sk_buff* skb = ip_make_skb(sk, msg, len, sizeof(udphdr), saddr, daddr, &rt, &err);
    if (!skb) return ts.ret(err);
    err = udp_send_skb(skb, saddr, daddr, inet->inet_sport, dport);
    inet->tx_datagrams++;
    return ts.ret(err ? err : static_cast<int>(len));
}

// The next datagram on the receive queue, sleeping for one unless MSG_DONTWAIT or the socket
// is non-blocking.
static sk_buff* __skb_recv_udp(struct sock* sk, int flags, int* off, int* err) {
    trace_scope ts("__skb_recv_udp");
    return __skb_recv_datagram(sk, &sk->sk_receive_queue, flags, off, err);
}

static int udp_recvmsg(struct sock* sk, msghdr* msg, size_t len, int flags, int* addr_len) {
    trace_scope ts("udp_recvmsg", "len=%zu flags=%#x", len, flags);
    net* n = sock_net(sk);
    int off = 0, err = 0;
    sk_buff* skb = __skb_recv_udp(sk, flags, &off, &err);
    if (!skb) return ts.ret(err);
    bool peeking = flags & MSG_PEEK;
    unsigned ulen = skb->len - sizeof(udphdr);
    unsigned copied = std::min(static_cast<unsigned>(std::min<size_t>(len, UINT_MAX)), ulen);
    if (copied < ulen) msg->msg_flags |= MSG_TRUNC;
    err = skb_copy_datagram_msg(skb, sizeof(udphdr), msg, static_cast<int>(copied));
    if (err) {
        // The receiver's buffer faulted: the datagram is lost, counted as an input error.
        if (!peeking) {
            sk->sk_drops++;
            n->udp.InErrors++;
            kfree_skb(skb);
        }
        return ts.ret(err);
    }
    if (auto* sin = static_cast<struct sockaddr_in*>(msg->msg_name)) {
        *sin = sockaddr_in{};
        sin->sin_family = AF_INET;
        sin->sin_port = udp_hdr(skb)->source;  // both already in network order
        sin->sin_addr.s_addr = ip_hdr(skb)->saddr;
        *addr_len = sizeof(*sin);
    }
    if (flags & MSG_TRUNC) copied = ulen;  // the real length
    if (!(flags & MSG_PEEK)) {
        n->udp.InDatagrams++;
        inet_sk(sk)->rx_datagrams++;
        consume_skb(skb);  // skb_consume_udp
    }
    return ts.ret(static_cast<int>(copied));
}

// __udp4_lib_lookup: a connected socket matching all four fields beats one bound to the port
// (and address); among SO_REUSEPORT sockets the flow's hash picks one.
static inet_sock* __udp4_lib_lookup(net* n, u32 saddr, u16 sport, u32 daddr, u16 dport, int dif) {
    trace_scope ts("__udp4_lib_lookup", "dport=%u", dport);
    inet_sock* best = nullptr;
    int best_score = -1;
    std::vector<inet_sock*> group;
    auto range = n->udp_table.equal_range(dport);
    for (auto it = range.first; it != range.second; ++it) {
        inet_sock* sk = it->second;
        int score = 0;
        if (sk->inet_rcv_saddr) {
            if (sk->inet_rcv_saddr != daddr) continue;
            score += 4;
        }
        if (sk->inet_daddr) {
            if (sk->inet_daddr != saddr) continue;
            score += 4;
        }
        if (sk->inet_dport) {
            if (sk->inet_dport != sport) continue;
            score += 4;
        }
        if (sk->sk_bound_dev_if) {
            if (sk->sk_bound_dev_if != dif) continue;
            score += 4;
        }
        if (score > best_score) {
            best_score = score;
            best = sk;
            group.clear();
        }
        if (score == best_score && sk->sk_reuseport) group.push_back(sk);
    }
    if (best && best->sk_reuseport && group.size() > 1) {
        u32 h = saddr * 2654435761u ^ sport * 40503u ^ daddr ^ dport;
        best = group[h % group.size()];
    }
    return best;
}

static int __udp_enqueue_schedule_skb(struct sock* sk, sk_buff* skb) {
    trace_scope ts("__udp_enqueue_schedule_skb", "len=%u", skb->len);
    if (sk->sk_rmem_alloc + static_cast<int>(skb->truesize) > sk->sk_rcvbuf) return ts.ret(-ENOMEM);
    skb_set_owner_r(skb, sk);
    skb_queue_tail(&sk->sk_receive_queue, skb);
    if (!sk->sk_dead) sk->sk_data_ready(sk);
    return ts.ret(0);
}

static int __udp_queue_rcv_skb(struct sock* sk, sk_buff* skb) {
    trace_scope ts("__udp_queue_rcv_skb");
    net* n = sock_net(sk);
    int rc = __udp_enqueue_schedule_skb(sk, skb);
    if (rc < 0) {
        // The receive buffer is full: the datagram is dropped and counted.
        sk->sk_drops++;
        n->udp.RcvbufErrors++;
        n->udp.InErrors++;
        kfree_skb_reason(skb, "SOCKET_RCVBUFF");
        return ts.ret(-1);
    }
    return ts.ret(0);
}

static int udp_queue_rcv_skb(struct sock* sk, sk_buff* skb) {
    trace_scope ts("udp_queue_rcv_skb");
    return ts.ret(__udp_queue_rcv_skb(sk, skb));
}

// The datagram has found its socket.
static int udp_unicast_rcv_skb(struct sock* sk, sk_buff* skb) {
    trace_scope ts("udp_unicast_rcv_skb");
    udp_queue_rcv_skb(sk, skb);
    return ts.ret(0);
}

static int __udp4_lib_rcv(sk_buff* skb) {
    trace_scope ts("__udp4_lib_rcv", "len=%u", skb->len);
    net* n = kernel_net(skb->dev->kernel);
    if (skb->len < sizeof(udphdr)) goto short_packet;
    {
        udphdr* uh = udp_hdr(skb);
        unsigned ulen = ntohs(uh->len);
        iphdr* iph = ip_hdr(skb);
        u32 saddr = ntohl(iph->saddr), daddr = ntohl(iph->daddr);
        if (ulen > skb->len || ulen < sizeof(udphdr)) goto short_packet;
        skb_trim(skb, ulen);
        if (uh->check && csum_fold_buf(uh, ulen, csum_tcpudp_nofold(saddr, daddr, ulen, IPPROTO_UDP)) != 0) {
            n->udp.InCsumErrors++;
            n->udp.InErrors++;
            kfree_skb_reason(skb, "UDP_CSUM");
            return ts.ret(0);
        }
        inet_sock* sk = __udp4_lib_lookup(n, saddr, ntohs(uh->source), daddr, ntohs(uh->dest), skb->skb_iif);
        if (sk) return ts.ret(udp_unicast_rcv_skb(sk, skb));
        // Nobody listens on that port.
        n->udp.NoPorts++;
        if (skb->rt_type != RTN_BROADCAST) icmp_send(skb, ICMP_DEST_UNREACH, ICMP_PORT_UNREACH, 0);
        kfree_skb_reason(skb, "NO_SOCKET");
        return ts.ret(0);
    }
short_packet:
    n->udp.InErrors++;
    kfree_skb_reason(skb, "PKT_TOO_SMALL");
    return ts.ret(0);
}

static int udp_rcv(sk_buff* skb) {
    trace_scope ts("udp_rcv");
    return ts.ret(__udp4_lib_rcv(skb));
}

// An ICMP error about a datagram we sent: skb holds the quoted IP header and 8 bytes of UDP.
static int __udp4_lib_err(sk_buff* skb, u32 info) {
    trace_scope ts("__udp4_lib_err");
    (void)info;
    net* n = kernel_net(skb->dev->kernel);
    iphdr* iph = reinterpret_cast<iphdr*>(skb->data_ptr());
    unsigned ihl = (iph->ihl_version & 0xf) * 4;
    udphdr* uh = reinterpret_cast<udphdr*>(skb->data_ptr() + ihl);
    icmphdr* icmph = icmp_hdr(skb);
    inet_sock* sk = __udp4_lib_lookup(n, ntohl(iph->daddr), ntohs(uh->dest), ntohl(iph->saddr), ntohs(uh->source), 0);
    if (!sk) return ts.ret(-ENOENT);
    int err = 0;
    bool harderr = false;
    if (icmph->type == ICMP_DEST_UNREACH) {
        // icmp_err_convert: which codes are hard errors a connected socket must hear about.
        switch (icmph->code) {
        case ICMP_NET_UNREACH: err = ENETUNREACH; break;
        case ICMP_PROT_UNREACH: err = ENOPROTOOPT; harderr = true; break;
        case ICMP_PORT_UNREACH: err = ECONNREFUSED; harderr = true; break;
        case ICMP_FRAG_NEEDED: err = EMSGSIZE; break;
        default: err = EHOSTUNREACH; break;
        }
    } else if (icmph->type == ICMP_TIME_EXCEEDED) {
        err = EHOSTUNREACH;
    } else {
        return ts.ret(0);
    }
    // Only a connected socket (or one asking with IP_RECVERR) hears of it.
    if (!sk->recverr && (!harderr || sk->sk_state != TCP_ESTABLISHED)) return ts.ret(0);
    sk->sk_err = err;
    sk->sk_error_report(sk);
    return ts.ret(0);
}

static int udp_err(sk_buff* skb, u32 info) { return __udp4_lib_err(skb, info); }

const net_protocol udp_protocol = {"udp", udp_rcv, udp_err};

// SOL_UDP's options, with v6.1's order of checks. The options themselves (UDP_CORK, UDP_ENCAP,
// UDP_SEGMENT, UDP_GRO, ...) are not modeled: each answers ENOPROTOOPT, as a kernel without it
// would.
static int udp_lib_setsockopt(struct sock* sk, int level, int optname, const char __user* optval, unsigned int optlen) {
    (void)sk, (void)level, (void)optname;
    int val;
    if (optlen < sizeof(int)) return -EINVAL;
    if (copy_from_user(&val, optval, sizeof val)) return -EFAULT;
    return -ENOPROTOOPT;
}

static int udp_lib_getsockopt(struct sock* sk, int level, int optname, char __user* optval, int __user* optlen) {
    (void)sk, (void)level, (void)optname, (void)optval;
    int len;
    if (get_user(len, optlen)) return -EFAULT;
    if (len < 0) return -EINVAL;
    return -ENOPROTOOPT;
}

static int udp_setsockopt(struct sock* sk, int level, int optname, const char __user* optval, unsigned int optlen) {
    if (level == SOL_UDP || level == SOL_UDPLITE) return udp_lib_setsockopt(sk, level, optname, optval, optlen);
    return ip_setsockopt(sk, level, optname, optval, optlen);
}

static int udp_getsockopt(struct sock* sk, int level, int optname, char __user* optval, int __user* optlen) {
    if (level == SOL_UDP || level == SOL_UDPLITE) return udp_lib_getsockopt(sk, level, optname, optval, optlen);
    return ip_getsockopt(sk, level, optname, optval, optlen);
}

proto udp_prot = {
    .close = udp_lib_close,
    .connect = ip4_datagram_connect,
    .disconnect = __udp_disconnect,
    .setsockopt = udp_setsockopt,
    .getsockopt = udp_getsockopt,
    .sendmsg = udp_sendmsg,
    .recvmsg = udp_recvmsg,
    .bind = nullptr,
    .hash = udp_lib_hash,
    .unhash = udp_lib_unhash,
    .get_port = udp_v4_get_port,
    .no_autobind = false,
    .name = "UDP",
};

}  // namespace gk
