// Models net/ipv4/arp.c and the resolution part of net/core/neighbour.c (v6.1): a packet for a next
// hop whose Ethernet address is unknown waits on the neighbour's arp_queue while ARP asks for it (a
// broadcast who-has, retried each second up to three times); the reply (or a request from that
// host) makes the entry REACHABLE and sends the queue; if nobody answers the entry FAILS and the
// waiting packets are answered with ICMP host unreachable. Links made with arp=False install
// permanent entries instead, as `ip neigh add ... nud permanent` would.
#include <cstring>

#include "glasskernel/linux.h"
#include "glasskernel/net/ip.h"

namespace gk {

enum : u16 { ARPHRD_ETHER = 1, ARPOP_REQUEST = 1, ARPOP_REPLY = 2 };
constexpr u64 NEIGH_RETRANS_NS = 1000000000ULL;  // retrans_time_ms = 1000

#pragma pack(push, 1)
struct arphdr_eth {
    u16 ar_hrd, ar_pro;
    u8 ar_hln, ar_pln;
    u16 ar_op;
    u8 ar_sha[ETH_ALEN];
    u32 ar_sip;
    u8 ar_tha[ETH_ALEN];
    u32 ar_tip;
};
#pragma pack(pop)

// arp_create + arp_xmit: an ARP packet in an Ethernet frame, straight to the device queue.
static void arp_send(int type, u32 dest_ip, net_device* dev, u32 src_ip, const u8* dest_hw, const u8* target_hw) {
    trace_scope ts("arp_send", "op=%s tip=%s", type == ARPOP_REQUEST ? "request" : "reply", ip_str(dest_ip).c_str());
    sk_buff* skb = alloc_skb(ETH_HLEN + sizeof(arphdr_eth) + 32);
    skb_reserve(skb, ETH_HLEN + 32);
    auto* arp = reinterpret_cast<arphdr_eth*>(skb_put(skb, sizeof(arphdr_eth)));
    skb_reset_network_header(skb);
    arp->ar_hrd = htons(ARPHRD_ETHER);
    arp->ar_pro = htons(ETH_P_IP);
    arp->ar_hln = ETH_ALEN;
    arp->ar_pln = 4;
    arp->ar_op = htons(static_cast<u16>(type));
    memcpy(arp->ar_sha, dev->dev_addr, ETH_ALEN);
    arp->ar_sip = htonl(src_ip);
    if (target_hw) memcpy(arp->ar_tha, target_hw, ETH_ALEN);
    else memset(arp->ar_tha, 0, ETH_ALEN);
    arp->ar_tip = htonl(dest_ip);
    ethhdr* eth = reinterpret_cast<ethhdr*>(skb_push(skb, ETH_HLEN));
    skb_reset_mac_header(skb);
    memcpy(eth->h_dest, dest_hw, ETH_ALEN);
    memcpy(eth->h_source, dev->dev_addr, ETH_ALEN);
    eth->h_proto = htons(ETH_P_ARP);
    skb->dev = dev;
    skb->protocol = ETH_P_ARP;
    dev_queue_xmit(skb);
}

static void arp_solicit(neighbour* ne) {
    trace_scope ts("arp_solicit", "tip=%s probe=%d", ip_str(ne->ip).c_str(), ne->probes);
    static const u8 bcast[ETH_ALEN] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
    arp_send(ARPOP_REQUEST, ne->ip, ne->dev, ne->dev->ip_addr, bcast, nullptr);
}

static neighbour* neigh_of_timer(timer_list* t) { return from_timer(neighbour, t, timer); }

// Nobody answered: the waiting packets get ICMP host unreachable (arp_error_report).
static void neigh_invalidate(net* n, neighbour* ne) {
    trace_scope ts("neigh_invalidate", "ip=%s", ip_str(ne->ip).c_str());
    ne->nud_state = NUD_FAILED;
    while (sk_buff* skb = skb_dequeue(&ne->arp_queue)) {
        n->ip.OutNoRoutes++;
        icmp_send(skb, ICMP_DEST_UNREACH, ICMP_HOST_UNREACH, 0);
        kfree_skb_reason(skb, "NEIGH_FAILED");
    }
}

static void neigh_timer_handler(timer_list* t) {
    trace_scope ts("neigh_timer_handler");
    neighbour* ne = neigh_of_timer(t);
    net* n = kernel_net(ne->dev->kernel);
    if (ne->nud_state != NUD_INCOMPLETE) return;
    if (ne->probes >= NEIGH_UCAST_PROBES) {
        neigh_invalidate(n, ne);
        return;
    }
    ne->probes++;
    arp_solicit(ne);
    mod_timer(t, n->kernel->jiffies + msecs_to_jiffies(static_cast<unsigned>(NEIGH_RETRANS_NS / NSEC_PER_MSEC)));
}

static neighbour* neigh_create(net* n, u32 ip, net_device* dev) {
    trace_scope ts("neigh_create", "ip=%s", ip_str(ip).c_str());
    auto ne = std::make_unique<neighbour>();
    ne->ip = ip;
    ne->dev = dev;
    ne->nud_state = NUD_NONE;
    ne->arp_queue.name = "arp_queue";
    ne->timer.function = neigh_timer_handler;
    ne->timer.name = "neigh_timer_handler";
    n->neigh.push_back(std::move(ne));
    return n->neigh.back().get();
}

void neigh_add_permanent(net* n, u32 ip, const u8* ha, net_device* dev) {
    neighbour* ne = neigh_lookup(n, ip, dev);
    if (!ne) ne = neigh_create(n, ip, dev);
    memcpy(ne->ha, ha, ETH_ALEN);
    ne->nud_state = NUD_PERMANENT;
}

// __neigh_event_send: start (or restart) resolution and hold the packet meanwhile.
int neigh_resolve_output(net* n, sk_buff* skb) {
    trace_scope ts("neigh_resolve_output");
    net_device* dev = skb->dev;
    if (!dev->link || !dev->link->arp) {
        // A permanent-neighbour link without an entry for this next hop: unreachable.
        n->ip.OutNoRoutes++;
        kfree_skb_reason(skb, "NEIGH_FAILED");
        return ts.ret(-EHOSTUNREACH);
    }
    neighbour* ne = neigh_lookup(n, skb->rt_gateway, dev);
    if (!ne) ne = neigh_create(n, skb->rt_gateway, dev);
    if (ne->nud_state == NUD_NONE || ne->nud_state == NUD_FAILED) {
        ne->nud_state = NUD_INCOMPLETE;
        ne->probes = 1;
        ne->updated = ktime_get();
        arp_solicit(ne);
        mod_timer(&ne->timer, n->kernel->jiffies + msecs_to_jiffies(static_cast<unsigned>(NEIGH_RETRANS_NS / NSEC_PER_MSEC)));
    }
    if (ne->arp_queue.qlen() >= NEIGH_UNRES_QLEN) {
        kfree_skb_reason(skb_dequeue(&ne->arp_queue), "NEIGH_QUEUEFULL");
    }
    skb_queue_tail(&ne->arp_queue, skb);
    return ts.ret(0);
}

// neigh_update: the address is known now; send what was waiting.
static void neigh_update(net* n, neighbour* ne, const u8* lladdr) {
    trace_scope ts("neigh_update", "ip=%s", ip_str(ne->ip).c_str());
    if (ne->nud_state == NUD_PERMANENT) return;
    memcpy(ne->ha, lladdr, ETH_ALEN);
    ne->nud_state = NUD_REACHABLE;
    ne->updated = ktime_get();
    del_timer(&ne->timer);
    while (sk_buff* skb = skb_dequeue(&ne->arp_queue)) neigh_output(n, skb);
}

static int arp_process(net* n, sk_buff* skb, net_device* dev) {
    trace_scope ts("arp_process");
    auto* arp = reinterpret_cast<arphdr_eth*>(skb->data_ptr());
    u32 sip = ntohl(arp->ar_sip), tip = ntohl(arp->ar_tip);
    u16 op = ntohs(arp->ar_op);
    neighbour* ne = neigh_lookup(n, sip, dev);
    if (tip == dev->ip_addr && dev->ip_addr) {
        // About us: remember the asker (neigh_event_ns), and answer a request.
        if (!ne) ne = neigh_create(n, sip, dev);
        neigh_update(n, ne, arp->ar_sha);
        if (op == ARPOP_REQUEST) arp_send(ARPOP_REPLY, sip, dev, tip, arp->ar_sha, arp->ar_sha);
    } else if (ne && op == ARPOP_REPLY) {
        neigh_update(n, ne, arp->ar_sha);
    }
    consume_skb(skb);
    return ts.ret(0);
}

int arp_rcv(sk_buff* skb, net_device* dev) {
    trace_scope ts("arp_rcv", "dev=%s", dev->name.c_str());
    net* n = kernel_net(dev->kernel);
    auto* arp = reinterpret_cast<arphdr_eth*>(skb->data_ptr());
    if (skb->len < sizeof(arphdr_eth) || ntohs(arp->ar_hrd) != ARPHRD_ETHER || ntohs(arp->ar_pro) != ETH_P_IP ||
        arp->ar_hln != ETH_ALEN || arp->ar_pln != 4 || skb->pkt_type == PACKET_OTHERHOST) {
        kfree_skb_reason(skb, "ARP_INVALID");
        return ts.ret(1);
    }
    skb_reset_network_header(skb);
    return ts.ret(arp_process(n, skb, dev));
}

}  // namespace gk
