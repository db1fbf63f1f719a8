// Models net/ipv4/ip_input.c (v6.1): ip_rcv checks the header (version, length, checksum) and
// passes NF_INET_PRE_ROUTING; ip_rcv_finish routes the packet: ours goes to ip_local_deliver (which
// reassembles fragments and passes NF_INET_LOCAL_IN), others are forwarded when ip_forward is on;
// ip_local_deliver_finish hands the payload to raw sockets and to the protocol's handler.

#include "glasskernel/linux.h"
#include "glasskernel/net/ip.h"

namespace gk {

static void ip_protocol_deliver_rcu(net* n, sk_buff* skb, int protocol) {
    trace_scope ts("ip_protocol_deliver_rcu", "protocol=%d", protocol);
    int raw = raw_v4_input(skb);  // raw sockets get a copy of anything of their protocol
    const net_protocol* ipprot = n->inet_protos[protocol];
    if (ipprot) {
        n->ip.InDelivers++;
        ipprot->handler(skb);
        return;
    }
    if (!raw) {
        n->ip.InUnknownProtos++;
        icmp_send(skb, ICMP_DEST_UNREACH, ICMP_PROT_UNREACH, 0);
        kfree_skb_reason(skb, "IP_NOPROTO");
    } else {
        n->ip.InDelivers++;
        consume_skb(skb);
    }
}

static int ip_local_deliver_finish(sk_buff* skb) {
    trace_scope ts("ip_local_deliver_finish");
    net* n = kernel_net(skb->dev->kernel);
    iphdr* iph = ip_hdr(skb);
    skb_pull(skb, (iph->ihl_version & 0xf) * 4);
    skb_reset_transport_header(skb);
    ip_protocol_deliver_rcu(n, skb, iph->protocol);
    return ts.ret(0);
}

static int ip_local_deliver(sk_buff* skb) {
    trace_scope ts("ip_local_deliver", "len=%u", skb->len);
    net* n = kernel_net(skb->dev->kernel);
    if (ntohs(ip_hdr(skb)->frag_off) & (IP_MF | IP_OFFSET)) {
        skb = ip_defrag(n, skb);
        if (!skb) return ts.ret(0);  // kept until the datagram is whole
    }
    return ts.ret(NF_HOOK(NF_INET_LOCAL_IN, skb, skb->dev, nullptr, ip_local_deliver_finish));
}

static int ip_rcv_finish(sk_buff* skb) {
    trace_scope ts("ip_rcv_finish");
    net* n = kernel_net(skb->dev->kernel);
    iphdr* iph = ip_hdr(skb);
    rtable rt;
    int err = ip_route_input(skb, ntohl(iph->daddr), ntohl(iph->saddr), skb->dev, &rt);
    if (err) {
        n->ip.InAddrErrors++;
        kfree_skb_reason(skb, "IP_INNOROUTES");
        return ts.ret(0);
    }
    skb->rt_type = static_cast<u8>(rt.rt_type);
    if (rt.rt_type == RTN_LOCAL || rt.rt_type == RTN_BROADCAST) return ts.ret(ip_local_deliver(skb));
    if (!n->ip_forward) {
        n->ip.InAddrErrors++;
        kfree_skb_reason(skb, "IP_INADDRERRORS");
        return ts.ret(0);
    }
    skb->rt_gateway = rt.gateway;
    skb->dev = rt.dev;  // the output device from here on; ip_forward knows where it came in
    return ts.ret(ip_forward(skb));
}

// ip_rcv_core: the sanity checks of RFC 1122 3.2.1.
static sk_buff* ip_rcv_core(net* n, sk_buff* skb) {
    trace_scope ts("ip_rcv_core");
    if (skb->pkt_type == PACKET_OTHERHOST) {
        kfree_skb_reason(skb, "OTHERHOST");
        return nullptr;
    }
    n->ip.InReceives++;
    if (skb->len < sizeof(iphdr)) goto hdr_error;
    {
        iphdr* iph = ip_hdr(skb);
        unsigned ihl = iph->ihl_version & 0xf;
        if ((iph->ihl_version >> 4) != 4 || ihl < 5 || skb->len < ihl * 4) goto hdr_error;
        if (ip_fast_csum(iph, ihl) != 0) {
            n->ip.InHdrErrors++;
            kfree_skb_reason(skb, "IP_CSUM");
            return nullptr;
        }
        unsigned len = ntohs(iph->tot_len);
        if (skb->len < len || len < ihl * 4) goto hdr_error;
        skb_trim(skb, len);  // drop Ethernet padding
        return skb;
    }
hdr_error:
    n->ip.InHdrErrors++;
    kfree_skb_reason(skb, "IP_INHDR");
    return nullptr;
}

int ip_rcv(sk_buff* skb, net_device* dev) {
    trace_scope ts("ip_rcv", "dev=%s len=%u", dev->name.c_str(), skb->len);
    net* n = kernel_net(dev->kernel);
    skb = ip_rcv_core(n, skb);
    if (!skb) return ts.ret(1);
    return ts.ret(NF_HOOK(NF_INET_PRE_ROUTING, skb, dev, nullptr, ip_rcv_finish));
}

}  // namespace gk
