// Models net/core/dev.c (v6.1): transmit (dev_queue_xmit → the qdisc → dev_hard_start_xmit →
// ndo_start_xmit), receive (netif_rx's per-CPU backlog, napi_schedule, NET_RX_SOFTIRQ's
// net_rx_action polling each NAPI instance within a budget, __netif_receive_skb handing IP to
// ip_rcv), NET_TX_SOFTIRQ's net_tx_action (freeing completed buffers, restarting qdiscs), and the
// packet taps that captures hang on.

#include <cstring>

#include "glasskernel/linux.h"
#include "glasskernel/net/ip.h"

namespace gk {

static softnet_data* this_sd() { return this_cpu_ptr(this_kernel->softnet_data); }

net_device* dev_get_by_name(Kernel* k, const std::string& name) {
    for (auto& d : kernel_net(k)->devices)
        if (d->name == name) return d.get();
    return nullptr;
}

net_device* dev_get_by_index(Kernel* k, int ifindex) {
    for (auto& d : kernel_net(k)->devices)
        if (d->ifindex == ifindex) return d.get();
    return nullptr;
}

// ---- NAPI ----

static void ____napi_schedule(softnet_data* sd, napi_struct* n) {
    n->on_poll_list = true;
    sd->poll_list.push_back(n);
    raise_softirq_irqoff(NET_RX_SOFTIRQ);
}

void napi_schedule(napi_struct* n) {
    if (n->state & NAPI_STATE_SCHED) return;  // already on a poll list
    n->state |= NAPI_STATE_SCHED;
    trace_point("napi_schedule", "dev=%s", n->dev ? n->dev->name.c_str() : "backlog");
    ____napi_schedule(this_sd(), n);
}

bool napi_complete_done(napi_struct* n, int work_done) {
    (void)work_done;
    n->state &= ~NAPI_STATE_SCHED;
    return true;
}

// ---- receive ----

static void deliver_taps(const sk_buff* skb, net_device* dev, bool tx) {
    for (auto& tap : dev->taps) tap(skb, tx);
}

static int __netif_receive_skb(sk_buff* skb) {
    trace_scope ts("__netif_receive_skb", "dev=%s len=%u", skb->dev->name.c_str(), skb->len);
    net_device* dev = skb->dev;
    skb->skb_iif = dev->ifindex;
    skb_reset_network_header(skb);
    if (!dev->taps.empty()) {
        // Packet taps see the frame as it came in, link-layer header included.
        unsigned saved = skb->data;
        skb->data = static_cast<unsigned>(skb->mac_header);
        skb->len += saved - skb->data;
        deliver_taps(skb, dev, false);
        skb->len -= saved - skb->data;
        skb->data = saved;
    }
    if (skb->protocol == ETH_P_IP) return ts.ret(ip_rcv(skb, dev));
    if (skb->protocol == ETH_P_ARP) return ts.ret(arp_rcv(skb, dev));
    dev->stats.rx_dropped++;
    kfree_skb_reason(skb, "UNHANDLED_PROTO");
    return ts.ret(1);
}

int netif_receive_skb(sk_buff* skb) {
    trace_point("netif_receive_skb", "dev=%s skbaddr=%llu len=%u", skb->dev->name.c_str(), static_cast<unsigned long long>(skb->id), skb->len);
    return __netif_receive_skb(skb);
}

// The backlog's poll function: the packets netif_rx queued on this CPU.
static int process_backlog(napi_struct* napi, int quota) {
    trace_scope ts("process_backlog", "quota=%d", quota);
    softnet_data* sd = this_sd();
    int work = 0;
    while (work < quota) {
        sk_buff* skb = skb_dequeue(&sd->input_pkt_queue);
        if (!skb) {
            napi_complete_done(napi, work);
            break;
        }
        __netif_receive_skb(skb);
        work++;
    }
    return ts.ret(work);
}

// netif_rx: a packet from a device without NAPI (the loopback) joins this CPU's backlog.
int netif_rx(sk_buff* skb) {
    trace_scope ts("netif_rx", "dev=%s len=%u", skb->dev->name.c_str(), skb->len);
    softnet_data* sd = this_sd();
    if (sd->input_pkt_queue.qlen() >= NETDEV_MAX_BACKLOG) {
        sd->dropped++;
        skb->dev->stats.rx_dropped++;
        kfree_skb_reason(skb, "CPU_BACKLOG");
        return ts.ret(1);  // NET_RX_DROP
    }
    skb_queue_tail(&sd->input_pkt_queue, skb);
    napi_schedule(&sd->backlog);
    return ts.ret(0);
}

// One instance's turn: its poll function takes up to its weight of packets. (Linux's napi_poll
// also puts an instance that used its whole weight back on the list; net_rx_action does that
// here.)
static int napi_poll(napi_struct* n) {
    trace_scope ts("napi_poll", "dev=%s weight=%d", n->dev ? n->dev->name.c_str() : "backlog", n->weight);
    return ts.ret(n->poll(n, n->weight));
}

// NET_RX_SOFTIRQ: poll each scheduled NAPI instance up to its weight, within the budget and
// two jiffies; whatever is left goes round again later (time_squeeze).
static void net_rx_action(softirq_action*) {
    trace_scope ts("net_rx_action");
    Kernel* k = this_kernel;
    softnet_data* sd = this_sd();
    int budget = NETDEV_BUDGET;
    u64 time_limit = ktime_get() + 2 * (NSEC_PER_SEC / static_cast<u64>(k->cfg.hz));
    std::vector<napi_struct*> list;
    list.swap(sd->poll_list);
    while (!list.empty()) {
        napi_struct* n = list.front();
        list.erase(list.begin());
        n->on_poll_list = false;
        n->polls++;
        int work = napi_poll(n);
        budget -= work;
        if (n->state & NAPI_STATE_SCHED) {
            // Used its whole weight: it goes to the tail, others get a turn.
            n->on_poll_list = true;
            list.push_back(n);
        }
        if (budget <= 0 || ktime_get() > time_limit) {
            if (!list.empty()) sd->time_squeeze++;
            break;
        }
    }
    for (napi_struct* n : list) {
        n->on_poll_list = true;
        sd->poll_list.push_back(n);
    }
    if (!sd->poll_list.empty()) raise_softirq_irqoff(NET_RX_SOFTIRQ);
}

u16 eth_type_trans(sk_buff* skb, net_device* dev) {
    skb->dev = dev;
    skb_reset_mac_header(skb);
    skb_pull(skb, ETH_HLEN);
    ethhdr* eth = eth_hdr(skb);
    static const u8 bcast[ETH_ALEN] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
    if (!memcmp(eth->h_dest, bcast, ETH_ALEN)) skb->pkt_type = PACKET_BROADCAST;
    else if (!(dev->flags & IFF_LOOPBACK) && memcmp(eth->h_dest, dev->dev_addr, ETH_ALEN)) skb->pkt_type = PACKET_OTHERHOST;
    else skb->pkt_type = PACKET_HOST;
    return ntohs(eth->h_proto);
}

// ---- transmit ----

static netdev_tx dev_hard_start_xmit(sk_buff* skb, net_device* dev) {
    trace_scope ts("dev_hard_start_xmit", "dev=%s len=%u", dev->name.c_str(), skb->len);
    if (!dev->taps.empty()) deliver_taps(skb, dev, true);  // dev_queue_xmit_nit
    trace_point("net_dev_xmit", "dev=%s skbaddr=%llu len=%u", dev->name.c_str(), static_cast<unsigned long long>(skb->id), skb->len);
    return static_cast<netdev_tx>(ts.ret(dev->netdev_ops->ndo_start_xmit(skb, dev)));
}

// pfifo_fast's three bands: everything the model sends is best effort, band 1.
static int pfifo_fast_enqueue(Qdisc* q, sk_buff* skb) {
    if (q->qlen() >= q->limit) {
        q->drops++;
        kfree_skb_reason(skb, "QDISC_DROP");
        return 1;  // NET_XMIT_DROP
    }
    q->enqueued++;
    skb_queue_tail(&q->bands[1], skb);
    return 0;
}

static sk_buff* pfifo_fast_dequeue(Qdisc* q) {
    for (auto& b : q->bands)
        if (sk_buff* skb = skb_dequeue(&b)) return skb;
    return nullptr;
}

// One packet to the driver; false when the driver is full and the packet went back to the
// head of the queue (dev_requeue_skb).
static bool sch_direct_xmit(sk_buff* skb, net_device* dev) {
    trace_scope ts("sch_direct_xmit");
    if (dev_hard_start_xmit(skb, dev) == NETDEV_TX_BUSY) {
        skb_queue_head(&dev->qdisc.bands[1], skb);
        return false;
    }
    return true;
}

// __qdisc_run: hand packets to the driver until the queue is empty or the driver is full.
static void __qdisc_run(net_device* dev) {
    trace_scope ts("__qdisc_run", "dev=%s", dev->name.c_str());
    while (!dev->queue_stopped) {
        sk_buff* skb = pfifo_fast_dequeue(&dev->qdisc);
        if (!skb) break;
        if (!sch_direct_xmit(skb, dev)) break;
    }
}

// sb_dev (a subordinate device choosing the queue) is always NULL here, as dev_queue_xmit passes.
int __dev_queue_xmit(sk_buff* skb, net_device* sb_dev) {
    trace_scope ts("__dev_queue_xmit", "dev=%s len=%u", skb->dev->name.c_str(), skb->len);
    (void)sb_dev;
    net_device* dev = skb->dev;
    int rc = 0;
    local_bh_disable();  // rcu_read_lock_bh: softirqs raised below run at the unlock
    if (!(dev->flags & IFF_UP)) {
        dev->stats.tx_dropped++;
        kfree_skb_reason(skb, "DEV_READY");
        rc = -ENETDOWN;
    } else if (dev->flags & IFF_LOOPBACK) {
        // noqueue: straight to the driver
        dev_hard_start_xmit(skb, dev);
    } else {
        rc = pfifo_fast_enqueue(&dev->qdisc, skb);
        __qdisc_run(dev);
    }
    local_bh_enable();
    return ts.ret(rc);
}

void netif_stop_queue(net_device* dev) { dev->queue_stopped = true; }

// The driver has room again: run the qdisc from NET_TX_SOFTIRQ (__netif_schedule).
void netif_wake_queue(net_device* dev) {
    if (!dev->queue_stopped) return;
    dev->queue_stopped = false;
    if (dev->qdisc.qlen()) {
        softnet_data* sd = this_sd();
        sd->output_queue.push_back(dev);
        raise_softirq_irqoff(NET_TX_SOFTIRQ);
    }
}

// From interrupt context a buffer cannot be freed at once: it waits for NET_TX_SOFTIRQ.
void dev_kfree_skb_irq(sk_buff* skb) {
    softnet_data* sd = this_sd();
    skb_queue_tail(&sd->completion_queue, skb);
    raise_softirq_irqoff(NET_TX_SOFTIRQ);
}

static void net_tx_action(softirq_action*) {
    trace_scope ts("net_tx_action");
    softnet_data* sd = this_sd();
    while (sk_buff* skb = skb_dequeue(&sd->completion_queue)) {
        trace_point("consume_skb", "skbaddr=%llu", static_cast<unsigned long long>(skb->id));
        consume_skb(skb);
    }
    std::vector<net_device*> q;
    q.swap(sd->output_queue);
    for (net_device* dev : q) __qdisc_run(dev);
}

void net_dev_init(Kernel* k) {
    for (int cpu = 0; cpu < k->cfg.cpus; cpu++) {
        softnet_data& sd = per_cpu(k->softnet_data, cpu);
        sd.backlog.poll = process_backlog;
        sd.backlog.weight = NAPI_POLL_WEIGHT;
        sd.input_pkt_queue.name = "input_pkt_queue";
        sd.completion_queue.name = "completion_queue";
    }
    k->softirq_vec[NET_TX_SOFTIRQ].action = net_tx_action;
    k->softirq_vec[NET_RX_SOFTIRQ].action = net_rx_action;
}

}  // namespace gk
