// Models include/linux/netdevice.h (v6.1): struct net_device with its net_device_ops and
// statistics, NAPI (napi_struct polled from NET_RX_SOFTIRQ with a budget and a weight), the per-CPU
// softnet_data (poll list, backlog, completion queue), the pfifo_fast qdisc, packet taps.
#pragma once
#include <array>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "glasskernel/net/skbuff.h"

namespace gk {

struct net_device;
struct napi_struct;
struct gk_link;

enum netdev_tx { NETDEV_TX_OK = 0, NETDEV_TX_BUSY = 0x10 };
enum : unsigned { IFF_UP = 0x1, IFF_BROADCAST = 0x2, IFF_LOOPBACK = 0x8, IFF_RUNNING = 0x40 };
constexpr u16 ETH_P_IP = 0x0800, ETH_P_ARP = 0x0806;
constexpr unsigned ETH_HLEN = 14, ETH_ALEN = 6, ETH_ZLEN = 60;
constexpr int NAPI_POLL_WEIGHT = 64;
constexpr int NETDEV_BUDGET = 300;
constexpr int NETDEV_MAX_BACKLOG = 1000;

struct net_device_ops {
    netdev_tx (*ndo_start_xmit)(sk_buff* skb, net_device* dev);
};

struct net_device_stats {
    u64 rx_packets = 0, tx_packets = 0, rx_bytes = 0, tx_bytes = 0;
    u64 rx_dropped = 0, tx_dropped = 0, rx_errors = 0, tx_errors = 0;
};

enum : unsigned long { NAPI_STATE_SCHED = 1 };
struct napi_struct {
    unsigned long state = 0;
    int weight = NAPI_POLL_WEIGHT;
    int (*poll)(napi_struct* napi, int budget) = nullptr;
    net_device* dev = nullptr;
    bool on_poll_list = false;
    u64 polls = 0;
};

// pfifo_fast: three bands by priority, band 0 first; packets wait here while the driver's
// queue is stopped.
struct Qdisc {
    std::array<sk_buff_head, 3> bands;
    unsigned limit = 1000;  // tx_queue_len
    u64 qlen() const { return bands[0].qlen() + bands[1].qlen() + bands[2].qlen(); }
    u64 drops = 0, enqueued = 0;
};

struct net_device {
    std::string name;
    int ifindex = 0;
    unsigned flags = 0;
    unsigned mtu = 1500;
    u8 dev_addr[ETH_ALEN] = {};
    const net_device_ops* netdev_ops = nullptr;
    net_device_stats stats;
    Qdisc qdisc;
    bool queue_stopped = false;        // netif_stop_queue
    Kernel* kernel = nullptr;
    u32 ip_addr = 0;                    // in_device's one address (host order) and prefix
    int prefix_len = 0;
    // The simulated NIC: its rings, its interrupt line and the link it is plugged into.
    int irq = -1;
    napi_struct napi;
    sk_buff_head rx_ring;               // frames that arrived from the wire
    sk_buff_head tx_ring;               // frames handed to the hardware, not yet completed
    unsigned tx_ring_size = 64;
    bool irq_asserted = false;          // one interrupt pending at a time (coalescing)
    u64 irq_when = 0;  // when the asserted interrupt is due
    gk_link* link = nullptr;
    int link_end = 0;
    std::vector<std::function<void(const sk_buff*, bool tx)>> taps;  // packet sockets / captures
};

struct softnet_data {
    std::vector<napi_struct*> poll_list;
    sk_buff_head input_pkt_queue;       // netif_rx's backlog
    napi_struct backlog;
    sk_buff_head completion_queue;      // freed by NET_TX_SOFTIRQ
    std::vector<net_device*> output_queue;  // qdiscs to run from NET_TX_SOFTIRQ
    u64 processed = 0, dropped = 0, time_squeeze = 0;
};

void napi_schedule(napi_struct* n);
bool napi_complete_done(napi_struct* n, int work_done);
int netif_rx(sk_buff* skb);
int netif_receive_skb(sk_buff* skb);
int __dev_queue_xmit(sk_buff* skb, net_device* sb_dev);
inline int dev_queue_xmit(sk_buff* skb) { return __dev_queue_xmit(skb, nullptr); }
void dev_kfree_skb_irq(sk_buff* skb);
void netif_stop_queue(net_device* dev);
void netif_wake_queue(net_device* dev);
u16 eth_type_trans(sk_buff* skb, net_device* dev);
net_device* dev_get_by_name(Kernel* k, const std::string& name);
net_device* dev_get_by_index(Kernel* k, int ifindex);
void net_dev_init(Kernel* k);

}  // namespace gk
