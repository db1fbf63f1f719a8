// Models net/ipv4/ip_forward.c (v6.1): a host with ip_forward on passes packets between its links,
// decrementing the TTL (ICMP time exceeded at 1) and crossing NF_INET_FORWARD on the way out.

#include "glasskernel/linux.h"
#include "glasskernel/net/ip.h"

namespace gk {

static int ip_forward_finish(sk_buff* skb) {
    trace_scope ts("ip_forward_finish");
    kernel_net(skb->dev->kernel)->ip.ForwDatagrams++;
    return ts.ret(ip_output(skb));
}

int ip_forward(sk_buff* skb) {
    trace_scope ts("ip_forward", "len=%u", skb->len);
    iphdr* iph = ip_hdr(skb);
    if (iph->ttl <= 1) {
        icmp_send(skb, ICMP_TIME_EXCEEDED, ICMP_EXC_TTL, 0);
        kfree_skb_reason(skb, "IP_INHDR");
        return ts.ret(0);
    }
    if (skb->cloned) {
        // Someone else (a capture) shares the data: make ours private before writing (skb_cow).
        sk_buff* c = skb_copy(skb);
        consume_skb(skb);
        skb = c;
        iph = ip_hdr(skb);
    }
    iph->ttl--;  // ip_decrease_ttl, with the checksum updated
    iph->check = 0;
    iph->check = htons(ip_fast_csum(iph, iph->ihl_version & 0xf));
    net_device* in = dev_get_by_index(skb->dev->kernel, skb->skb_iif);
    return ts.ret(NF_HOOK(NF_INET_FORWARD, skb, in, skb->dev, ip_forward_finish));
}

}  // namespace gk
