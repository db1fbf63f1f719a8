// Models include/net/ip.h, route.h, udp.h, icmp.h, netfilter.h and net_namespace.h (v6.1): the wire
// headers, the routing table (a longest-prefix-match FIB), the neighbour table (permanent entries
// as `ip neigh add ... nud permanent` makes, or entries ARP resolves), netfilter's five IPv4 hooks,
// and struct net, which holds one machine's network state.
#pragma once
#include <array>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "glasskernel/net/netdevice.h"
#include "glasskernel/net/sock.h"
#include "glasskernel/timer.h"

namespace gk {

struct tcp_net;

#pragma pack(push, 1)
struct ethhdr {
    u8 h_dest[ETH_ALEN];
    u8 h_source[ETH_ALEN];
    u16 h_proto;  // network order
};
struct iphdr {
    u8 ihl_version;  // version << 4 | ihl
    u8 tos;
    u16 tot_len, id, frag_off;  // network order
    u8 ttl, protocol;
    u16 check;
    u32 saddr, daddr;           // network order
};
struct udphdr {
    u16 source, dest, len, check;
};
struct icmphdr {
    u8 type, code;
    u16 checksum;
    u16 id, sequence;  // echo; for errors: unused / next-hop MTU
};
#pragma pack(pop)

constexpr u16 IP_DF = 0x4000, IP_MF = 0x2000, IP_OFFSET = 0x1fff;
constexpr int IPDEFTTL = 64;
constexpr unsigned IP_MAX_MTU = 0xffff;
enum { ICMP_ECHOREPLY = 0, ICMP_DEST_UNREACH = 3, ICMP_ECHO = 8, ICMP_TIME_EXCEEDED = 11 };
enum { ICMP_NET_UNREACH = 0, ICMP_HOST_UNREACH = 1, ICMP_PROT_UNREACH = 2, ICMP_PORT_UNREACH = 3, ICMP_FRAG_NEEDED = 4 };
enum { ICMP_EXC_TTL = 0, ICMP_EXC_FRAGTIME = 1 };

u16 ip_fast_csum(const void* iph, unsigned ihl);
u16 csum_fold_buf(const void* data, size_t len, u32 sum = 0);
u32 csum_tcpudp_nofold(u32 saddr, u32 daddr, u32 len, u8 proto);
inline iphdr* ip_hdr(sk_buff* skb) { return reinterpret_cast<iphdr*>(skb_network_header(skb)); }
inline udphdr* udp_hdr(sk_buff* skb) { return reinterpret_cast<udphdr*>(skb_transport_header(skb)); }
inline icmphdr* icmp_hdr(sk_buff* skb) { return reinterpret_cast<icmphdr*>(skb_transport_header(skb)); }
inline ethhdr* eth_hdr(sk_buff* skb) { return reinterpret_cast<ethhdr*>(skb_mac_header(skb)); }
std::string ip_str(u32 host_order_addr);
bool ip_parse(const std::string& s, u32* host_order_addr);

// ---- routing ----
enum rtn_type { RTN_UNICAST = 1, RTN_LOCAL = 2, RTN_BROADCAST = 3, RTN_UNREACHABLE = 7 };
struct fib_route {
    u32 dst = 0;
    int prefix_len = 0;
    u32 gateway = 0;       // 0: on-link
    net_device* dev = nullptr;
    rtn_type type = RTN_UNICAST;
    u32 prefsrc = 0;
    std::string table = "main";
};
// What a route lookup yields for one packet (a dst_entry / rtable).
struct rtable {
    rtn_type rt_type = RTN_UNREACHABLE;
    net_device* dev = nullptr;
    u32 gateway = 0;  // next hop: the gateway, or the destination itself
    u32 src = 0;
    u32 dst = 0;      // the flow's destination after the lookup (fl4->daddr): INADDR_ANY becomes local
};

// nud_state: how much we know of a neighbour's link-layer address.
enum : u8 { NUD_NONE = 0x00, NUD_INCOMPLETE = 0x01, NUD_REACHABLE = 0x02, NUD_FAILED = 0x20, NUD_PERMANENT = 0x80 };
constexpr int NEIGH_UCAST_PROBES = 3;       // ARP requests before giving up
constexpr unsigned NEIGH_UNRES_QLEN = 101;  // packets held while resolving
struct neighbour {
    u32 ip = 0;
    u8 ha[ETH_ALEN] = {};
    net_device* dev = nullptr;
    u8 nud_state = NUD_PERMANENT;
    int probes = 0;
    sk_buff_head arp_queue;  // packets waiting for the address
    timer_list timer;        // the retransmit timer while NUD_INCOMPLETE
    u64 updated = 0;
};

// ---- netfilter ----
enum nf_inet_hooks { NF_INET_PRE_ROUTING, NF_INET_LOCAL_IN, NF_INET_FORWARD, NF_INET_LOCAL_OUT, NF_INET_POST_ROUTING, NF_INET_NUMHOOKS };
enum { NF_DROP = 0, NF_ACCEPT = 1 };
extern const char* const nf_hook_names[NF_INET_NUMHOOKS];
// include/linux/netfilter.h: where a packet is when a hook sees it.
struct nf_hook_state {
    int hook;
    net_device* in;
    net_device* out;
    struct net* net;
    int (*okfn)(sk_buff*);
};
using nf_hookfn = unsigned (*)(void* priv, sk_buff* skb, const nf_hook_state* state);
struct nf_hook_ops {
    nf_hookfn hook = nullptr;
    void* priv = nullptr;
    int hooknum = 0;
    int priority = 0;
    // the simulator's bookkeeping for views
    std::string name;
    int id = 0;
    u64 accepted = 0, dropped = 0;
};
// The hooks of one point, in priority order. Registering builds a new array and swaps it in, as
// Linux's nf_hook_entries are replaced under RCU: a walk already under way keeps the array it
// started with, so a hook may come or go meanwhile.
using nf_hook_entries = std::vector<std::shared_ptr<nf_hook_ops>>;
int nf_register_net_hook(struct net* net, std::shared_ptr<nf_hook_ops> ops);
int nf_unregister_net_hook(struct net* net, const nf_hook_ops* ops);
int NF_HOOK(int hook, sk_buff* skb, net_device* in, net_device* out, int (*okfn)(sk_buff*));

// ---- the link between two simulated NICs, possibly of two machines ----
struct gk_link {
    bool arp = false;  // resolve neighbours with ARP (else each end knows the other: permanent)
    net_device* end[2] = {nullptr, nullptr};
    u64 latency_ns = 10000;
    u64 jitter_ns = 0;  // each frame is delayed by up to this much more: frames may overtake each other
    u64 bandwidth_bps = 1000000000ULL;
    double loss = 0.0;
    u64 rng = 1;
    u64 busy_until[2] = {0, 0};  // each direction serializes one frame at a time
    u64 frames[2] = {0, 0}, lost[2] = {0, 0};
};

// ---- IP fragment reassembly ----
struct ipq {
    u32 saddr, daddr;
    u16 id;
    u8 protocol;
    std::vector<sk_buff*> fragments;  // kept in offset order
    unsigned len = 0;                 // total once the last fragment is seen
    unsigned meat = 0;                // bytes received
    bool last_in = false;
    timer_list timer;  // ip_expire, ipfrag_time after the first fragment
    net* owner = nullptr;
};

struct ip_mib {
    u64 InReceives = 0, InHdrErrors = 0, InAddrErrors = 0, ForwDatagrams = 0, InUnknownProtos = 0, InDiscards = 0,
        InDelivers = 0, OutRequests = 0, OutDiscards = 0, OutNoRoutes = 0, ReasmReqds = 0, ReasmOKs = 0,
        ReasmFails = 0, FragOKs = 0, FragCreates = 0, FragFails = 0;
};
struct udp_mib {
    u64 InDatagrams = 0, NoPorts = 0, InErrors = 0, OutDatagrams = 0, RcvbufErrors = 0, SndbufErrors = 0, InCsumErrors = 0;
};
struct icmp_mib {
    u64 InMsgs = 0, InDestUnreachs = 0, InEchos = 0, InEchoReps = 0, InTimeExcds = 0, OutMsgs = 0, OutDestUnreachs = 0,
        OutEchos = 0, OutEchoReps = 0, OutTimeExcds = 0;
};

// One machine's network state (init_net).
struct net {
    Kernel* kernel = nullptr;
    const net_proto_family* net_families[NPROTO] = {};
    std::vector<inet_protosw> inetsw[SOCK_MAX];
    const net_protocol* inet_protos[IPPROTO_MAX] = {};
    std::vector<proto*> proto_list;
    std::vector<std::unique_ptr<net_device>> devices;
    std::vector<fib_route> fib;
    std::vector<std::unique_ptr<neighbour>> neigh;
    std::multimap<u16, inet_sock*> udp_table;  // by local port
    std::multimap<u16, inet_sock*> tcp_bhash;  // TCP ports taken by bind()
    std::vector<inet_sock*> raw_table;
    std::map<u64, struct sock*> socks;                // every live sock, for views and checks
    std::shared_ptr<const nf_hook_entries> nf_hooks[NF_INET_NUMHOOKS];
    std::vector<std::unique_ptr<ipq>> ipfrags;
    std::vector<std::shared_ptr<gk_link>> links;  // shared with the machine at the other end
    struct capture {
        int id;
        net_device* dev;
        std::vector<std::pair<u64, std::string>> frames;  // (virtual ns, the frame's bytes)
        bool active = true;
    };
    std::vector<std::unique_ptr<capture>> captures;
    int nf_next_id = 1;
    // sysctls
    bool ip_forward = false;
    int ip_default_ttl = IPDEFTTL;
    int ip_local_port_range[2] = {32768, 60999};
    int ip_unprivileged_port_start = 1024;
    int rmem_max = SYSCTL_MEM_MAX, wmem_max = SYSCTL_MEM_MAX;
    int somaxconn = 4096;  // net.core.somaxconn
    u64 ipfrag_time = 30ULL * 1000000000ULL;
    unsigned udp_port_rover = 0;
    u16 ip_id = 0;
    u64 next_sk_id = 1;
    u64 next_skb_id = 1;
    long live_skbs = 0;                        // alloc_skb minus kfree_skb, for the self-check
    std::unique_ptr<struct tcp_net> tcp;  // TCP's tables, counters and sysctls
    ip_mib ip;
    udp_mib udp;
    icmp_mib icmp;
    ~net();
};

net* kernel_net(Kernel* k);
net* sock_net(const struct sock* sk);

// route.c / fib. Linux reaches ip_route_output_flow through include/net/route.h's inline
// ip_route_output(); ip_route_input() is an inline over ip_route_input_noref there too.
int ip_route_output_flow(net* n, u32 daddr, u32 saddr, rtable* rt);
inline int ip_route_output(net* n, u32 daddr, u32 saddr, rtable* rt) { return ip_route_output_flow(n, daddr, saddr, rt); }
int ip_route_input_noref(sk_buff* skb, u32 daddr, u32 saddr, net_device* dev, rtable* rt);
inline int ip_route_input(sk_buff* skb, u32 daddr, u32 saddr, net_device* dev, rtable* rt) {
    return ip_route_input_noref(skb, daddr, saddr, dev, rt);
}
int inet_addr_type(net* n, u32 addr);
void fib_add_route(net* n, const fib_route& r);
neighbour* neigh_lookup(net* n, u32 ip, net_device* dev);
int neigh_resolve_output(net* n, sk_buff* skb);
int neigh_output(net* n, sk_buff* skb);
int arp_rcv(sk_buff* skb, net_device* dev);
void neigh_add_permanent(net* n, u32 ip, const u8* ha, net_device* dev);

// ip_output.c / ip_input.c / ip_fragment.c / ip_forward.c
int ip_local_out(sk_buff* skb);
int ip_output(sk_buff* skb);
int ip_rcv(sk_buff* skb, net_device* dev);
sk_buff* ip_make_skb(struct sock* sk, msghdr* from, size_t length, unsigned transhdrlen, u32 saddr, u32 daddr,
                     const rtable* rt, int* err);
int ip_send_skb(net* n, sk_buff* skb);
int ip_queue_xmit(struct sock* sk, sk_buff* skb);
int ip4_datagram_connect(struct sock* sk, struct sockaddr* uaddr, int addr_len);
int ip_setsockopt(struct sock* sk, int level, int optname, const char __user* optval, unsigned int optlen);
int ip_getsockopt(struct sock* sk, int level, int optname, char __user* optval, int __user* optlen);
int skb_copy_datagram_iter(const sk_buff* from, int offset, iov_iter* to, int size);
// include/linux/skbuff.h
inline int skb_copy_datagram_msg(const sk_buff* from, int offset, msghdr* msg, int size) {
    return skb_copy_datagram_iter(from, offset, &msg->msg_iter, size);
}
int __udp_disconnect(struct sock* sk, int flags);
int ip_build_and_send(net* n, sk_buff* skb, u32 saddr, u32 daddr, u8 protocol, int ttl, const rtable* rt);
sk_buff* ip_defrag(net* n, sk_buff* skb);
int ip_forward(sk_buff* skb);

// udp.c / icmp.c / raw.c / af_inet.c
void __icmp_send(sk_buff* skb_in, int type, int code, u32 info);
// include/net/icmp.h (Linux also passes the IP options of the packet in error; the model has none)
inline void icmp_send(sk_buff* skb_in, int type, int code, u32 info) { __icmp_send(skb_in, type, code, info); }
int raw_v4_input(sk_buff* skb);
void inet_init(Kernel* k);
extern proto udp_prot, raw_prot, tcp_prot;
extern const net_protocol udp_protocol, icmp_protocol;
extern const proto_ops inet_dgram_ops, inet_stream_ops, inet_sockraw_ops;

}  // namespace gk
