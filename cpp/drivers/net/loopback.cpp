// Models drivers/net/loopback.c (v6.1): lo hands every packet it is given straight back to the
// receive path through netif_rx, on the sending CPU; the softirq that delivers it runs when the
// sender re-enables bottom halves at the end of dev_queue_xmit.
#include "glasskernel/linux.h"
#include "glasskernel/net/ip.h"

namespace gk {

static netdev_tx loopback_xmit(sk_buff* skb, net_device* dev) {
    trace_scope ts("loopback_xmit", "len=%u", skb->len);
    skb_orphan(skb);  // the sender's buffer budget is free once lo has it
    unsigned len = skb->len;
    skb->protocol = eth_type_trans(skb, dev);
    skb->pkt_type = PACKET_HOST;
    dev->stats.tx_packets++;
    dev->stats.tx_bytes += len;
    if (netif_rx(skb) == 0) {
        dev->stats.rx_packets++;
        dev->stats.rx_bytes += len;
    }
    return NETDEV_TX_OK;
}

static const net_device_ops loopback_ops = {loopback_xmit};

net_device* loopback_dev_init(Kernel* k) {
    net* n = kernel_net(k);
    auto dev = std::make_unique<net_device>();
    dev->name = "lo";
    dev->ifindex = 1;
    dev->flags = IFF_UP | IFF_LOOPBACK | IFF_RUNNING;
    dev->mtu = 65536;
    dev->netdev_ops = &loopback_ops;
    dev->kernel = k;
    dev->ip_addr = 0x7f000001;
    dev->prefix_len = 8;
    net_device* raw = dev.get();
    n->devices.push_back(std::move(dev));
    fib_route local;
    local.dst = 0x7f000000;
    local.prefix_len = 8;
    local.dev = raw;
    local.type = RTN_LOCAL;
    local.prefsrc = 0x7f000001;
    local.table = "local";
    fib_add_route(n, local);
    return raw;
}

}  // namespace gk
