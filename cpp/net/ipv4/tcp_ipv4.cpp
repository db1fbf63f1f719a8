// Models net/ipv4/tcp_ipv4.c (v6.1): connect (tcp_v4_connect: route, source address, ephemeral
// port by inet_hash_connect, initial sequence number, then tcp_connect), the receive entry
// tcp_v4_rcv (checksum, the established and listening hashes, TIME_WAIT, half-open requests) and
// tcp_v4_do_rcv, the child of a completed handshake (tcp_v4_syn_recv_sock), resets for segments
// nobody owns (tcp_v4_send_reset), checksums, and the protocol's registration.
#include <cstring>

#include "glasskernel/linux.h"
#include "glasskernel/net/tcp.h"

namespace gk {

tcp_net* tcp_net_of(net* n) { return n->tcp.get(); }

// secure_tcp_seq: a keyed hash of the four-tuple plus a clock ticking every 64 ns, so that a new
// incarnation of a connection starts above the old one (RFC 6528). The key comes from the seed.
u32 secure_tcp_seq(net* n, u32 saddr, u32 daddr, u16 sport, u16 dport) {
    u64 x = (static_cast<u64>(saddr) << 32 | daddr) ^ (static_cast<u64>(sport) << 16 | dport) * 0x9E3779B97F4A7C15ULL ^ tcp_net_of(n)->isn_secret;
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    return static_cast<u32>(x) + static_cast<u32>(ktime_get() >> 6);
}

void tcp_v4_send_check(struct sock* sk, sk_buff* skb) {
    inet_sock* inet = inet_sk(sk);
    tcphdr* th = tcp_hdr(skb);
    unsigned len = skb->len;  // header and data: the transport header is at skb->data here
    th->check = 0;
    th->check = htons(csum_fold_buf(th, len, csum_tcpudp_nofold(inet->inet_saddr, inet->inet_daddr, len, IPPROTO_TCP)));
}

// ---- the established hash ----

void inet_hash_established(struct sock* sk) {
    inet_sock* inet = inet_sk(sk);
    auto& eh = tcp_net_of(sock_net(sk))->hashinfo.ehash;
    auto [it, inserted] = eh.emplace(std::make_tuple(inet->inet_rcv_saddr, inet->inet_num, inet->inet_daddr, inet->inet_dport), inet);
    if (inserted) sock_hold(sk);
}

void inet_unhash_established(struct sock* sk) {
    inet_sock* inet = inet_sk(sk);
    auto& eh = tcp_net_of(sock_net(sk))->hashinfo.ehash;
    auto it = eh.find(std::make_tuple(inet->inet_rcv_saddr, inet->inet_num, inet->inet_daddr, inet->inet_dport));
    if (it != eh.end() && it->second == inet) {
        eh.erase(it);
        sock_put(sk);
    }
}

// inet_hash_connect: a local port for an outgoing connection. A bound socket keeps its port if
// the four-tuple is unused; otherwise ports are tried from a keyed offset, two apart (Linux
// leaves the odd ones to bind()), skipping ports bound by bind() and four-tuples in use.
static int inet_hash_connect(struct sock* sk) {
    trace_scope ts("inet_hash_connect");
    inet_sock* inet = inet_sk(sk);
    net* n = sock_net(sk);
    auto& eh = tcp_net_of(n)->hashinfo.ehash;
    auto taken = [&](u16 port) { return eh.count(std::make_tuple(inet->inet_rcv_saddr, port, inet->inet_daddr, inet->inet_dport)) > 0; };
    if (inet->inet_num) {
        if (taken(inet->inet_num)) return ts.ret(-EADDRNOTAVAIL);
        inet_hash_established(sk);
        return ts.ret(0);
    }
    int low = n->ip_local_port_range[0], high = n->ip_local_port_range[1];
    int remaining = high - low + 1;
    u32 offset = secure_tcp_seq(n, inet->inet_rcv_saddr, inet->inet_daddr, 0, inet->inet_dport) - static_cast<u32>(ktime_get() >> 6);
    offset = (offset % static_cast<u32>(remaining)) & ~1u;
    for (int pass = 0; pass < 2; pass++)
        for (int i = pass; i < remaining; i += 2) {
            u16 port = static_cast<u16>(low + (offset + static_cast<u32>(i)) % static_cast<u32>(remaining));
            bool bound_by_bind = false;
            auto r = n->tcp_bhash.equal_range(port);
            for (auto it = r.first; it != r.second; ++it)
                if (it->second->sk_userlocks & SOCK_BINDPORT_LOCK || it->second->sk_state == TCP_LISTEN) bound_by_bind = true;
            if (bound_by_bind || taken(port)) continue;
            inet_bind_hash(sk, port);
            sk->hashed = true;
            inet->inet_sport = port;
            inet_hash_established(sk);
            return ts.ret(0);
        }
    return ts.ret(-EADDRNOTAVAIL);
}

int tcp_v4_connect(struct sock* sk, struct sockaddr* uaddr, int addr_len) {
    trace_scope ts("tcp_v4_connect");
    auto* usin = reinterpret_cast<struct sockaddr_in*>(uaddr);
    inet_sock* inet = inet_sk(sk);
    tcp_sock* tp = tcp_sk(sk);
    net* n = sock_net(sk);
    if (addr_len < static_cast<int>(sizeof(struct sockaddr_in))) return ts.ret(-EINVAL);
    if (usin->sin_family != AF_INET) return ts.ret(-EAFNOSUPPORT);
    u32 daddr = ntohl(usin->sin_addr.s_addr);
    rtable rt;
    int err = ip_route_output(n, daddr, inet->inet_saddr, &rt);  // ip_route_connect
    if (err) return ts.ret(err);
    if (rt.rt_type == RTN_BROADCAST || rt.rt_type == RTN_UNREACHABLE) return ts.ret(-ENETUNREACH);
    if (!inet->inet_saddr) inet->inet_saddr = rt.src;
    inet->inet_rcv_saddr = inet->inet_saddr;
    inet->inet_dport = ntohs(usin->sin_port);
    inet->inet_daddr = rt.dst;
    tp->mss_clamp = TCP_MSS_DEFAULT;
    tcp_set_state(sk, TCP_SYN_SENT);
    err = inet_hash_connect(sk);
    if (err) goto failure;
    if (!tp->write_seq) tp->write_seq = secure_tcp_seq(n, inet->inet_saddr, inet->inet_daddr, inet->inet_sport, inet->inet_dport);
    err = tcp_connect(sk);
    if (err) goto failure;
    return ts.ret(0);
failure:
    tcp_set_state(sk, TCP_CLOSE);
    inet->inet_dport = 0;
    return ts.ret(err);
}

// ---- replies nobody's socket sends: resets and TIME_WAIT's ACKs ----

static void tcp_v4_send_reply(net* n, u32 saddr, u32 daddr, u16 sport, u16 dport, u32 seq, u32 ack, u8 flags, u16 win) {
    rtable rt;
    if (ip_route_output(n, daddr, saddr, &rt) || rt.rt_type == RTN_UNREACHABLE) return;
    sk_buff* skb = alloc_skb(MAX_TCP_HEADER);
    skb_reserve(skb, MAX_TCP_HEADER);
    tcphdr* th = reinterpret_cast<tcphdr*>(skb_push(skb, sizeof(tcphdr)));
    skb_reset_transport_header(skb);
    std::memset(th, 0, sizeof *th);
    th->source = htons(sport);
    th->dest = htons(dport);
    th->seq = htonl(seq);
    th->ack_seq = htonl(ack);
    th->doff_res = (sizeof(tcphdr) / 4) << 4;
    th->flags = flags;
    th->window = htons(win);
    th->check = htons(csum_fold_buf(th, sizeof *th, csum_tcpudp_nofold(saddr, daddr, sizeof *th, IPPROTO_TCP)));
    tcp_net_of(n)->mib.OutSegs++;
    ip_build_and_send(n, skb, saddr, daddr, IPPROTO_TCP, n->ip_default_ttl, &rt);
}

// A reset for a segment that belongs to no connection: it acknowledges the segment if the
// segment had no ACK, else takes the sequence number the segment acknowledged (RFC 793).
void tcp_v4_send_reset(const struct sock* sk, sk_buff* skb) {
    (void)sk;
    tcphdr* th = tcp_hdr(skb);
    if (th->flags & TCPHDR_RST) return;
    if (skb->rt_type != RTN_LOCAL && skb->pkt_type != PACKET_HOST) return;
    trace_scope ts("tcp_v4_send_reset");
    net* n = kernel_net(skb->dev->kernel);
    iphdr* iph = ip_hdr(skb);
    u32 seq = 0, ack = 0;
    u8 flags = TCPHDR_RST;
    if (th->flags & TCPHDR_ACK) {
        seq = ntohl(th->ack_seq);
    } else {
        flags |= TCPHDR_ACK;
        unsigned datalen = skb->len - (th->doff_res >> 4) * 4u;
        ack = ntohl(th->seq) + ((th->flags & TCPHDR_SYN) ? 1 : 0) + ((th->flags & TCPHDR_FIN) ? 1 : 0) + datalen;
    }
    tcp_v4_send_reply(n, ntohl(iph->daddr), ntohl(iph->saddr), ntohs(th->dest), ntohs(th->source), seq, ack, flags, 0);
    tcp_net_of(n)->mib.OutRsts++;
}

static void tcp_v4_timewait_ack(inet_timewait_sock* tw) {
    trace_scope ts("tcp_v4_timewait_ack");
    tcp_v4_send_reply(sock_net(tw), tw->inet_rcv_saddr, tw->inet_daddr, tw->inet_num, tw->inet_dport, tw->tw_snd_nxt, tw->tw_rcv_nxt,
                      TCPHDR_ACK, static_cast<u16>(std::min<u32>(tw->tw_rcv_wnd >> tw->tw_rcv_wscale, 65535)));
}

// ---- the child of a completed handshake ----

void tcp_synack_rtt_meas(tcp_sock* tp, long rtt_us);

struct sock* tcp_v4_syn_recv_sock(tcp_sock* listener, sk_buff* skb, request_sock* req) {
    trace_scope ts("tcp_v4_syn_recv_sock");
    net* n = sock_net(listener);
    if (listener->sk_ack_backlog > listener->sk_max_ack_backlog) {  // sk_acceptq_is_full
        tcp_net_of(n)->mib.ListenOverflows++;
        tcp_net_of(n)->mib.ListenDrops++;
        return nullptr;
    }
    struct sock* newsk = sk_alloc(n, AF_INET, &tcp_prot, 0);  // sk_clone_lock of the listener
    tcp_sock* newtp = tcp_sk(newsk);
    sock_init_data(nullptr, newsk);
    newsk->sk_type = SOCK_STREAM;
    newsk->sk_protocol = IPPROTO_TCP;
    tcp_init_sock(newsk);
    // What the listener's options give the child.
    newsk->sk_reuse = listener->sk_reuse;
    newsk->sk_reuseport = listener->sk_reuseport;
    newsk->sk_keepopen = listener->sk_keepopen;
    newsk->sk_rcvbuf = listener->sk_rcvbuf;
    newsk->sk_sndbuf = listener->sk_sndbuf;
    newsk->sk_rcvtimeo = listener->sk_rcvtimeo;
    newsk->sk_sndtimeo = listener->sk_sndtimeo;
    newsk->sk_linger = listener->sk_linger;
    newsk->sk_userlocks = listener->sk_userlocks;
    newsk->sk_lingertime = listener->sk_lingertime;
    newsk->uid = listener->uid;
    newtp->nonagle = listener->nonagle;
    newtp->user_mss = listener->user_mss;
    newtp->keepalive_time = listener->keepalive_time;
    newtp->keepalive_intvl = listener->keepalive_intvl;
    newtp->keepalive_probes = listener->keepalive_probes;
    newtp->linger2 = listener->linger2;
    newtp->icsk_ca_ops = listener->icsk_ca_ops;
    newtp->uc_ttl = listener->uc_ttl;
    newtp->tos = listener->tos;
    // tcp_create_openreq_child: the connection's state from the request.
    newtp->inet_daddr = req->ir_rmt_addr;
    newtp->inet_rcv_saddr = newtp->inet_saddr = req->ir_loc_addr;
    newtp->inet_dport = req->ir_rmt_port;
    newtp->inet_sport = req->ir_num;
    tcp_set_state(newsk, TCP_SYN_RECV);
    newtp->rcv_nxt = req->rcv_isn + 1;
    newtp->rcv_wup = newtp->copied_seq = newtp->rcv_nxt;
    newtp->snd_sml = newtp->snd_una = newtp->snd_nxt = req->snt_isn + 1;
    newtp->write_seq = newtp->pushed_seq = req->snt_isn + 1;
    newtp->wscale_ok = req->wscale_ok;
    newtp->snd_wscale = req->wscale_ok ? req->snd_wscale : 0;
    newtp->rcv_wscale = req->wscale_ok ? req->rcv_wscale : 0;
    newtp->snd_wnd = static_cast<u32>(ntohs(tcp_hdr(skb)->window)) << newtp->snd_wscale;
    newtp->snd_wl1 = req->rcv_isn;
    newtp->max_window = newtp->snd_wnd;
    newtp->rcv_wnd = req->rsk_rcv_wnd;
    newtp->rcv_ssthresh = req->rsk_rcv_wnd;
    rtable rt;
    ip_route_output(n, req->ir_rmt_addr, req->ir_loc_addr, &rt);
    u32 mtu = rt.dev ? rt.dev->mtu : 1500;
    newtp->advmss = ipv4_default_advmss(mtu);
    if (newtp->user_mss && newtp->user_mss < newtp->advmss) newtp->advmss = newtp->user_mss;
    newtp->mss_clamp = req->mss;
    tcp_sync_mss(newsk, mtu);
    newtp->icsk_ack.rcv_mss = std::min<u32>(newtp->advmss, TCP_MSS_DEFAULT);
    newtp->window_clamp = std::min<u32>(65535u << newtp->rcv_wscale, static_cast<u32>(newsk->sk_rcvbuf));
    // tcp_synack_rtt_meas: the first RTT sample, unless the SYN-ACK had to be sent again.
    if (req->snt_synack && !req->num_retrans) tcp_synack_rtt_meas(newtp, static_cast<long>((ktime_get() - req->snt_synack) / 1000));
    tcp_init_congestion_control(newsk);
    inet_bind_hash(newsk, req->ir_num);  // __inet_inherit_port
    newsk->hashed = true;
    inet_hash_established(newsk);
    tcp_net_of(n)->mib.PassiveOpens++;
    return newsk;
}

// ---- receiving ----

int tcp_v4_do_rcv(struct sock* sk, sk_buff* skb) {
    trace_scope ts("tcp_v4_do_rcv", "state=%s", tcp_state_names[sk->sk_state]);
    if (sk->sk_state == TCP_ESTABLISHED) {
        tcp_rcv_established(sk, skb);
        return ts.ret(0);
    }
    if (tcp_rcv_state_process(sk, skb)) {
        tcp_v4_send_reset(sk, skb);
        kfree_skb_reason(skb, "TCP_RESET");
    }
    return ts.ret(0);
}

// The listener for a segment: an exact local address wins over INADDR_ANY (compute_score).
static tcp_sock* inet_lookup_listener(net* n, u32 daddr, u16 dport) {
    auto& lh = tcp_net_of(n)->hashinfo.lhash;
    tcp_sock* best = nullptr;
    auto r = lh.equal_range(dport);
    for (auto it = r.first; it != r.second; ++it) {
        u32 a = it->second->inet_rcv_saddr;
        if (a == daddr) return it->second;
        if (!a && !best) best = it->second;
    }
    return best;
}

static request_sock* inet_reqsk_lookup(tcp_sock* listener, u32 saddr, u16 sport, u32 daddr) {
    for (auto& req : listener->syn_queue)
        if (req->ir_rmt_addr == saddr && req->ir_rmt_port == sport && req->ir_loc_addr == daddr && !req->sk) return req.get();
    return nullptr;
}

int tcp_v4_rcv(sk_buff* skb) {
    trace_scope ts("tcp_v4_rcv", "len=%u", skb->len);
    net* n = kernel_net(skb->dev->kernel);
    tcp_net* tn = tcp_net_of(n);
    tn->mib.InSegs++;
    if (skb->len < sizeof(tcphdr)) {
        tn->mib.InErrs++;
        kfree_skb_reason(skb, "PKT_TOO_SMALL");
        return ts.ret(0);
    }
    tcphdr* th = tcp_hdr(skb);
    unsigned doff = (th->doff_res >> 4) * 4u;
    iphdr* iph = ip_hdr(skb);
    u32 saddr = ntohl(iph->saddr), daddr = ntohl(iph->daddr);
    if (doff < sizeof(tcphdr) || doff > skb->len) {
        tn->mib.InErrs++;
        kfree_skb_reason(skb, "TCP_HDR");
        return ts.ret(0);
    }
    if (csum_fold_buf(th, skb->len, csum_tcpudp_nofold(saddr, daddr, skb->len, IPPROTO_TCP)) != 0) {
        tn->mib.InCsumErrors++;
        tn->mib.InErrs++;
        kfree_skb_reason(skb, "TCP_CSUM");
        return ts.ret(0);
    }
    // tcp_v4_fill_cb
    tcp_skb_cb* tcb = TCP_SKB_CB(skb);
    std::memset(tcb, 0, sizeof *tcb);
    tcb->seq = ntohl(th->seq);
    tcb->end_seq = tcb->seq + ((th->flags & TCPHDR_SYN) ? 1 : 0) + ((th->flags & TCPHDR_FIN) ? 1 : 0) + skb->len - doff;
    tcb->ack_seq = ntohl(th->ack_seq);
    tcb->tcp_flags = th->flags;
    u16 sport = ntohs(th->source), dport = ntohs(th->dest);
    // __inet_lookup_skb: the connection first, then a listener.
    auto& eh = tn->hashinfo.ehash;
    auto it = eh.find(std::make_tuple(daddr, dport, saddr, sport));
    if (it == eh.end()) it = eh.find(std::make_tuple(0u, dport, saddr, sport));
    if (it != eh.end()) {
        inet_sock* sk = it->second;
        if (sk->sk_state == TCP_TIME_WAIT) {
            inet_timewait_sock* tw = inet_twsk(sk);
            switch (tcp_timewait_state_process(tw, skb)) {
            case 1: {  // TCP_TW_SYN: a new connection may take over from TIME_WAIT
                tcp_sock* l = inet_lookup_listener(n, daddr, dport);
                if (l) {
                    inet_twsk_kill(tw);
                    int r = tcp_v4_do_rcv(l, skb);
                    return ts.ret(r);
                }
                tcp_v4_timewait_ack(tw);
                break;
            }
            case 2: tcp_v4_timewait_ack(tw); break;  // TCP_TW_ACK
            case 3:                                   // TCP_TW_RST
                tcp_v4_send_reset(nullptr, skb);
                inet_twsk_kill(tw);
                break;
            default: break;
            }
            consume_skb(skb);
            return ts.ret(0);
        }
        struct sock* ssk = sk;
        sock_hold(ssk);
        if (!sock_owned_by_user(ssk)) {
            tcp_v4_do_rcv(ssk, skb);
        } else if (!sk_add_backlog(ssk, skb, static_cast<unsigned>(ssk->sk_rcvbuf + ssk->sk_sndbuf))) {
            kfree_skb_reason(skb, "SOCKET_BACKLOG");  // tcp_add_backlog: TCPBacklogDrop
        }
        sock_put(ssk);
        return ts.ret(0);
    }
    tcp_sock* listener = inet_lookup_listener(n, daddr, dport);
    if (listener) {
        request_sock* req = inet_reqsk_lookup(listener, saddr, sport, daddr);
        sock_hold(listener);
        if (req) {
            struct sock* child = tcp_check_req(listener, skb, req);
            if (child == listener) {
                tcp_v4_do_rcv(listener, skb);  // a bad ACK: the listener answers with a reset
            } else if (child) {
                tcp_child_process(listener, child, skb);
            } else {
                kfree_skb_reason(skb, "TCP_REQ");
            }
        } else {
            tcp_v4_do_rcv(listener, skb);
        }
        sock_put(listener);
        return ts.ret(0);
    }
    // no_tcp_socket
    tcp_v4_send_reset(nullptr, skb);
    kfree_skb_reason(skb, "NO_SOCKET");
    return ts.ret(0);
}

static int tcp_v4_err(sk_buff* skb, u32 info);

const net_protocol tcp_protocol = {.name = "tcp", .handler = tcp_v4_rcv, .err_handler = tcp_v4_err};

// ICMP about a segment we sent: a connection still being set up gives up with the error
// (ECONNREFUSED, EHOSTUNREACH); an established one notes it as a soft error.
static int tcp_v4_err(sk_buff* skb, u32 info) {
    trace_scope ts("tcp_v4_err");
    (void)info;
    // skb->data is at the quoted IP header of our segment; its transport header follows.
    net* n = kernel_net(skb->dev->kernel);
    icmphdr* icmph = icmp_hdr(skb);
    const iphdr* iph = reinterpret_cast<const iphdr*>(skb->data_ptr());
    unsigned ihl = (iph->ihl_version & 0xf) * 4u;
    if (skb->len < ihl + 8) return ts.ret(0);
    const tcphdr* th = reinterpret_cast<const tcphdr*>(skb->data_ptr() + ihl);
    auto& eh = tcp_net_of(n)->hashinfo.ehash;
    auto it = eh.find(std::make_tuple(ntohl(iph->saddr), ntohs(th->source), ntohl(iph->daddr), ntohs(th->dest)));
    if (it == eh.end() || !sk_is_tcp(it->second)) return ts.ret(0);
    struct sock* sk = it->second;
    int err = 0;
    if (icmph->type == ICMP_DEST_UNREACH) {
        switch (icmph->code) {
        case ICMP_NET_UNREACH: err = ENETUNREACH; break;
        case ICMP_HOST_UNREACH: err = EHOSTUNREACH; break;
        case ICMP_PROT_UNREACH: err = ENOPROTOOPT; break;
        case ICMP_PORT_UNREACH: err = ECONNREFUSED; break;
        case ICMP_FRAG_NEEDED: return ts.ret(0);  // path MTU: not modeled
        default: err = EHOSTUNREACH; break;
        }
    } else if (icmph->type == ICMP_TIME_EXCEEDED) {
        err = EHOSTUNREACH;
    } else {
        return ts.ret(0);
    }
    if (sk->sk_state == TCP_SYN_SENT || sk->sk_state == TCP_SYN_RECV) {
        sk->sk_err = err;
        sk->sk_error_report(sk);
        tcp_done(sk);
    }
    return ts.ret(0);
}

}  // namespace gk
