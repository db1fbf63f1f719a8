// Models net/ipv4/raw.c: raw sockets (CAP_NET_RAW only) get a copy of every incoming packet of
// their protocol, IP header included (raw_v4_input → raw_rcv), and send whatever transport
// header and payload the program built (raw_sendmsg), or a whole IP packet with IP_HDRINCL.
// This is how a lesson writes ping: an ICMP echo request out, the echo reply back.

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

static int raw_bind(struct sock* sk, const sockaddr_in_k* addr, int addr_len) {
    trace_scope ts("raw_bind");
    if (sk->sk_state != TCP_CLOSE || addr_len < 16) return ts.ret(-EINVAL);
    int type = inet_addr_type(sock_net(sk), addr->addr);
    if (addr->addr && type != RTN_LOCAL && type != RTN_BROADCAST) return ts.ret(-EADDRNOTAVAIL);
    inet_sk(sk)->inet_rcv_saddr = inet_sk(sk)->inet_saddr = addr->addr;
    return ts.ret(0);
}

static int raw_rcv(struct sock* sk, sk_buff* skb) {
    trace_scope ts("raw_rcv");
    // The program sees the IP header too.
    skb_push(skb, skb->data - static_cast<unsigned>(skb->network_header));
    trace_scope qs("sock_queue_rcv_skb");
    if (sk->sk_rmem_alloc + static_cast<int>(skb->truesize) > sk->sk_rcvbuf) {
        sk->sk_drops++;
        kfree_skb_reason(skb, "SOCKET_RCVBUFF");
        return ts.ret(-1);
    }
    skb_set_owner_r(skb, sk);
    skb_queue_tail(&sk->sk_receive_queue, skb);
    if (!sk->sk_dead) sk->sk_data_ready(sk);
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

static int raw_sendmsg(struct sock* sk, msghdr_k* msg, size_t len) {
    trace_scope ts("raw_sendmsg", "len=%zu", len);
    inet_sock* inet = inet_sk(sk);
    net* n = sock_net(sk);
    if (len > 0xFFFF) return ts.ret(-EMSGSIZE);
    if (msg->flags & MSG_OOB) return ts.ret(-EOPNOTSUPP);
    u32 daddr;
    if (msg->has_name) {
        if (msg->name.family != AF_INET && msg->name.family != AF_UNSPEC) return ts.ret(-EAFNOSUPPORT);
        daddr = msg->name.addr;
    } else {
        if (sk->sk_state != TCP_ESTABLISHED) return ts.ret(-EDESTADDRREQ);
        daddr = inet->inet_daddr;
    }
    rtable rt;
    int err = ip_route_output(n, daddr, inet->inet_saddr, &rt);
    if (err) return ts.ret(err);
    if (rt.rt_type == RTN_BROADCAST && !inet->bcast) return ts.ret(-EACCES);
    u32 saddr = inet->inet_saddr ? inet->inet_saddr : rt.src;
    const std::string& data = *msg->iov;
    sk_buff* skb = alloc_skb(static_cast<unsigned>(data.size()) + sizeof(iphdr) + ETH_HLEN + 32);
    skb_reserve(skb, sizeof(iphdr) + ETH_HLEN + 32);
    skb_set_owner_w(skb, sk);
    if (inet->hdrincl) {
        // raw_send_hdrinc: the program wrote the IP header; the kernel fills what it left 0.
        if (data.size() < sizeof(iphdr)) {
            kfree_skb(skb);
            return ts.ret(-EINVAL);
        }
        memcpy(skb_put(skb, static_cast<unsigned>(data.size())), data.data(), data.size());
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
        memcpy(skb_put(skb, static_cast<unsigned>(data.size())), data.data(), data.size());
        skb_reset_transport_header(skb);
        int ttl = inet->uc_ttl == -1 ? n->ip_default_ttl : inet->uc_ttl;
        err = ip_build_and_send(n, skb, saddr, daddr, static_cast<u8>(inet->inet_num), ttl, &rt);
    }
    if (err > 0) err = 0;
    return ts.ret(err ? err : static_cast<int>(len));
}

static int raw_recvmsg(struct sock* sk, msghdr_k* msg, size_t len, int flags, int* addr_len) {
    trace_scope ts("raw_recvmsg", "len=%zu", len);
    int off = 0, err = 0;
    sk_buff* skb = __skb_recv_datagram(sk, &sk->sk_receive_queue, flags, &off, &err);
    if (!skb) return ts.ret(err);
    unsigned copied = std::min(static_cast<unsigned>(len), skb->len);
    if (copied < skb->len) msg->flags |= MSG_TRUNC;
    msg->iov->assign(reinterpret_cast<const char*>(skb->data_ptr()), copied);
    msg->name.family = AF_INET;
    msg->name.addr = ntohl(ip_hdr(skb)->saddr);
    msg->name.port = 0;
    msg->has_name = true;
    *addr_len = 16;
    if (flags & MSG_TRUNC) copied = skb->len;
    if (!(flags & MSG_PEEK)) consume_skb(skb);
    return ts.ret(static_cast<int>(copied));
}

proto raw_prot = {"RAW", raw_close, ip4_datagram_connect, __udp_disconnect, raw_sendmsg, raw_recvmsg, raw_bind,
                  raw_hash_sk, raw_unhash_sk, nullptr, true};

}  // namespace gk
