// Models net/ipv4/icmp.c (v6.1): icmp_rcv answers echo requests (icmp_echo) and hands errors about
// our own packets to the protocol that sent them (icmp_unreach → err_handler, e.g. udp_err);
// icmp_send reports an error about a packet we received, quoting its header and first bytes, but
// never about an ICMP error, a non-first fragment or a broadcast.

#include <cstring>

#include "glasskernel/linux.h"
#include "glasskernel/net/ip.h"

namespace gk {

static void icmp_push_reply(net* n, const u8* payload, unsigned len, u8 type, u8 code, u16 id, u16 seq, u32 saddr, u32 daddr) {
    rtable rt;
    if (ip_route_output(n, daddr, saddr, &rt)) return;
    sk_buff* skb = alloc_skb(len + sizeof(icmphdr) + sizeof(iphdr) + ETH_HLEN + 32);
    skb_reserve(skb, sizeof(iphdr) + ETH_HLEN + 32);
    icmphdr* ih = reinterpret_cast<icmphdr*>(skb_put(skb, sizeof(icmphdr)));
    skb_reset_transport_header(skb);
    if (len) memcpy(skb_put(skb, len), payload, len);
    ih->type = type;
    ih->code = code;
    ih->id = id;
    ih->sequence = seq;
    ih->checksum = 0;
    ih->checksum = htons(csum_fold_buf(ih, sizeof(icmphdr) + len));
    n->icmp.OutMsgs++;
    ip_build_and_send(n, skb, saddr ? saddr : rt.src, daddr, IPPROTO_ICMP, n->ip_default_ttl, &rt);
}

void __icmp_send(sk_buff* skb_in, int type, int code, u32 info) {
    trace_scope ts("__icmp_send", "type=%d code=%d", type, code);
    net* n = kernel_net(skb_in->dev ? skb_in->dev->kernel : this_kernel);
    iphdr* iph = ip_hdr(skb_in);
    if (skb_in->pkt_type != PACKET_HOST && skb_in->pkt_type != PACKET_OUTGOING && skb_in->pkt_type != PACKET_LOOPBACK) return;
    if (skb_in->rt_type == RTN_BROADCAST) return;
    if (ntohs(iph->frag_off) & IP_OFFSET) return;  // only the first fragment is answered
    unsigned ihl = (iph->ihl_version & 0xf) * 4;
    if (iph->protocol == IPPROTO_ICMP) {
        // Never an error about an error.
        const icmphdr* inner = reinterpret_cast<const icmphdr*>(skb_network_header(skb_in) + ihl);
        if (inner->type != ICMP_ECHO && inner->type != ICMP_ECHOREPLY) return;
    }
    unsigned total = ntohs(iph->tot_len);
    unsigned quote = std::min(total, 576u - static_cast<unsigned>(sizeof(iphdr) + sizeof(icmphdr)));
    u32 saddr = ntohl(iph->daddr);
    if (inet_addr_type(n, saddr) != RTN_LOCAL) saddr = 0;  // we were a router: our own address
    if (type == ICMP_DEST_UNREACH) n->icmp.OutDestUnreachs++;
    if (type == ICMP_TIME_EXCEEDED) n->icmp.OutTimeExcds++;
    u16 mtu_or_unused = type == ICMP_DEST_UNREACH && code == ICMP_FRAG_NEEDED ? htons(static_cast<u16>(info)) : 0;
    icmp_push_reply(n, skb_network_header(skb_in), quote, static_cast<u8>(type), static_cast<u8>(code), 0, mtu_or_unused, saddr,
                    ntohl(iph->saddr));
}

static void icmp_echo(net* n, sk_buff* skb) {
    trace_scope ts("icmp_echo");
    icmphdr* ih = icmp_hdr(skb);
    iphdr* iph = ip_hdr(skb);
    n->icmp.OutEchoReps++;
    icmp_push_reply(n, skb->data_ptr() + sizeof(icmphdr), skb->len - sizeof(icmphdr), ICMP_ECHOREPLY, 0, ih->id, ih->sequence,
                    ntohl(iph->daddr), ntohl(iph->saddr));
}

// An error about a packet we sent: the quoted header says which protocol and socket.
static void icmp_unreach(net* n, sk_buff* skb, u32 info) {
    trace_scope ts("icmp_unreach");
    skb_pull(skb, sizeof(icmphdr));
    if (skb->len < sizeof(iphdr)) return;
    const iphdr* inner = reinterpret_cast<const iphdr*>(skb->data_ptr());
    const net_protocol* ipprot = n->inet_protos[inner->protocol];
    if (ipprot && ipprot->err_handler) ipprot->err_handler(skb, info);
}

static int icmp_rcv(sk_buff* skb) {
    trace_scope ts("icmp_rcv", "len=%u", skb->len);
    net* n = kernel_net(skb->dev->kernel);
    n->icmp.InMsgs++;
    if (skb->len < sizeof(icmphdr) || csum_fold_buf(skb->data_ptr(), skb->len) != 0) {
        kfree_skb_reason(skb, "ICMP_CSUM");
        return ts.ret(0);
    }
    icmphdr* ih = icmp_hdr(skb);
    switch (ih->type) {
    case ICMP_ECHO:
        n->icmp.InEchos++;
        if (skb->rt_type != RTN_BROADCAST) icmp_echo(n, skb);
        break;
    case ICMP_ECHOREPLY:
        n->icmp.InEchoReps++;  // raw sockets (ping) already have their copy
        break;
    case ICMP_DEST_UNREACH:
        n->icmp.InDestUnreachs++;
        icmp_unreach(n, skb, ntohs(ih->sequence));
        break;
    case ICMP_TIME_EXCEEDED:
        n->icmp.InTimeExcds++;
        icmp_unreach(n, skb, 0);
        break;
    default:
        break;
    }
    consume_skb(skb);
    return ts.ret(0);
}

const net_protocol icmp_protocol = {"icmp", icmp_rcv, nullptr};

}  // namespace gk
