// The simulator's Python binding. Views of the network stack's objects: net_device (live) and
// snapshots of what comes and goes (sk_buff, sock, socket, routes, neighbours, eventpoll), each
// a class whose attributes carry Linux's field names.
#include "bindings/net_views.h"

#include "glasskernel/eventpoll.h"
#include "glasskernel/net/tcp.h"

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

// A TCP segment on a queue: its sequence range, flags and bytes.
static py::tuple tcp_skb_tuple(sk_buff& skb) {
    tcp_skb_cb* c = TCP_SKB_CB(&skb);
    std::string flags;
    static const std::pair<u8, const char*> names[] = {{TCPHDR_SYN, "S"}, {TCPHDR_FIN, "F"}, {TCPHDR_RST, "R"}, {TCPHDR_PSH, "P"}, {TCPHDR_ACK, "."}};
    for (auto& [bit, n] : names)
        if (c->tcp_flags & bit) flags += n;
    std::string marks = std::string(c->sacked & TCPCB_LOST ? "lost " : "") + (c->sacked & TCPCB_RETRANS ? "retrans" : "");
    return py::make_tuple(c->seq, c->end_seq, skb.len, flags, marks);
}

static py::object tcp_view(sock* sk) {
    auto* tp = dynamic_cast<tcp_sock*>(sk);
    if (!tp) return py::none();
    Kernel* k = sock_net(sk)->kernel;
    double jiffy_ms = 1000.0 / k->cfg.hz;
    static const char* const ca_states[] = {"Open", "Disorder", "CWR", "Recovery", "Loss"};
    TcpSockView v{tcp_state_names[sk->sk_state], tp->snd_una, tp->snd_nxt, tp->snd_wnd, tp->write_seq, tp->rcv_nxt, tp->rcv_wnd,
                  tp->copied_seq, tp->rcv_wup, tp->snd_cwnd, tp->snd_ssthresh, tp->srtt_us >> 3, tp->rttvar_us, tp->mss_cache,
                  tp->advmss, tp->icsk_rto * jiffy_ms, tp->icsk_ack.ato * jiffy_ms, tp->packets_out, tp->retrans_out,
                  tp->lost_out, tp->dupacks, tp->total_retrans, tp->snd_wscale, tp->rcv_wscale, tp->icsk_retransmits,
                  tp->icsk_backoff, tp->icsk_probes_out, ca_states[tp->icsk_ca_state],
                  tp->icsk_ca_ops ? tp->icsk_ca_ops->name : "", tp->nonagle, sk->sk_max_ack_backlog, (tp->icsk_ack.pending & ICSK_ACK_TIMER) != 0,
                  tp->icsk_ack.quick > 0 && !tp->icsk_ack.pingpong, tp->icsk_ack.pingpong, sk->sk_lock_owned,
                  tp->bytes_acked, tp->bytes_received, tp->segs_in, tp->segs_out, tp->data_segs_in, tp->data_segs_out,
                  py::list(), py::list(), py::list(), py::list(), py::list(), py::list(), py::list()};
    for (sk_buff& s : sk->sk_write_queue.q) v.write_queue.append(tcp_skb_tuple(s));
    for (sk_buff& s : tp->tcp_rtx_queue.q) v.rtx_queue.append(tcp_skb_tuple(s));
    for (sk_buff& s : tp->out_of_order_queue.q) v.out_of_order_queue.append(tcp_skb_tuple(s));
    for (sk_buff& s : sk->sk_backlog.q) v.backlog.append(tcp_skb_tuple(s));
    auto timer = [&](const char* name, const timer_list& t) {
        if (timer_pending(&t)) v.timers.append(py::make_tuple(name, (static_cast<long>(t.expires) - static_cast<long>(k->jiffies)) * jiffy_ms));
    };
    timer(tp->icsk_pending == ICSK_TIME_PROBE0 ? "probe0" : "retransmit", tp->icsk_retransmit_timer);
    timer("delack", tp->icsk_delack_timer);
    timer(sk->sk_state == TCP_LISTEN ? "listen" : "keepalive", tp->sk_timer);
    for (auto& r : tp->syn_queue)
        if (!r->sk) v.syn_queue.append(py::make_tuple(ip_str(r->ir_rmt_addr), r->ir_rmt_port, r->num_retrans));
    for (request_sock* r : tp->accept_queue) v.accept_queue.append(py::make_tuple(ip_str(r->ir_rmt_addr), r->ir_rmt_port));
    return py::cast(v);
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
    v.state_name = sk->sk_state > 0 && sk->sk_state < TCP_MAX_STATES ? tcp_state_names[sk->sk_state] : "?";
    v.tcp = tcp_view(sk);
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

    view_class<TcpSockView>(m, "TcpSock", "struct tcp_sock as it was when read: sequence numbers, windows, congestion state, queues and timers (include/linux/tcp.h).")
        .member("state", &TcpSockView::state)
        .member("snd_una", &TcpSockView::snd_una, "first byte not yet acknowledged")
        .member("snd_nxt", &TcpSockView::snd_nxt, "next sequence number to send")
        .member("snd_wnd", &TcpSockView::snd_wnd, "the peer's receive window, in bytes")
        .member("write_seq", &TcpSockView::write_seq, "sequence number after the last byte the application wrote")
        .member("rcv_nxt", &TcpSockView::rcv_nxt, "next sequence number expected")
        .member("rcv_wnd", &TcpSockView::rcv_wnd, "the window last advertised")
        .member("copied_seq", &TcpSockView::copied_seq, "what the application has read up to")
        .member("rcv_wup", &TcpSockView::rcv_wup, "rcv_nxt when the window was last advertised")
        .member("snd_cwnd", &TcpSockView::snd_cwnd, "congestion window, in segments")
        .member("snd_ssthresh", &TcpSockView::snd_ssthresh, "slow-start threshold, in segments")
        .member("srtt_us", &TcpSockView::srtt_us, "smoothed round-trip time")
        .member("rttvar_us", &TcpSockView::rttvar_us)
        .member("rto_ms", &TcpSockView::rto_ms, "retransmission timeout (icsk_rto)")
        .member("ato_ms", &TcpSockView::ato_ms, "delayed-ACK timeout (icsk_ack.ato)")
        .member("mss_cache", &TcpSockView::mss_cache, "current MSS")
        .member("advmss", &TcpSockView::advmss, "the MSS we advertised")
        .member("packets_out", &TcpSockView::packets_out, "segments sent and not acknowledged")
        .member("retrans_out", &TcpSockView::retrans_out)
        .member("lost_out", &TcpSockView::lost_out)
        .member("dupacks", &TcpSockView::dupacks, "duplicate ACKs in a row")
        .member("total_retrans", &TcpSockView::total_retrans)
        .member("snd_wscale", &TcpSockView::snd_wscale)
        .member("rcv_wscale", &TcpSockView::rcv_wscale)
        .member("retransmits", &TcpSockView::retransmits, "icsk_retransmits: RTOs in a row")
        .member("backoff", &TcpSockView::backoff, "icsk_backoff")
        .member("probes_out", &TcpSockView::probes_out)
        .member("ca_state", &TcpSockView::ca_state, "icsk_ca_state: Open, Disorder, CWR, Recovery, Loss")
        .member("congestion_control", &TcpSockView::congestion_control, "cubic or reno")
        .member("nonagle", &TcpSockView::nonagle, "TCP_NAGLE_OFF 1 (TCP_NODELAY), TCP_NAGLE_CORK 2, TCP_NAGLE_PUSH 4")
        .member("max_ack_backlog", &TcpSockView::max_ack_backlog, "listener: listen()'s backlog (sk_max_ack_backlog)")
        .member("delayed_ack_pending", &TcpSockView::delayed_ack_pending)
        .member("quickack", &TcpSockView::quickack)
        .member("pingpong", &TcpSockView::pingpong)
        .member("owned_by_user", &TcpSockView::owned_by_user, "a process holds the socket lock")
        .member("bytes_acked", &TcpSockView::bytes_acked)
        .member("bytes_received", &TcpSockView::bytes_received)
        .member("segs_in", &TcpSockView::segs_in)
        .member("segs_out", &TcpSockView::segs_out)
        .member("data_segs_in", &TcpSockView::data_segs_in)
        .member("data_segs_out", &TcpSockView::data_segs_out)
        .member("write_queue", &TcpSockView::write_queue, "(seq, end_seq, len, flags, marks) of each segment not yet sent")
        .member("rtx_queue", &TcpSockView::rtx_queue, "(seq, end_seq, len, flags, marks) of each segment sent and not acknowledged")
        .member("out_of_order_queue", &TcpSockView::out_of_order_queue, "segments received ahead of rcv_nxt")
        .member("backlog", &TcpSockView::backlog, "segments that arrived while a process held the socket")
        .member("timers", &TcpSockView::timers, "(timer, ms until it fires) of each pending timer")
        .member("syn_queue", &TcpSockView::syn_queue, "listener: (address, port, SYN-ACK retransmits) of half-open connections")
        .member("accept_queue", &TcpSockView::accept_queue, "listener: (address, port) of connections waiting for accept()")
        .repr({"state", "snd_una", "snd_nxt", "rcv_nxt", "snd_cwnd"});

    view_class<SockView>(m, "Sock", "A struct sock as it was when read: addresses, state, refcount, buffers, queue, sleepers.")
        .member("id", &SockView::id)
        .member("family", &SockView::family)
        .member("type", &SockView::type)
        .member("protocol", &SockView::protocol)
        .member("prot", &SockView::prot, "sk->sk_prot's name: UDP, RAW, ...")
        .member("state", &SockView::state, "sk_state (TCP_ESTABLISHED 1 for a connected UDP sock, TCP_CLOSE 7)")
        .member("state_name", &SockView::state_name, "sk_state by name: ESTABLISHED, LISTEN, TIME_WAIT, ...")
        .member("tcp", &SockView::tcp, "a TCP sock's tcp_sock (TcpSock), else None")
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
        .repr({"id", "prot", "state_name", "local", "remote", "refcnt"});

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
