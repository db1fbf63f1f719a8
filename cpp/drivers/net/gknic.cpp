// The simulator's Ethernet NIC, in the style of drivers/net/ethernet/intel/e1000 (v6.1), and the
// wire between two of them. Transmit puts a frame in the TX ring and on the wire, which serializes
// it at the link's bandwidth and delivers it to the peer's RX ring after the link's latency (or
// loses it, by a seeded draw). Each NIC raises its interrupt line when a frame has arrived or a
// transmission completed; the top half reclaims finished TX buffers (dev_kfree_skb_irq →
// NET_TX_SOFTIRQ) and schedules NAPI, and the poll function drains the RX ring into
// netif_receive_skb within its budget.
#include <cstring>

#include "glasskernel/linux.h"
#include "glasskernel/net/ip.h"

namespace gk {

// The earliest time this NIC has something to report: a frame arrived or a send completed.
static u64 gknic_next_event(net_device* dev) {
    u64 t = KTIME_MAX;
    for (auto& skb : dev->rx_ring.q) t = std::min(t, skb.arrival);
    for (auto& skb : dev->tx_ring.q) t = std::min(t, skb.arrival);
    return t;
}

// Assert the line for the next event, unless the NIC's interrupts are masked while NAPI polls
// (they are re-armed at napi_complete) or an interrupt is already on its way.
static void gknic_rearm(net_device* dev) {
    if (dev->napi.state & NAPI_STATE_SCHED) return;
    u64 when = gknic_next_event(dev);
    if (when == KTIME_MAX) return;
    // A frame that overtook the one the line was asserted for (a jittery link) is due earlier:
    // the line is asserted for it too (the later assertion then finds less or nothing to do).
    if (dev->irq_asserted && when >= dev->irq_when) return;
    dev->irq_asserted = true;
    dev->irq_when = when;
    dev->kernel->irq_arrivals[dev->kernel->irq_descs[dev->irq].affinity].emplace(when, dev->irq);
}

static u64 rng_next(u64* s) {
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * 2685821657736338717ULL;
}

// The wire: serialize, then deliver a copy into the peer's RX ring after the latency (plus a
// seeded jitter, if the link has one).
static void link_transmit(net_device* dev, sk_buff* skb) {
    gk_link* l = dev->link;
    int dir = dev->link_end;
    net_device* peer = l->end[1 - dir];
    Kernel* k = this_kernel;
    unsigned wire_len = std::max(skb->len, ETH_ZLEN);
    u64 start = std::max(ktime_get(), l->busy_until[dir]);
    u64 end = start + (static_cast<u64>(wire_len) * 8ULL * 1000000000ULL) / l->bandwidth_bps;
    l->busy_until[dir] = end;
    skb->arrival = end;  // the TX completion
    l->frames[dir]++;
    if (l->loss > 0.0 && static_cast<double>(rng_next(&l->rng) >> 11) / 9007199254740992.0 < l->loss) {
        l->lost[dir]++;
        return;
    }
    sk_buff* rx = alloc_skb_on(peer->kernel, skb->len + 32);
    skb_reserve(rx, 32);
    memcpy(skb_put(rx, skb->len), skb->data_ptr(), skb->len);
    rx->dev = peer;
    rx->arrival = end + l->latency_ns;
    if (l->jitter_ns) rx->arrival += rng_next(&l->rng) % (l->jitter_ns + 1);
    rx->tstamp = rx->arrival;
    // The RX ring fills in arrival order, so a delayed frame may be overtaken by later ones.
    auto pos = peer->rx_ring.q.end();
    while (pos != peer->rx_ring.q.begin() && std::prev(pos)->arrival > rx->arrival) --pos;
    peer->rx_ring.q.insert(pos, *rx);
    gknic_rearm(peer);
    // The peer may answer from the frame's arrival on, and the answer takes the latency again to
    // come back: in lock-step, this machine must not run past that before the peer has run.
    if (k->lockstep) k->horizon = std::min(k->horizon, rx->arrival + l->latency_ns);
}

static netdev_tx gknic_xmit(sk_buff* skb, net_device* dev) {
    trace_scope ts("gknic_xmit", "len=%u", skb->len);
    if (dev->tx_ring.qlen() >= dev->tx_ring_size) {
        netif_stop_queue(dev);
        return static_cast<netdev_tx>(ts.ret(NETDEV_TX_BUSY));
    }
    if (!dev->link) {
        dev->stats.tx_dropped++;
        kfree_skb_reason(skb, "NO_CARRIER");
        return static_cast<netdev_tx>(ts.ret(NETDEV_TX_OK));
    }
    dev->stats.tx_packets++;
    dev->stats.tx_bytes += skb->len;
    skb_queue_tail(&dev->tx_ring, skb);
    link_transmit(dev, skb);
    if (dev->tx_ring.qlen() >= dev->tx_ring_size) netif_stop_queue(dev);
    gknic_rearm(dev);
    return static_cast<netdev_tx>(ts.ret(NETDEV_TX_OK));
}

// The top half: reclaim finished transmissions, and leave the received frames to NAPI.
static irqreturn gknic_intr(int irq, void* dev_id) {
    (void)irq;
    auto* dev = static_cast<net_device*>(dev_id);
    dev->irq_asserted = false;
    bool work = false;
    while (sk_buff* skb = skb_peek(&dev->tx_ring)) {
        if (skb->arrival > ktime_get()) break;
        skb_unlink(skb, &dev->tx_ring);
        dev_kfree_skb_irq(skb);
        work = true;
    }
    if (dev->queue_stopped && dev->tx_ring.qlen() < dev->tx_ring_size) netif_wake_queue(dev);
    sk_buff* first = skb_peek(&dev->rx_ring);
    if (first && first->arrival <= ktime_get()) {
        napi_schedule(&dev->napi);  // masks the NIC's interrupts until napi_complete
        work = true;
    }
    gknic_rearm(dev);
    return work ? IRQ_HANDLED : IRQ_NONE;
}

static int gknic_poll(napi_struct* napi, int budget) {
    trace_scope ts("gknic_poll", "budget=%d", budget);
    net_device* dev = napi->dev;
    int work = 0;
    while (work < budget) {
        sk_buff* skb = skb_peek(&dev->rx_ring);
        if (!skb || skb->arrival > ktime_get()) break;
        skb_unlink(skb, &dev->rx_ring);
        dev->stats.rx_packets++;
        dev->stats.rx_bytes += skb->len;
        skb->protocol = eth_type_trans(skb, dev);
        netif_receive_skb(skb);
        work++;
    }
    if (work < budget) {
        napi_complete_done(napi, work);
        gknic_rearm(dev);
    }
    return ts.ret(work);
}

static const net_device_ops gknic_ops = {gknic_xmit};

// A new NIC (ethN) on machine k, with its interrupt line; addresses come with the link.
net_device* gknic_probe(Kernel* k, int irq) {
    net* n = kernel_net(k);
    auto dev = std::make_unique<net_device>();
    int eth = 0;
    for (auto& d : n->devices) eth += d->name.rfind("eth", 0) == 0;
    dev->name = "eth" + std::to_string(eth);
    dev->ifindex = static_cast<int>(n->devices.size()) + 1;
    dev->flags = IFF_UP | IFF_BROADCAST | IFF_RUNNING;
    dev->netdev_ops = &gknic_ops;
    dev->kernel = k;
    dev->irq = irq;
    dev->napi.dev = dev.get();
    dev->napi.poll = gknic_poll;
    dev->rx_ring.name = dev->name + ".rx_ring";
    dev->tx_ring.name = dev->name + ".tx_ring";
    net_device* raw = dev.get();
    n->devices.push_back(std::move(dev));
    kernel_context ctx(k);
    int err = request_irq(irq, gknic_intr, 0, raw->name.c_str(), raw);
    if (err) {
        n->devices.pop_back();
        return nullptr;
    }
    return raw;
}

}  // namespace gk
