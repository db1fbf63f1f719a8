// Models net/ipv4/ip_output.c (v6.1): building a datagram (ip_make_skb → __ip_append_data, then the
// IP header in __ip_make_skb), sending it (ip_send_skb → ip_local_out → __ip_local_out →
// NF_HOOK(LOCAL_OUT) → dst_output → ip_output → NF_HOOK(POST_ROUTING) → ip_finish_output,
// ip_fragment when it exceeds the device's MTU → ip_finish_output2 → the neighbour's link-layer
// header → dev_queue_xmit), and the one's-complement checksums.

#include <cstring>

#include "glasskernel/linux.h"
#include "glasskernel/net/ip.h"

namespace gk {

u16 csum_fold_buf(const void* data, size_t len, u32 sum) {
    const u8* p = static_cast<const u8*>(data);
    u64 s = sum;
    for (size_t i = 0; i + 1 < len; i += 2) s += static_cast<u32>(p[i] << 8 | p[i + 1]);
    if (len & 1) s += static_cast<u32>(p[len - 1] << 8);
    while (s >> 16) s = (s & 0xffff) + (s >> 16);
    return static_cast<u16>(~s & 0xffff);
}

u16 ip_fast_csum(const void* iph, unsigned ihl) { return csum_fold_buf(iph, ihl * 4); }

u32 csum_tcpudp_nofold(u32 saddr, u32 daddr, u32 len, u8 proto) {
    u64 s = (saddr >> 16) + (saddr & 0xffff) + (daddr >> 16) + (daddr & 0xffff) + proto + len;
    while (s >> 16) s = (s & 0xffff) + (s >> 16);
    return static_cast<u32>(s);
}

// Fill in the IP header in front of the transport payload already at skb->data.
static void ip_build_header(net* n, sk_buff* skb, u32 saddr, u32 daddr, u8 protocol, int ttl, bool df, u8 tos = 0) {
    iphdr* iph = reinterpret_cast<iphdr*>(skb_push(skb, sizeof(iphdr)));
    skb_reset_network_header(skb);
    iph->ihl_version = 0x45;
    iph->tos = tos;
    iph->tot_len = htons(static_cast<u16>(skb->len));
    iph->id = htons(n->ip_id++);  // ip_select_ident
    iph->frag_off = df ? htons(IP_DF) : 0;
    iph->ttl = static_cast<u8>(ttl);
    iph->protocol = protocol;
    iph->saddr = htonl(saddr);
    iph->daddr = htonl(daddr);
    iph->check = 0;
    iph->check = htons(ip_fast_csum(iph, 5));
    skb->protocol = ETH_P_IP;
}

// neigh_output → neigh_hh_output: the link-layer header from the neighbour entry (or the
// broadcast address), then the device queue.
int neigh_output(net* n, sk_buff* skb) {
    trace_scope nt("neigh_output");
    net_device* dev = skb->dev;
    u8 dest[ETH_ALEN] = {};
    if (skb->rt_type == RTN_BROADCAST) {
        memset(dest, 0xff, ETH_ALEN);
    } else if (!(dev->flags & IFF_LOOPBACK)) {
        neighbour* ne = neigh_lookup(n, skb->rt_gateway, dev);
        memcpy(dest, ne->ha, ETH_ALEN);
    }
    ethhdr* eth = reinterpret_cast<ethhdr*>(skb_push(skb, ETH_HLEN));
    skb_reset_mac_header(skb);
    memcpy(eth->h_dest, dest, ETH_ALEN);
    memcpy(eth->h_source, dev->dev_addr, ETH_ALEN);
    eth->h_proto = htons(ETH_P_IP);
    return nt.ret(dev_queue_xmit(skb));
}

static int ip_finish_output2(sk_buff* skb) {
    trace_scope ts("ip_finish_output2", "len=%u", skb->len);
    net_device* dev = skb->dev;
    net* n = kernel_net(dev->kernel);
    if (skb->rt_type != RTN_BROADCAST && !(dev->flags & IFF_LOOPBACK)) {
        neighbour* ne = neigh_lookup(n, skb->rt_gateway, dev);
        if (!ne || !(ne->nud_state & (NUD_PERMANENT | NUD_REACHABLE))) {
            // Unknown or unresolved next hop: ARP (if the link uses it) or unreachable.
            return ts.ret(neigh_resolve_output(n, skb));
        }
    }
    return ts.ret(neigh_output(n, skb));
}

// Cut the payload into pieces that fit the MTU, 8-byte aligned, each with a copy of the
// header, its offset and the more-fragments bit.
static int ip_do_fragment(sk_buff* skb, unsigned mtu) {
    trace_scope ts("ip_do_fragment");
    net* n = kernel_net(skb->dev->kernel);
    iphdr* iph = ip_hdr(skb);
    unsigned hlen = (iph->ihl_version & 0xf) * 4;
    unsigned left = skb->len - hlen;
    const u8* payload = skb->data_ptr() + hlen;
    unsigned base_off = (ntohs(iph->frag_off) & IP_OFFSET) * 8;
    bool more_after = ntohs(iph->frag_off) & IP_MF;
    unsigned offset = 0;
    int err = 0;
    while (left > 0) {
        unsigned len = std::min(left, mtu - hlen);
        if (len < left) len &= ~7u;
        sk_buff* frag = alloc_skb(len + hlen + ETH_HLEN + 32);
        skb_reserve(frag, ETH_HLEN + 32);
        frag->dev = skb->dev;
        frag->rt_gateway = skb->rt_gateway;
        frag->rt_type = skb->rt_type;
        frag->protocol = ETH_P_IP;
        if (skb->sk) skb_set_owner_w(frag, skb->sk);
        u8* p = skb_put(frag, hlen + len);
        memcpy(p, iph, hlen);
        memcpy(p + hlen, payload + offset, len);
        skb_reset_network_header(frag);
        iphdr* fh = ip_hdr(frag);
        u16 fo = static_cast<u16>((base_off + offset) / 8);
        if (left > len || more_after) fo |= IP_MF;
        fh->frag_off = htons(fo);
        fh->tot_len = htons(static_cast<u16>(hlen + len));
        fh->check = 0;
        fh->check = htons(ip_fast_csum(fh, hlen / 4));
        n->ip.FragCreates++;
        offset += len;
        left -= len;
        int r = ip_finish_output2(frag);
        if (r < 0 && !err) err = r;
    }
    n->ip.FragOKs++;
    consume_skb(skb);
    return ts.ret(err);
}

// Too big for the device: fragment it, unless the sender forbade that (DF), which is ICMP
// "fragmentation needed" with our MTU (path MTU discovery).
static int ip_fragment(sk_buff* skb, unsigned mtu) {
    trace_scope ts("ip_fragment", "len=%u mtu=%u", skb->len, mtu);
    net* n = kernel_net(skb->dev->kernel);
    iphdr* iph = ip_hdr(skb);
    if (ntohs(iph->frag_off) & IP_DF) {
        icmp_send(skb, ICMP_DEST_UNREACH, ICMP_FRAG_NEEDED, mtu);
        n->ip.FragFails++;
        kfree_skb_reason(skb, "PKT_TOO_BIG");
        return ts.ret(-EMSGSIZE);
    }
    return ts.ret(ip_do_fragment(skb, mtu));
}

static int ip_finish_output(sk_buff* skb) {
    trace_scope ts("ip_finish_output", "len=%u", skb->len);
    unsigned mtu = skb->dev->mtu;
    if (skb->len > mtu) return ts.ret(ip_fragment(skb, mtu));
    return ts.ret(ip_finish_output2(skb));
}

int ip_output(sk_buff* skb) {
    trace_scope ts("ip_output", "len=%u", skb->len);
    net* n = kernel_net(skb->dev->kernel);
    n->ip.OutRequests++;
    return ts.ret(NF_HOOK(NF_INET_POST_ROUTING, skb, nullptr, skb->dev, ip_finish_output));
}

static int dst_output(sk_buff* skb) {
    trace_scope ts("dst_output");
    return ts.ret(ip_output(skb));
}

static int __ip_local_out(sk_buff* skb) {
    trace_scope ts("__ip_local_out");
    iphdr* iph = ip_hdr(skb);
    iph->tot_len = htons(static_cast<u16>(skb->len));
    iph->check = 0;
    iph->check = htons(ip_fast_csum(iph, (iph->ihl_version & 0xf)));
    return ts.ret(NF_HOOK(NF_INET_LOCAL_OUT, skb, nullptr, skb->dev, dst_output));
}

int ip_local_out(sk_buff* skb) {
    trace_scope ts("ip_local_out", "len=%u", skb->len);
    return ts.ret(__ip_local_out(skb));
}

// For ICMP and raw sockets: the payload is at skb->data; add the header and send.
int ip_build_and_send(net* n, sk_buff* skb, u32 saddr, u32 daddr, u8 protocol, int ttl, const rtable* rt) {
    skb->dev = rt->dev;
    skb->rt_gateway = rt->gateway;
    skb->rt_type = static_cast<u8>(rt->rt_type);
    ip_build_header(n, skb, saddr, daddr, protocol, ttl, skb->len + sizeof(iphdr) <= rt->dev->mtu);
    return ip_local_out(skb);
}

// TCP's way down (ip_queue_xmit → __ip_queue_xmit): the route to the peer, an IP header with DF
// set (TCP relies on path MTU discovery, never on fragmentation), then ip_local_out.
int ip_queue_xmit(struct sock* sk, sk_buff* skb) {
    trace_scope ts("ip_queue_xmit", "len=%u", skb->len);
    net* n = sock_net(sk);
    inet_sock* inet = inet_sk(sk);
    rtable rt;
    if (ip_route_output(n, inet->inet_daddr, inet->inet_saddr, &rt) || rt.rt_type == RTN_UNREACHABLE) {
        n->ip.OutNoRoutes++;
        kfree_skb_reason(skb, "IP_OUTNOROUTES");
        return ts.ret(-EHOSTUNREACH);
    }
    skb->dev = rt.dev;
    skb->rt_gateway = rt.gateway;
    skb->rt_type = static_cast<u8>(rt.rt_type);
    int ttl = inet->uc_ttl == -1 ? n->ip_default_ttl : inet->uc_ttl;
    ip_build_header(n, skb, inet->inet_saddr, inet->inet_daddr, IPPROTO_TCP, ttl, true, inet->tos);
    return ts.ret(ip_local_out(skb));
}

// The payload straight from the sender's memory.
static int ip_generic_getfrag(msghdr* from, void* to, size_t len) {
    trace_scope ts("ip_generic_getfrag");
    return ts.ret(copy_from_iter_full(to, len, &from->msg_iter) ? 0 : -EFAULT);
}

// The payload in one sk_buff, with room in front for the transport, IP and link headers.
static sk_buff* __ip_append_data(struct sock* sk, msghdr* from, size_t length, unsigned transhdrlen, int* err) {
    trace_scope ts("__ip_append_data");
    unsigned hh = ETH_HLEN + sizeof(iphdr) + 32;
    sk_buff* skb = alloc_skb(hh + transhdrlen + static_cast<unsigned>(length));
    skb_reserve(skb, hh);
    skb_set_owner_w(skb, sk);
    skb_put(skb, transhdrlen);  // the transport header, filled in by the protocol
    skb_reset_transport_header(skb);
    if (length && ip_generic_getfrag(from, skb_put(skb, static_cast<unsigned>(length)), length) < 0) {
        kfree_skb(skb);
        *err = -EFAULT;
        return nullptr;
    }
    return skb;
}

// The IP header in front. DF is set when the datagram fits (IP_PMTUDISC_WANT).
static sk_buff* __ip_make_skb(struct sock* sk, sk_buff* skb, u32 saddr, u32 daddr, const rtable* rt) {
    trace_scope ts("__ip_make_skb");
    net* n = sock_net(sk);
    skb->dev = rt->dev;
    skb->rt_gateway = rt->gateway;
    skb->rt_type = static_cast<u8>(rt->rt_type);
    int ttl = inet_sk(sk)->uc_ttl == -1 ? n->ip_default_ttl : inet_sk(sk)->uc_ttl;
    ip_build_header(n, skb, saddr, daddr, static_cast<u8>(sk->sk_protocol), ttl, skb->len + sizeof(iphdr) <= rt->dev->mtu,
                    inet_sk(sk)->tos);
    return skb;
}

// A datagram in one go (the "corkless" path UDP takes without MSG_MORE): __ip_append_data
// builds the payload, __ip_make_skb puts the IP header on it.
sk_buff* ip_make_skb(struct sock* sk, msghdr* from, size_t length, unsigned transhdrlen, u32 saddr, u32 daddr,
                     const rtable* rt, int* err) {
    trace_scope ts("ip_make_skb", "len=%zu", length);
    sk_buff* skb = __ip_append_data(sk, from, length, transhdrlen, err);
    if (!skb) return nullptr;
    return __ip_make_skb(sk, skb, saddr, daddr, rt);
}

int ip_send_skb(net* n, sk_buff* skb) {
    trace_scope ts("ip_send_skb");
    int err = ip_local_out(skb);
    if (err > 0) err = 0;
    if (err) n->ip.OutDiscards++;
    return ts.ret(err);
}

}  // namespace gk
