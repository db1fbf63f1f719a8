// The simulator's Python binding. The network views' types (see net_views.cpp).
#pragma once
#include "bindings/views.h"
#include "glasskernel/net/ip.h"

namespace gk {

struct eventpoll;

struct SkBuffView {
    u64 id = 0;
    unsigned len = 0, truesize = 0;
    u64 arrival = 0;
    unsigned data_off = 0, tail = 0, end = 0;
    int mac_header = 0, network_header = 0, transport_header = 0;
    u16 protocol = 0;
    bool cloned = false;
    py::bytes data;
};

struct SocketView {
    int state = 0, type = 0;
    std::string ops;
    unsigned long ino = 0;
    std::string file;
};

// struct tcp_sock's connection state (with inet_connection_sock's), for TCP socks.
struct TcpSockView {
    std::string state;
    u32 snd_una, snd_nxt, snd_wnd, write_seq, rcv_nxt, rcv_wnd, copied_seq, rcv_wup;
    u32 snd_cwnd, snd_ssthresh, srtt_us, rttvar_us, mss_cache, advmss;
    double rto_ms, ato_ms;
    u32 packets_out, retrans_out, lost_out, dupacks, total_retrans;
    unsigned snd_wscale, rcv_wscale, retransmits, backoff, probes_out;
    std::string ca_state, congestion_control;
    unsigned nonagle, max_ack_backlog;
    bool delayed_ack_pending, quickack, pingpong, owned_by_user;
    u64 bytes_acked, bytes_received, segs_in, segs_out, data_segs_in, data_segs_out;
    py::list write_queue, rtx_queue, out_of_order_queue, timers, syn_queue, accept_queue, backlog;
};

struct SockView {
    u64 id = 0;
    int family = 0, type = 0, protocol = 0;
    std::string prot;
    int state = 0;
    std::string state_name;
    py::object tcp;
    py::tuple local, remote;
    int refcnt = 0, wmem_alloc = 0, rmem_alloc = 0, rcvbuf = 0, sndbuf = 0, err = 0, shutdown = 0;
    u64 drops = 0;
    bool dead = false, hashed = false, reuseaddr = false, reuseport = false;
    unsigned long ino = 0;
    unsigned uid = 0;
    std::string sk_data_ready;
    py::list receive_queue, waiters;
    py::object socket;
};

struct DeviceStatsView {
    u64 rx_packets, tx_packets, rx_bytes, tx_bytes, rx_dropped, tx_dropped;
};

struct NetDeviceView {
    std::shared_ptr<Kernel> k;
    net_device* d;
};

struct LinkView {
    u64 latency_ns, bandwidth_bps;
    double loss;
    u64 frames, lost;
};

struct RouteView {
    std::string dst;
    int prefix_len;
    py::object gateway;
    std::string dev, table, type;
};

struct NeighbourView {
    std::string ip, mac, dev, state;
};

struct EpItemView {
    int fd;
    std::string file;
    unsigned events;
    u64 data;
    bool ready;
    u64 wakeups;
    size_t wait_queues;
};

struct EventPollView {
    py::list items, rdllist, waiters;
};

struct InetProtoswView {
    int type, protocol;
    std::string prot, ops;
    unsigned flags;
};

struct ProtocolsView {
    py::list net_families, inetsw;
    py::dict inet_protos, proto_list;
};

std::string mac_str(const u8* a);
SkBuffView skb_view(const sk_buff& s);
py::list skb_list(const sk_buff_head& q);
SockView sock_view(const std::shared_ptr<Kernel>& k, sock* sk);
RouteView route_view(const fib_route& r);
NeighbourView neighbour_view(const neighbour& e);
EventPollView eventpoll_view(const std::shared_ptr<Kernel>& k, eventpoll* ep);
void bind_net_views(py::module_& m);

}  // namespace gk
