// Models net/ipv4/ip_fragment.c (v6.1): fragments wait in a queue keyed by (source, destination,
// id, protocol) until every byte up to the last fragment has come, then one datagram is rebuilt
// (ip_frag_reasm). A queue's timer (ip_expire) drops it after ipfrag_time, with an ICMP
// time-exceeded (fragment reassembly) when the first fragment had come.

#include <algorithm>
#include <cstring>

#include "glasskernel/linux.h"
#include "glasskernel/net/ip.h"

namespace gk {

static unsigned frag_offset(sk_buff* skb) { return (ntohs(ip_hdr(skb)->frag_off) & IP_OFFSET) * 8u; }
static unsigned frag_payload(sk_buff* skb) { return ntohs(ip_hdr(skb)->tot_len) - (ip_hdr(skb)->ihl_version & 0xf) * 4u; }

static void ipq_destroy(net* n, ipq* q) {
    del_timer(&q->timer);
    for (size_t i = 0; i < n->ipfrags.size(); i++)
        if (n->ipfrags[i].get() == q) {
            n->ipfrags.erase(n->ipfrags.begin() + static_cast<long>(i));
            return;
        }
}

// ip_expire: the rest of the datagram never came.
static void ip_expire(timer_list* t) {
    trace_scope ts("ip_expire");
    ipq* q = from_timer(ipq, t, timer);
    net* n = q->owner;
    n->ip.ReasmFails++;
    if (!q->fragments.empty() && frag_offset(q->fragments.front()) == 0)
        icmp_send(q->fragments.front(), ICMP_TIME_EXCEEDED, ICMP_EXC_FRAGTIME, 0);
    for (sk_buff* skb : q->fragments) kfree_skb_reason(skb, "FRAG_REASM_TIMEOUT");
    q->fragments.clear();
    ipq_destroy(n, q);
}

static sk_buff* ip_frag_reasm(net* n, ipq* q) {
    trace_scope ts("ip_frag_reasm", "len=%u", q->len);
    sk_buff* head = q->fragments.front();
    unsigned hlen = (ip_hdr(head)->ihl_version & 0xf) * 4;
    sk_buff* skb = alloc_skb(hlen + q->len + 64);
    skb_reserve(skb, 64);
    skb->dev = head->dev;
    skb->skb_iif = head->skb_iif;
    skb->protocol = ETH_P_IP;
    skb->pkt_type = head->pkt_type;
    skb->tstamp = head->tstamp;
    skb->rt_type = head->rt_type;
    u8* p = skb_put(skb, hlen + q->len);
    memcpy(p, ip_hdr(head), hlen);
    for (sk_buff* f : q->fragments) {
        unsigned off = frag_offset(f), len = frag_payload(f);
        memcpy(p + hlen + off, skb_network_header(f) + (ip_hdr(f)->ihl_version & 0xf) * 4, std::min(len, q->len - off));
    }
    skb_reset_network_header(skb);
    iphdr* iph = ip_hdr(skb);
    iph->tot_len = htons(static_cast<u16>(hlen + q->len));
    iph->frag_off = 0;
    iph->check = 0;
    iph->check = htons(ip_fast_csum(iph, hlen / 4));
    for (sk_buff* f : q->fragments) consume_skb(f);
    n->ip.ReasmOKs++;
    return skb;
}

sk_buff* ip_defrag(net* n, sk_buff* skb) {
    trace_scope ts("ip_defrag", "len=%u", skb->len);
    n->ip.ReasmReqds++;
    iphdr* iph = ip_hdr(skb);
    u32 saddr = ntohl(iph->saddr), daddr = ntohl(iph->daddr);
    u16 id = ntohs(iph->id);
    size_t i = 0;
    for (; i < n->ipfrags.size(); i++) {
        ipq* q = n->ipfrags[i].get();
        if (q->saddr == saddr && q->daddr == daddr && q->id == id && q->protocol == iph->protocol) break;
    }
    if (i == n->ipfrags.size()) {
        auto q = std::make_unique<ipq>();
        q->saddr = saddr;
        q->daddr = daddr;
        q->id = id;
        q->protocol = iph->protocol;
        q->owner = n;
        q->timer.function = ip_expire;
        q->timer.name = "ip_expire";
        mod_timer(&q->timer, n->kernel->jiffies + msecs_to_jiffies(static_cast<unsigned>(n->ipfrag_time / NSEC_PER_MSEC)));
        n->ipfrags.push_back(std::move(q));
    }
    ipq* q = n->ipfrags[i].get();
    unsigned off = frag_offset(skb), len = frag_payload(skb);
    for (sk_buff* f : q->fragments)
        if (frag_offset(f) == off) {  // a duplicate: keep the first copy
            consume_skb(skb);
            return nullptr;
        }
    if (!(ntohs(iph->frag_off) & IP_MF)) {
        q->last_in = true;
        q->len = off + len;
    }
    auto pos = std::find_if(q->fragments.begin(), q->fragments.end(), [&](sk_buff* f) { return frag_offset(f) > off; });
    q->fragments.insert(pos, skb);
    q->meat += len;
    if (!q->last_in || q->meat < q->len) return nullptr;
    sk_buff* whole = ip_frag_reasm(n, q);
    q->fragments.clear();
    ipq_destroy(n, q);
    return whole;
}

}  // namespace gk
