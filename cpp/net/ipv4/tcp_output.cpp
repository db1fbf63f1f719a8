// Models net/ipv4/tcp_output.c (v6.1): the sending half of TCP. tcp_write_xmit sends what the
// congestion window, the peer's receive window and Nagle allow; tcp_transmit_skb puts the TCP
// header (and, on a SYN, the MSS and window-scale options) on a clone of each segment and hands
// it to ip_queue_xmit, keeping the original for retransmission; the window we advertise comes
// from __tcp_select_window; SYN, SYN-ACK, ACK (immediate or delayed), FIN and RST segments are
// built here. (No TSO, SACK or timestamps: every segment is one MSS at most.)
#include <cstring>

#include "glasskernel/linux.h"
#include "glasskernel/net/tcp.h"

namespace gk {

constexpr u32 MAX_TCP_WINDOW = 65535;

static unsigned tcp_win_from_space(int space) { return static_cast<unsigned>(std::max(space, 0) - (std::max(space, 0) >> 1)); }  // tcp_adv_win_scale 1
static int tcp_space(const struct sock* sk) { return static_cast<int>(tcp_win_from_space(sk->sk_rcvbuf - sk->sk_rmem_alloc)); }
static int tcp_full_space(const struct sock* sk) { return static_cast<int>(tcp_win_from_space(sk->sk_rcvbuf)); }

// No segment larger than half the largest window the peer has offered (tcp_bound_to_half_wnd):
// a window must hold at least two of them.
static u32 tcp_bound_to_half_wnd(const tcp_sock* tp, u32 pktsize) {
    u32 cutoff = tp->max_window > TCP_MSS_DEFAULT ? tp->max_window >> 1 : tp->max_window;
    if (cutoff && pktsize > cutoff) return std::max<u32>(cutoff, 68 - sizeof(tcphdr));
    return pktsize;
}

// The MSS for a path MTU: 40 bytes of IP and TCP header off, no more than the peer offered.
u32 tcp_sync_mss(struct sock* sk, u32 pmtu) {
    tcp_sock* tp = tcp_sk(sk);
    u32 mss = ipv4_default_advmss(pmtu);
    if (tp->mss_clamp && mss > tp->mss_clamp) mss = tp->mss_clamp;
    if (mss < 48) mss = 48;
    mss = tcp_bound_to_half_wnd(tp, mss);
    tp->mss_cache = mss;
    return mss;
}

u32 tcp_current_mss(struct sock* sk) { return tcp_sk(sk)->mss_cache; }

// The first window and the scale to advertise it with (tcp_select_initial_window): the window
// starts at ten segments' worth, the scale is what the largest receive buffer would need.
void tcp_select_initial_window(struct sock* sk, u32 space, u32 mss, u32* rcv_wnd, u32* window_clamp, bool wscale_ok, u8* rcv_wscale) {
    tcp_net* tn = tcp_net_of(sock_net(sk));
    if (*window_clamp == 0) *window_clamp = (MAX_TCP_WINDOW << TCP_MAX_WSCALE);
    space = std::min(*window_clamp, space);
    if (space > mss) space = space / mss * mss;
    *rcv_wnd = wscale_ok ? space : std::min<u32>(space, MAX_TCP_WINDOW);
    *rcv_wscale = 0;
    if (wscale_ok) {
        u32 s = std::max<u32>(static_cast<u32>(tn->tcp_rmem[2]), static_cast<u32>(sock_net(sk)->rmem_max));
        s = std::min<u32>(s, *window_clamp);
        while (s > MAX_TCP_WINDOW && *rcv_wscale < TCP_MAX_WSCALE) {
            s >>= 1;
            (*rcv_wscale)++;
        }
    }
    // The initial window: ten segments (TCP_INIT_CWND), rounded to the MSS.
    u32 init_rcv_wnd = TCP_INIT_CWND * mss;
    if (*rcv_wnd > init_rcv_wnd) *rcv_wnd = init_rcv_wnd;
    *window_clamp = std::min<u32>(MAX_TCP_WINDOW << *rcv_wscale, *window_clamp);
}

// What the receive buffer has room for now, as a window (__tcp_select_window).
u32 __tcp_select_window(struct sock* sk) {
    tcp_sock* tp = tcp_sk(sk);
    u32 mss = tp->icsk_ack.rcv_mss;
    int free_space = tcp_space(sk);
    int full_space = std::min<int>(static_cast<int>(tp->window_clamp), tcp_full_space(sk));
    if (static_cast<int>(mss) > full_space) mss = static_cast<u32>(std::max(full_space, 1));
    if (free_space < full_space / 2) {
        tp->icsk_ack.quick = 0;  // memory pressure: stop quick-acking
        if (free_space < static_cast<int>(mss)) return 0;
    }
    if (free_space > static_cast<int>(tp->rcv_ssthresh)) free_space = static_cast<int>(tp->rcv_ssthresh);
    u32 window;
    if (tp->rcv_wscale) {
        window = static_cast<u32>(free_space);
        u32 align = 1u << tp->rcv_wscale;
        window = (window + align - 1) & ~(align - 1);  // so it is not scaled away
    } else {
        window = tp->rcv_wnd;
        if (window <= static_cast<u32>(free_space) - mss || window > static_cast<u32>(free_space))
            window = static_cast<u32>(free_space) / mss * mss;
        else if (mss == static_cast<u32>(full_space) && free_space > static_cast<int>(window + (full_space >> 1)))
            window = static_cast<u32>(free_space);
    }
    return window;
}

// The window field of a segment: never less than what was already offered (RFC 793 forbids
// shrinking it), scaled.
static u16 tcp_select_window(struct sock* sk) {
    tcp_sock* tp = tcp_sk(sk);
    u32 cur_win = tp->rcv_wup + tp->rcv_wnd - tp->rcv_nxt;
    if (static_cast<int32_t>(cur_win) < 0) cur_win = 0;
    u32 new_win = __tcp_select_window(sk);
    if (new_win < cur_win) {
        u32 align = 1u << tp->rcv_wscale;
        new_win = (cur_win + align - 1) & ~(align - 1);
    }
    tp->rcv_wnd = new_win;
    tp->rcv_wup = tp->rcv_nxt;
    new_win = std::min<u32>(new_win, MAX_TCP_WINDOW << tp->rcv_wscale);
    return static_cast<u16>(new_win >> tp->rcv_wscale);
}

// An ACK went out: no delayed ACK is due any more (tcp_event_ack_sent).
static void tcp_event_ack_sent(struct sock* sk) {
    tcp_sock* tp = tcp_sk(sk);
    if (tp->icsk_ack.quick) tp->icsk_ack.quick--;
    tp->icsk_ack.pending = 0;
    sk_stop_timer(sk, &tp->icsk_delack_timer);
}

// Put the header on and send: the original stays queued for retransmission, a clone (or a copy,
// if an earlier clone may still be on the wire) goes down the stack.
static int __tcp_transmit_skb(struct sock* sk, sk_buff* skb, bool clone_it) {
    tcp_sock* tp = tcp_sk(sk);
    inet_sock* inet = inet_sk(sk);
    tcp_skb_cb* tcb = TCP_SKB_CB(skb);
    trace_scope ts("__tcp_transmit_skb", "seq=%u len=%u flags=%#x", tcb->seq, skb->len, tcb->tcp_flags);
    if (clone_it) {
        tcb->when = ktime_get();
        sk_buff* oskb = skb;
        skb = oskb->head.use_count() > 1 ? skb_copy(oskb) : skb_clone(oskb);
        std::memcpy(skb->cb, oskb->cb, sizeof skb->cb);
    }
    tcb = TCP_SKB_CB(skb);
    bool syn = tcb->tcp_flags & TCPHDR_SYN;
    unsigned opts = syn ? (4 + (tp->wscale_ok ? 4 : 0)) : 0;
    unsigned hlen = sizeof(tcphdr) + opts;
    u8* p = skb_push(skb, hlen);
    skb_reset_transport_header(skb);
    skb_set_owner_w(skb, sk);
    tcphdr* th = reinterpret_cast<tcphdr*>(p);
    th->source = htons(inet->inet_sport);
    th->dest = htons(inet->inet_dport);
    th->seq = htonl(tcb->seq);
    th->ack_seq = htonl(tp->rcv_nxt);
    th->doff_res = static_cast<u8>((hlen / 4) << 4);
    th->flags = tcb->tcp_flags;
    th->urg_ptr = 0;
    // The window in a SYN is never scaled (RFC 7323).
    th->window = htons(syn ? static_cast<u16>(std::min<u32>(tp->rcv_wnd, MAX_TCP_WINDOW)) : tcp_select_window(sk));
    if (syn) {
        u8* o = p + sizeof(tcphdr);
        o[0] = TCPOPT_MSS;
        o[1] = 4;
        u16 mss = htons(static_cast<u16>(std::min<u32>(tp->advmss, 65535)));
        std::memcpy(o + 2, &mss, 2);
        if (tp->wscale_ok) {
            o[4] = TCPOPT_NOP;
            o[5] = TCPOPT_WINDOW;
            o[6] = 3;
            o[7] = tp->rcv_wscale;
        }
    }
    if (tcb->tcp_flags & TCPHDR_ACK) tcp_event_ack_sent(sk);
    if (skb->len != hlen) {
        tp->data_segs_out++;
        // tcp_event_data_sent: a reply within ATO of the last data received makes the exchange
        // interactive (ping-pong): our ACKs will ride on our replies.
        if (this_kernel->jiffies - tp->lrcvtime < tp->icsk_ack.ato) tp->icsk_ack.pingpong = true;
    }
    tp->segs_out++;
    tcp_net_of(sock_net(sk))->mib.OutSegs++;
    tcp_v4_send_check(sk, skb);
    int err = ip_queue_xmit(sk, skb);
    return ts.ret(err > 0 ? 0 : err);
}

int tcp_transmit_skb(struct sock* sk, sk_buff* skb, bool clone_it) {
    trace_scope ts("tcp_transmit_skb");
    return ts.ret(__tcp_transmit_skb(sk, skb, clone_it));
}

// A segment with no data: SYN, FIN, RST or a bare ACK (tcp_init_nondata_skb).
static void tcp_init_nondata_skb(sk_buff* skb, u32 seq, u8 flags) {
    tcp_skb_cb* tcb = TCP_SKB_CB(skb);
    tcb->tcp_flags = flags;
    tcb->seq = seq;
    tcb->end_seq = seq + ((flags & (TCPHDR_SYN | TCPHDR_FIN)) ? 1 : 0);
}

// The sequence number a bare ACK or RST may carry: snd_nxt, unless the peer shrank its window
// below it (tcp_acceptable_seq).
static u32 tcp_acceptable_seq(const tcp_sock* tp) {
    u32 wnd_end = tp->snd_una + tp->snd_wnd;
    if (!before(wnd_end, tp->snd_nxt)) return tp->snd_nxt;
    return wnd_end;
}

// The segment was sent for the first time: on to the retransmit queue (tcp_event_new_data_sent).
static void tcp_event_new_data_sent(struct sock* sk, sk_buff* skb) {
    tcp_sock* tp = tcp_sk(sk);
    u32 prior_packets = tp->packets_out;
    skb_unlink(skb, &sk->sk_write_queue);
    skb_queue_tail(&tp->tcp_rtx_queue, skb);
    tp->snd_nxt = TCP_SKB_CB(skb)->end_seq;
    tp->packets_out++;
    if (!prior_packets || tp->icsk_pending == ICSK_TIME_PROBE0) tcp_rearm_rto(sk);
}

// Nagle (RFC 896) with Minshall's change: a partial segment waits while an earlier partial one
// is unacknowledged, unless TCP_NODELAY (or a push) says otherwise; TCP_CORK holds any partial one.
static bool tcp_minshall_check(const tcp_sock* tp) { return after(tp->snd_sml, tp->snd_una) && !after(tp->snd_sml, tp->snd_nxt); }
static bool tcp_nagle_check(bool partial, const tcp_sock* tp, int nonagle) {
    return partial && ((nonagle & TCP_NAGLE_CORK) || (!nonagle && tp->packets_out && tcp_minshall_check(tp)));
}
static bool tcp_nagle_test(const tcp_sock* tp, sk_buff* skb, u32 cur_mss, int nonagle) {
    if (nonagle & TCP_NAGLE_PUSH) return true;
    if (TCP_SKB_CB(skb)->tcp_flags & TCPHDR_FIN) return true;
    return !tcp_nagle_check(skb->len < cur_mss, tp, nonagle);
}

// Room in the congestion window: how many more segments may be in flight (a lone FIN always may).
static u32 tcp_cwnd_test(const tcp_sock* tp, sk_buff* skb) {
    if ((TCP_SKB_CB(skb)->tcp_flags & TCPHDR_FIN) && skb->len == 0) return 1;
    u32 in_flight = tcp_packets_in_flight(tp), cwnd = tcp_snd_cwnd(tp);
    return in_flight < cwnd ? cwnd - in_flight : 0;
}

// The segment (its first MSS) fits the peer's receive window.
static bool tcp_snd_wnd_test(const tcp_sock* tp, sk_buff* skb, u32 cur_mss) {
    u32 end_seq = TCP_SKB_CB(skb)->end_seq;
    if (skb->len > cur_mss) end_seq = TCP_SKB_CB(skb)->seq + cur_mss;
    return !after(end_seq, tp->snd_una + tp->snd_wnd);
}

// Send what may be sent. True when nothing is in flight but something waits: the peer's window
// is closed, and only the zero-window probe timer will find out when it opens.
static bool tcp_write_xmit(struct sock* sk, u32 mss_now, int nonagle, bool push_one) {
    trace_scope ts("tcp_write_xmit", "mss=%u", mss_now);
    tcp_sock* tp = tcp_sk(sk);
    int sent_pkts = 0;
    while (!sk->sk_write_queue.q.empty()) {
        sk_buff* skb = &sk->sk_write_queue.q.front();  // tcp_send_head
        if (!tcp_cwnd_test(tp, skb)) break;
        if (!tcp_snd_wnd_test(tp, skb, mss_now)) break;
        bool last = &sk->sk_write_queue.q.back() == skb;
        if (!tcp_nagle_test(tp, skb, mss_now, last ? nonagle : TCP_NAGLE_PUSH)) break;
        if (tcp_transmit_skb(sk, skb, true)) break;
        tcp_event_new_data_sent(sk, skb);
        if (skb->len < mss_now) tp->snd_sml = TCP_SKB_CB(skb)->end_seq;  // tcp_minshall_update
        sent_pkts++;
        if (push_one) break;
    }
    if (sent_pkts) return ts.ret(false);
    return ts.ret(!tp->packets_out && !sk->sk_write_queue.q.empty());
}

static void tcp_check_probe_timer(struct sock* sk) {
    tcp_sock* tp = tcp_sk(sk);
    if (!tp->packets_out && !tp->icsk_pending)
        inet_csk_reset_xmit_timer(sk, ICSK_TIME_PROBE0, std::max<unsigned long>(tp->icsk_rto, TCP_RTO_MIN()));
}

void __tcp_push_pending_frames(struct sock* sk, u32 cur_mss, int nonagle) {
    if (sk->sk_state == TCP_CLOSE) return;
    if (tcp_write_xmit(sk, cur_mss, nonagle, false)) tcp_check_probe_timer(sk);
}

// The end of a write: mark it pushed (PSH) unless more is coming (MSG_MORE), and send.
void tcp_push(struct sock* sk, int flags, u32 mss_now, int nonagle) {
    trace_scope ts("tcp_push");
    tcp_sock* tp = tcp_sk(sk);
    if (sk->sk_write_queue.q.empty()) return;
    sk_buff* skb = &sk->sk_write_queue.q.back();
    if (!(flags & MSG_MORE) || after(tp->write_seq, tp->pushed_seq + (tp->max_window >> 1))) {
        TCP_SKB_CB(skb)->tcp_flags |= TCPHDR_PSH;  // tcp_mark_push
        tp->pushed_seq = tp->write_seq;
    }
    if (flags & MSG_MORE) nonagle = TCP_NAGLE_CORK;
    __tcp_push_pending_frames(sk, mss_now, nonagle);
}

// The handshake's first segment (tcp_connect, with tcp_connect_init): MSS and window from the
// route, the SYN on the retransmit queue, and the retransmit timer at the initial RTO.
int tcp_connect(struct sock* sk) {
    trace_scope ts("tcp_connect");
    tcp_sock* tp = tcp_sk(sk);
    tcp_net* tn = tcp_net_of(sock_net(sk));
    rtable rt;
    ip_route_output(sock_net(sk), inet_sk(sk)->inet_daddr, inet_sk(sk)->inet_saddr, &rt);
    u32 mtu = rt.dev ? rt.dev->mtu : 1500;
    tp->advmss = ipv4_default_advmss(mtu);
    if (tp->user_mss && tp->user_mss < tp->advmss) tp->advmss = tp->user_mss;
    tp->mss_clamp = static_cast<u16>(std::min<u32>(tp->advmss, 65535));
    tcp_sync_mss(sk, mtu);
    tp->icsk_ack.rcv_mss = std::min<u32>(tp->advmss, TCP_MSS_DEFAULT);
    tp->window_clamp = 0;
    tp->wscale_ok = tn->tcp_window_scaling;
    tcp_select_initial_window(sk, static_cast<u32>(tcp_full_space(sk)), tp->advmss, &tp->rcv_wnd, &tp->window_clamp,
                              tp->wscale_ok, &tp->rcv_wscale);
    tp->rcv_ssthresh = tp->rcv_wnd;
    sk->sk_err = 0;
    sk->sk_done = false;
    tp->snd_wnd = 0;
    tp->max_window = 0;
    tp->snd_una = tp->write_seq;
    tp->snd_sml = tp->write_seq;
    tp->snd_nxt = tp->write_seq;
    tp->rcv_nxt = 0;
    tp->rcv_wup = tp->rcv_nxt;
    tp->copied_seq = tp->rcv_nxt;
    tp->icsk_rto = static_cast<u32>(TCP_TIMEOUT_INIT());
    tp->icsk_retransmits = 0;
    sk_buff* buff = tcp_stream_alloc_skb(sk, 0);
    tcp_init_nondata_skb(buff, tp->write_seq++, TCPHDR_SYN);
    skb_queue_tail(&tp->tcp_rtx_queue, buff);  // tcp_connect_queue_skb
    sk->sk_wmem_queued += static_cast<int>(buff->truesize);
    tp->packets_out++;
    tp->first_tx_time = ktime_get();
    int err = tcp_transmit_skb(sk, buff, true);
    tp->snd_nxt = tp->write_seq;
    tp->pushed_seq = tp->write_seq;
    tn->mib.ActiveOpens++;
    inet_csk_reset_xmit_timer(sk, ICSK_TIME_RETRANS, tp->icsk_rto);
    return ts.ret(err == -ECONNREFUSED ? err : 0);
}

static sk_buff* tcp_alloc_nondata(struct sock* sk) { return tcp_stream_alloc_skb(sk, 0); }

void tcp_send_ack(struct sock* sk) {
    trace_scope ts("tcp_send_ack");
    if (sk->sk_state == TCP_CLOSE) return;
    sk_buff* buff = tcp_alloc_nondata(sk);
    tcp_init_nondata_skb(buff, tcp_acceptable_seq(tcp_sk(sk)), TCPHDR_ACK);
    tcp_transmit_skb(sk, buff, false);
}

// Acknowledge later: ATO from now, or now if the timer was due within a quarter of that anyway.
void tcp_send_delayed_ack(struct sock* sk) {
    trace_scope ts("tcp_send_delayed_ack");
    tcp_sock* tp = tcp_sk(sk);
    unsigned long ato = tp->icsk_ack.ato ? tp->icsk_ack.ato : TCP_DELACK_MIN();
    if (ato > TCP_DELACK_MIN()) {
        // A slow exchange: never hold the ACK longer than half a second (TCP_DELACK_MAX when the
        // peer is pushing or we are in ping-pong), nor longer than a round trip.
        unsigned long max_ato = static_cast<unsigned long>(this_kernel->cfg.hz) / 2;
        if (tp->icsk_ack.pingpong || (tp->icsk_ack.pending & ICSK_ACK_PUSHED)) max_ato = TCP_DELACK_MAX();
        if (tp->srtt_us) {
            unsigned long rtt = std::max<unsigned long>(
                (static_cast<u64>(tp->srtt_us >> 3) * static_cast<u64>(this_kernel->cfg.hz) + 999999) / 1000000, TCP_DELACK_MIN());
            if (rtt < max_ato) max_ato = rtt;
        }
        ato = std::min(ato, max_ato);
    }
    ato = std::min(ato, TCP_DELACK_MAX());  // icsk_delack_max
    unsigned long timeout = this_kernel->jiffies + ato;
    if (tp->icsk_ack.pending & ICSK_ACK_TIMER) {
        if (static_cast<long>(tp->icsk_ack.timeout - (this_kernel->jiffies + (ato >> 2))) <= 0) {
            tcp_send_ack(sk);
            return;
        }
        if (static_cast<long>(timeout - tp->icsk_ack.timeout) >= 0) timeout = tp->icsk_ack.timeout;
    }
    tp->icsk_ack.pending |= ICSK_ACK_SCHED | ICSK_ACK_TIMER;
    tp->icsk_ack.timeout = timeout;
    sk_reset_timer(sk, &tp->icsk_delack_timer, timeout);
}

// The FIN rides on the last unsent segment if there is one, else goes alone.
void tcp_send_fin(struct sock* sk) {
    trace_scope ts("tcp_send_fin");
    tcp_sock* tp = tcp_sk(sk);
    if (!sk->sk_write_queue.q.empty()) {
        sk_buff* tskb = &sk->sk_write_queue.q.back();
        TCP_SKB_CB(tskb)->tcp_flags |= TCPHDR_FIN;
        TCP_SKB_CB(tskb)->end_seq++;
        tp->write_seq++;
    } else {
        sk_buff* skb = tcp_stream_alloc_skb(sk, 0);
        tcp_init_nondata_skb(skb, tp->write_seq, TCPHDR_ACK | TCPHDR_FIN);
        skb_queue_tail(&sk->sk_write_queue, skb);  // tcp_queue_skb
        sk->sk_wmem_queued += static_cast<int>(skb->truesize);
        tp->write_seq++;
    }
    __tcp_push_pending_frames(sk, tcp_current_mss(sk), TCP_NAGLE_OFF);
}

void tcp_send_active_reset(struct sock* sk) {
    trace_scope ts("tcp_send_active_reset");
    sk_buff* skb = tcp_alloc_nondata(sk);
    tcp_init_nondata_skb(skb, tcp_acceptable_seq(tcp_sk(sk)), TCPHDR_ACK | TCPHDR_RST);
    tcp_transmit_skb(sk, skb, false);
    tcp_net_of(sock_net(sk))->mib.OutRsts++;
}

// The listener answers a SYN for a request sock (tcp_v4_send_synack with tcp_make_synack).
int tcp_send_synack(tcp_sock* listener, request_sock* req) {
    trace_scope ts("tcp_v4_send_synack");
    net* n = sock_net(listener);
    rtable rt;
    if (ip_route_output(n, req->ir_rmt_addr, req->ir_loc_addr, &rt) || rt.rt_type == RTN_UNREACHABLE) return ts.ret(-EHOSTUNREACH);
    unsigned opts = 4 + (req->wscale_ok ? 4 : 0);
    unsigned hlen = sizeof(tcphdr) + opts;
    sk_buff* skb = alloc_skb(MAX_TCP_HEADER);
    skb_reserve(skb, MAX_TCP_HEADER);
    u8* p = skb_push(skb, hlen);
    skb_reset_transport_header(skb);
    tcphdr* th = reinterpret_cast<tcphdr*>(p);
    th->source = htons(req->ir_num);
    th->dest = htons(req->ir_rmt_port);
    th->seq = htonl(req->snt_isn);
    th->ack_seq = htonl(req->rcv_isn + 1);
    th->doff_res = static_cast<u8>((hlen / 4) << 4);
    th->flags = TCPHDR_SYN | TCPHDR_ACK;
    th->window = htons(static_cast<u16>(std::min<u32>(req->rsk_rcv_wnd, MAX_TCP_WINDOW)));
    th->check = 0;
    th->urg_ptr = 0;
    u8* o = p + sizeof(tcphdr);
    o[0] = TCPOPT_MSS;
    o[1] = 4;
    u16 mss = htons(static_cast<u16>(ipv4_default_advmss(rt.dev->mtu)));
    std::memcpy(o + 2, &mss, 2);
    if (req->wscale_ok) {
        o[4] = TCPOPT_NOP;
        o[5] = TCPOPT_WINDOW;
        o[6] = 3;
        o[7] = req->rcv_wscale;
    }
    u16 c = csum_fold_buf(th, hlen, csum_tcpudp_nofold(req->ir_loc_addr, req->ir_rmt_addr, hlen, IPPROTO_TCP));
    th->check = htons(c);
    if (!req->snt_synack) req->snt_synack = ktime_get();
    tcp_net_of(n)->mib.OutSegs++;
    int ttl = n->ip_default_ttl;
    skb->dev = rt.dev;
    skb->rt_gateway = rt.gateway;
    skb->rt_type = static_cast<u8>(rt.rt_type);
    // ip_build_and_send_pkt: DF set, as on every TCP segment.
    return ts.ret(ip_build_and_send(n, skb, req->ir_loc_addr, req->ir_rmt_addr, IPPROTO_TCP, ttl, &rt));
}

// Send a queued segment again (__tcp_retransmit_skb): its acknowledged head is trimmed first.
int tcp_retransmit_skb(struct sock* sk, sk_buff* skb) {
    tcp_sock* tp = tcp_sk(sk);
    tcp_skb_cb* tcb = TCP_SKB_CB(skb);
    trace_scope ts("tcp_retransmit_skb", "seq=%u len=%u", tcb->seq, skb->len);
    if (before(tcb->seq, tp->snd_una)) {
        u32 acked = tp->snd_una - tcb->seq;
        if (tcb->tcp_flags & TCPHDR_SYN) {
            tcb->tcp_flags &= static_cast<u8>(~TCPHDR_SYN);
            tcb->seq++;
            acked--;
        }
        if (acked && acked <= skb->len) skb_pull(skb, acked);  // tcp_trim_head
        tcb->seq = tp->snd_una;
    }
    int err = tcp_transmit_skb(sk, skb, true);
    if (err) return ts.ret(err);
    if (!(tcb->sacked & TCPCB_RETRANS)) tp->retrans_out++;
    tcb->sacked |= TCPCB_RETRANS | TCPCB_EVER_RETRANS;
    tp->total_retrans++;
    tcp_net_of(sock_net(sk))->mib.RetransSegs++;
    return ts.ret(0);
}

// Retransmit the segments marked lost, as far as the congestion window allows.
void tcp_xmit_retransmit_queue(struct sock* sk) {
    trace_scope ts("tcp_xmit_retransmit_queue");
    tcp_sock* tp = tcp_sk(sk);
    for (sk_buff& skb : tp->tcp_rtx_queue.q) {
        if (tcp_packets_in_flight(tp) >= tcp_snd_cwnd(tp)) break;
        u8 sacked = TCP_SKB_CB(&skb)->sacked;
        if (!(sacked & TCPCB_LOST) || (sacked & TCPCB_RETRANS)) continue;
        if (tcp_retransmit_skb(sk, &skb)) break;
        if (&skb == &tp->tcp_rtx_queue.q.front()) tcp_rearm_rto(sk);
    }
}

// A zero-window probe: the first unsent segment if the window now allows it, else an ACK with
// an old sequence number, which the peer must answer with its current window (tcp_write_wakeup).
void tcp_send_probe0(struct sock* sk) {
    trace_scope ts("tcp_send_probe0");
    tcp_sock* tp = tcp_sk(sk);
    if (!sk->sk_write_queue.q.empty() && tcp_snd_wnd_test(tp, &sk->sk_write_queue.q.front(), tcp_current_mss(sk))) {
        tcp_write_xmit(sk, tcp_current_mss(sk), TCP_NAGLE_PUSH, true);
    } else {
        tcp_send_window_probe(sk);
    }
}

void tcp_send_window_probe(struct sock* sk) {
    tcp_sock* tp = tcp_sk(sk);
    sk_buff* skb = tcp_alloc_nondata(sk);
    tcp_init_nondata_skb(skb, tp->snd_una - 1, TCPHDR_ACK);  // tcp_xmit_probe_skb(sk, 0)
    tcp_transmit_skb(sk, skb, false);
}

// Acknowledged data left the write queue: wake writers waiting for room (tcp_check_space).
void tcp_check_space(struct sock* sk) {
    if (sk->sk_write_pending || (sk->sk_socket && sk->sk_wq && waitqueue_active(&sk->sk_wq->wait))) sk->sk_write_space(sk);
}

}  // namespace gk
