// The simulator's Python binding. Views of the network stack's objects: net_device (live) and
// snapshots of what comes and goes (sk_buff, sock, socket, routes, neighbours, eventpoll), each
// a class whose attributes carry Linux's field names.
#include "bindings/net_views.h"

#include "glasskernel/eventpoll.h"
#include "glasskernel/net/ip.h"

namespace gk {

std::string mac_str(const u8* a) {
    char b[24];
    snprintf(b, sizeof b, "%02x:%02x:%02x:%02x:%02x:%02x", a[0], a[1], a[2], a[3], a[4], a[5]);
    return b;
}

SkBuffView skb_view(const sk_buff& s) {
    SkBuffView v;
    v.id = s.id;
    v.len = s.len;
    v.truesize = s.truesize;
    v.arrival = s.arrival;
    // The buffer's layout: offsets from head, as skb->data - skb->head etc. would give them.
    v.data_off = s.data;
    v.tail = s.tail;
    v.end = s.end;
    v.mac_header = s.mac_header;
    v.network_header = s.network_header;
    v.transport_header = s.transport_header;
    v.protocol = s.protocol;
    v.cloned = s.cloned;
    v.data = py::bytes(reinterpret_cast<const char*>(s.head->data() + s.data), s.len);
    return v;
}

py::list skb_list(const sk_buff_head& q) {
    py::list l;
    for (const sk_buff& s : q.q) l.append(skb_view(s));
    return l;
}

SockView sock_view(const std::shared_ptr<Kernel>& k, sock* sk) {
    inet_sock* in = inet_sk(sk);
    SockView v;
    v.id = sk->sk_id;
    v.family = sk->skc_family;
    v.type = sk->sk_type;
    v.protocol = sk->sk_protocol;
    v.prot = sk->sk_prot->name;
    v.state = sk->sk_state;
    v.local = py::make_tuple(ip_str(in->inet_rcv_saddr), in->inet_num);
    v.remote = py::make_tuple(ip_str(in->inet_daddr), in->inet_dport);
    v.refcnt = sk->sk_refcnt;
    v.wmem_alloc = sk->sk_wmem_alloc;
    v.rmem_alloc = sk->sk_rmem_alloc;
    v.rcvbuf = sk->sk_rcvbuf;
    v.sndbuf = sk->sk_sndbuf;
    v.drops = sk->sk_drops;
    v.err = sk->sk_err;
    v.shutdown = sk->sk_shutdown;
    v.dead = sk->sk_dead;
    v.hashed = sk->hashed;
    v.reuseaddr = sk->sk_reuse;
    v.reuseport = sk->sk_reuseport;
    v.ino = sk->ino;
    v.uid = sk->uid;
    v.sk_data_ready = sk->sk_data_ready == sock_def_readable ? "sock_def_readable" : "?";
    v.receive_queue = skb_list(sk->sk_receive_queue);
    py::list waiters;
    if (sk->sk_wq)
        for (auto& w : sk->sk_wq->wait.head)
            if (w.private_) waiters.append(task_or_none(k, w.private_));
    v.waiters = waiters;
    v.socket = py::none();
    return v;
}

static const char* nud_name(u8 s) {
    switch (s) {
    case NUD_PERMANENT: return "PERMANENT";
    case NUD_REACHABLE: return "REACHABLE";
    case NUD_INCOMPLETE: return "INCOMPLETE";
    case NUD_FAILED: return "FAILED";
    default: return "NONE";
    }
}

RouteView route_view(const fib_route& r) {
    return RouteView{ip_str(r.dst), r.prefix_len, r.gateway ? py::object(py::str(ip_str(r.gateway))) : py::none(),
                     r.dev ? r.dev->name : "lo", r.table, r.type == RTN_LOCAL ? "local" : "unicast"};
}

NeighbourView neighbour_view(const neighbour& e) { return NeighbourView{ip_str(e.ip), mac_str(e.ha), e.dev->name, nud_name(e.nud_state)}; }

EventPollView eventpoll_view(const std::shared_ptr<Kernel>& k, eventpoll* ep) {
    EventPollView v;
    for (auto& [key, epi] : ep->rbr)
        v.items.append(EpItemView{epi->ffd_fd, epi->ffd_file->name, static_cast<unsigned>(epi->event.events),
                                  static_cast<u64>(epi->event.data), epi->on_rdllist, epi->wakeups, epi->pwqlist.size()});
    for (epitem* epi : ep->rdllist) v.rdllist.append(epi->ffd_fd);
    for (auto& w : ep->wq.head)
        if (w.private_) v.waiters.append(task_or_none(k, w.private_));
    return v;
}

void bind_net_views(py::module_& m) {
    view_class<SkBuffView>(m, "SkBuff", "An sk_buff as it was when read: its length, layout (offsets from head) and bytes.")
        .member("id", &SkBuffView::id)
        .member("len", &SkBuffView::len)
        .member("truesize", &SkBuffView::truesize, "what it is charged to the socket: data plus overhead")
        .member("arrival", &SkBuffView::arrival)
        .member("data_off", &SkBuffView::data_off, "skb->data - skb->head")
        .member("tail", &SkBuffView::tail)
        .member("end", &SkBuffView::end)
        .member("mac_header", &SkBuffView::mac_header)
        .member("network_header", &SkBuffView::network_header)
        .member("transport_header", &SkBuffView::transport_header)
        .member("protocol", &SkBuffView::protocol)
        .member("cloned", &SkBuffView::cloned)
        .member("data", &SkBuffView::data, "the bytes from skb->data, len of them")
        .repr({"id", "len", "truesize"});

    view_class<SocketView>(m, "Socket", "struct socket: the file side of a socket.")
        .member("state", &SocketView::state, "socket_state: SS_UNCONNECTED 1, SS_CONNECTED 3, ...")
        .member("type", &SocketView::type)
        .member("ops", &SocketView::ops, "the proto_ops table, e.g. inet_dgram_ops")
        .member("ino", &SocketView::ino)
        .member("file", &SocketView::file)
        .repr({"ops", "state", "ino"});

    view_class<SockView>(m, "Sock", "A struct sock as it was when read: addresses, state, refcount, buffers, queue, sleepers.")
        .member("id", &SockView::id)
        .member("family", &SockView::family)
        .member("type", &SockView::type)
        .member("protocol", &SockView::protocol)
        .member("prot", &SockView::prot, "sk->sk_prot's name: UDP, RAW, ...")
        .member("state", &SockView::state, "sk_state (TCP_ESTABLISHED 1 for a connected UDP sock, TCP_CLOSE 7)")
        .member("local", &SockView::local, "(address, port)")
        .member("remote", &SockView::remote, "(address, port)")
        .member("refcnt", &SockView::refcnt)
        .member("wmem_alloc", &SockView::wmem_alloc)
        .member("rmem_alloc", &SockView::rmem_alloc)
        .member("rcvbuf", &SockView::rcvbuf)
        .member("sndbuf", &SockView::sndbuf)
        .member("drops", &SockView::drops)
        .member("err", &SockView::err)
        .member("shutdown", &SockView::shutdown)
        .member("dead", &SockView::dead)
        .member("hashed", &SockView::hashed, "in its protocol's lookup table (bound)")
        .member("reuseaddr", &SockView::reuseaddr)
        .member("reuseport", &SockView::reuseport)
        .member("ino", &SockView::ino)
        .member("uid", &SockView::uid)
        .member("sk_data_ready", &SockView::sk_data_ready)
        .member("receive_queue", &SockView::receive_queue, "sk_receive_queue's sk_buffs, oldest first")
        .member("waiters", &SockView::waiters, "the tasks sleeping on sk->sk_wq->wait")
        .member("socket", &SockView::socket, "its struct socket (when looked up through a file descriptor)")
        .repr({"id", "prot", "local", "remote", "refcnt"});

    view_class<DeviceStatsView>(m, "DeviceStats", "A net_device's counters (rtnl_link_stats64, as ip -s link shows).")
        .member("rx_packets", &DeviceStatsView::rx_packets)
        .member("tx_packets", &DeviceStatsView::tx_packets)
        .member("rx_bytes", &DeviceStatsView::rx_bytes)
        .member("tx_bytes", &DeviceStatsView::tx_bytes)
        .member("rx_dropped", &DeviceStatsView::rx_dropped)
        .member("tx_dropped", &DeviceStatsView::tx_dropped)
        .repr({"rx_packets", "tx_packets", "rx_dropped", "tx_dropped"});

    view_class<NetDeviceView>(m, "NetDevice", "A struct net_device, read live: addresses, counters, qdisc, rings, NAPI, link.")
        .field("name", [](const NetDeviceView& v) { return v.d->name; })
        .field("ifindex", [](const NetDeviceView& v) { return v.d->ifindex; })
        .field("flags", [](const NetDeviceView& v) { return v.d->flags; }, "IFF_UP 0x1, IFF_BROADCAST 0x2, IFF_LOOPBACK 0x8, IFF_RUNNING 0x40")
        .field("mtu", [](const NetDeviceView& v) { return v.d->mtu; })
        .field("mac", [](const NetDeviceView& v) { return mac_str(v.d->dev_addr); })
        .field("ip", [](const NetDeviceView& v) { return ip_str(v.d->ip_addr); })
        .field("prefix_len", [](const NetDeviceView& v) { return v.d->prefix_len; })
        .field("irq", [](const NetDeviceView& v) { return v.d->irq; })
        .field("stats", [](const NetDeviceView& v) {
            const net_device_stats& s = v.d->stats;
            return DeviceStatsView{s.rx_packets, s.tx_packets, s.rx_bytes, s.tx_bytes, s.rx_dropped, s.tx_dropped};
        })
        .field("qdisc_kind", [](const NetDeviceView&) { return "pfifo_fast"; })
        .field("qdisc_qlen", [](const NetDeviceView& v) { return v.d->qdisc.qlen(); })
        .field("qdisc_drops", [](const NetDeviceView& v) { return v.d->qdisc.drops; })
        .field("qdisc_enqueued", [](const NetDeviceView& v) { return v.d->qdisc.enqueued; })
        .field("queue_stopped", [](const NetDeviceView& v) { return v.d->queue_stopped; }, "netif_stop_queue() in effect")
        .field("rx_ring", [](const NetDeviceView& v) { return skb_list(v.d->rx_ring); })
        .field("tx_ring", [](const NetDeviceView& v) { return skb_list(v.d->tx_ring); })
        .field("napi_scheduled", [](const NetDeviceView& v) { return (v.d->napi.state & NAPI_STATE_SCHED) != 0; })
        .field("napi_polls", [](const NetDeviceView& v) { return v.d->napi.polls; })
        .field("napi_weight", [](const NetDeviceView& v) { return v.d->napi.weight; })
        .field("link", [](const NetDeviceView& v) -> py::object {
            if (!v.d->link) return py::none();
            gk_link* l = v.d->link;
            return py::cast(LinkView{l->latency_ns, l->bandwidth_bps, l->loss, l->frames[v.d->link_end], l->lost[v.d->link_end]});
        }, "the cable to another machine (None for lo)")
        .repr({"name", "ip", "mac", "mtu"});

    view_class<LinkView>(m, "Link", "The simulated cable behind a NIC, seen from one end.")
        .member("latency_ns", &LinkView::latency_ns)
        .member("bandwidth_bps", &LinkView::bandwidth_bps)
        .member("loss", &LinkView::loss)
        .member("frames", &LinkView::frames, "frames this end sent")
        .member("lost", &LinkView::lost, "of those, lost on the wire")
        .repr({"latency_ns", "bandwidth_bps", "loss"});

    view_class<RouteView>(m, "Route", "A FIB entry, as ip route shows it.")
        .member("dst", &RouteView::dst)
        .member("prefix_len", &RouteView::prefix_len)
        .member("gateway", &RouteView::gateway, "None: on-link")
        .member("dev", &RouteView::dev)
        .member("table", &RouteView::table, "'main' or 'local'")
        .member("type", &RouteView::type, "'unicast' or 'local'")
        .repr({"dst", "prefix_len", "gateway", "dev"});

    view_class<NeighbourView>(m, "Neighbour", "A neighbour table entry, as ip neigh shows it.")
        .member("ip", &NeighbourView::ip)
        .member("mac", &NeighbourView::mac)
        .member("dev", &NeighbourView::dev)
        .member("state", &NeighbourView::state, "NUD state: PERMANENT, REACHABLE, INCOMPLETE, FAILED")
        .repr({"ip", "mac", "dev", "state"});

    view_class<EpItemView>(m, "EpItem", "An epitem: one file watched by an eventpoll.")
        .member("fd", &EpItemView::fd)
        .member("file", &EpItemView::file)
        .member("events", &EpItemView::events, "the EPOLL* mask asked for")
        .member("data", &EpItemView::data, "epoll_event.data, returned with each event")
        .member("ready", &EpItemView::ready, "on the ready list (rdllist)")
        .member("wakeups", &EpItemView::wakeups, "how often ep_poll_callback queued it")
        .member("wait_queues", &EpItemView::wait_queues, "wait queues it hooks (pwqlist)")
        .repr({"fd", "events", "ready"});

    view_class<EventPollView>(m, "EventPoll", "A struct eventpoll as it was when read.")
        .member("items", &EventPollView::items, "the watched files (the rbr tree)")
        .member("rdllist", &EventPollView::rdllist, "fds of the ready items, in the order they became ready")
        .member("waiters", &EventPollView::waiters, "tasks sleeping in epoll_wait")
        .repr({"items", "rdllist"});

    view_class<InetProtoswView>(m, "InetProtosw", "An inetsw entry: what socket(AF_INET, type, protocol) creates.")
        .member("type", &InetProtoswView::type)
        .member("protocol", &InetProtoswView::protocol)
        .member("prot", &InetProtoswView::prot)
        .member("ops", &InetProtoswView::ops)
        .member("flags", &InetProtoswView::flags)
        .repr({"type", "protocol", "prot", "ops"});

    view_class<ProtocolsView>(m, "NetProtocols", "The protocol tables socket(2) goes through.")
        .member("net_families", &ProtocolsView::net_families, "the address families registered with sock_register")
        .member("inetsw", &ProtocolsView::inetsw, "AF_INET's (type, protocol) -> proto, proto_ops entries")
        .member("inet_protos", &ProtocolsView::inet_protos, "IP protocol number -> its net_protocol (the receive side)")
        .member("proto_list", &ProtocolsView::proto_list, "each registered proto and how many socks use it (/proc/net/protocols)")
        .repr({"net_families", "inet_protos"});
}

}  // namespace gk
