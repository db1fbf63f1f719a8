// Models net/ipv4/tcp_input.c (v6.1): what TCP does with each arriving segment. In ESTABLISHED,
// tcp_rcv_established (with its header-prediction fast path: tcp_queue_rcv → tcp_data_ready →
// sk_data_ready); in every other state tcp_rcv_state_process, with SYN_SENT's handshake in
// tcp_rcv_synsent_state_process and a listener's SYN in tcp_conn_request. tcp_ack processes
// acknowledgments (window update, RTT samples and the RTO, freeing acknowledged segments,
// congestion control, fast retransmit after three duplicate ACKs with NewReno recovery, as
// without SACK); tcp_data_queue delivers in-order data, keeps out-of-order segments, and tcp_fin
// moves the state machine on the peer's FIN; __tcp_ack_snd_check decides between an immediate
// and a delayed ACK.
#include <cstring>

#include "glasskernel/eventpoll.h"
#include "glasskernel/linux.h"
#include "glasskernel/net/tcp.h"

namespace gk {

enum : int { FLAG_DATA = 0x01, FLAG_WIN_UPDATE = 0x02, FLAG_DATA_ACKED = 0x04, FLAG_SYN_ACKED = 0x10, FLAG_SND_UNA_ADVANCED = 0x400 };
constexpr u8 TCP_MAX_QUICKACKS = 16;

static unsigned long jiffies_now() { return this_kernel->jiffies; }
static u32 tcp_receive_window(const tcp_sock* tp) {
    int32_t win = static_cast<int32_t>(tp->rcv_wup + tp->rcv_wnd - tp->rcv_nxt);
    return win < 0 ? 0 : static_cast<u32>(win);
}
static bool inet_csk_ack_scheduled(const tcp_sock* tp) { return tp->icsk_ack.pending & ICSK_ACK_SCHED; }
static void inet_csk_schedule_ack(tcp_sock* tp) { tp->icsk_ack.pending |= ICSK_ACK_SCHED; }
enum : u8 { ICSK_ACK_NOW = 8 };

void tcp_parse_options(const sk_buff* skb, u16* mss, int* wscale) {
    const tcphdr* th = reinterpret_cast<const tcphdr*>(skb->head->data() + skb->transport_header);
    int length = static_cast<int>((th->doff_res >> 4) * 4u) - static_cast<int>(sizeof(tcphdr));
    const u8* ptr = reinterpret_cast<const u8*>(th + 1);
    *mss = 0;
    *wscale = -1;
    while (length > 0) {
        u8 opcode = *ptr++;
        if (opcode == TCPOPT_EOL) return;
        if (opcode == TCPOPT_NOP) {
            length--;
            continue;
        }
        if (length < 2) return;
        u8 opsize = *ptr++;
        if (opsize < 2 || opsize > length) return;
        if (opcode == TCPOPT_MSS && opsize == 4) {
            u16 v;
            std::memcpy(&v, ptr, 2);
            *mss = ntohs(v);
        } else if (opcode == TCPOPT_WINDOW && opsize == 3) {
            *wscale = std::min<int>(*ptr, TCP_MAX_WSCALE);
        }
        ptr += opsize - 2;
        length -= opsize;
    }
}

static void tcp_incr_quickack(tcp_sock* tp, u32 max_quickacks) {
    u32 quickacks = tp->rcv_wnd / (2 * tp->icsk_ack.rcv_mss);
    if (quickacks == 0) quickacks = 2;
    quickacks = std::min(quickacks, max_quickacks);
    if (quickacks > tp->icsk_ack.quick) tp->icsk_ack.quick = static_cast<u8>(quickacks);
}
static void tcp_enter_quickack_mode(tcp_sock* tp, u32 max_quickacks) {
    tcp_incr_quickack(tp, max_quickacks);
    tp->icsk_ack.pingpong = false;
    tp->icsk_ack.ato = static_cast<u32>(TCP_ATO_MIN());
}
static bool tcp_in_quickack_mode(const tcp_sock* tp) { return tp->icsk_ack.quick && !tp->icsk_ack.pingpong; }

// The receive buffer space and the first window (tcp_init_buffer_space).
void tcp_init_buffer_space(struct sock* sk) {
    tcp_sock* tp = tcp_sk(sk);
    u32 maxwin = static_cast<u32>(sk->sk_rcvbuf - (sk->sk_rcvbuf >> 1));  // tcp_full_space
    if (!tp->window_clamp || tp->window_clamp >= maxwin) tp->window_clamp = maxwin;
    tp->rcv_ssthresh = std::min(tp->rcv_ssthresh ? tp->rcv_ssthresh : tp->window_clamp, tp->window_clamp);
}

// The connection is up: buffers, congestion control, the first cwnd, keepalive (tcp_init_transfer).
void tcp_init_transfer(struct sock* sk) {
    tcp_sock* tp = tcp_sk(sk);
    tcp_init_buffer_space(sk);
    tcp_init_congestion_control(sk);
    tp->snd_cwnd = TCP_INIT_CWND;
    // tcp_sndbuf_expand: room for twice the initial window of full-sized buffers (each segment's
    // data rounded up to a power of two with its headers and skb_shared_info, plus the sk_buff).
    u32 seg = std::max<u32>(tp->mss_clamp, tp->mss_cache) + MAX_TCP_HEADER + 320;
    int per_mss = 1;
    while (per_mss < static_cast<int>(seg)) per_mss <<= 1;
    per_mss += 256;
    u32 nr_segs = std::max<u32>(TCP_INIT_CWND, tp->snd_cwnd);
    long sndmem = 2L * nr_segs * per_mss;
    if (sk->sk_sndbuf < sndmem && !(sk->sk_userlocks & 1)) sk->sk_sndbuf = static_cast<int>(std::min<long>(sndmem, tcp_net_of(sock_net(sk))->tcp_wmem[2]));
    if (sk->sk_keepopen) tcp_set_keepalive(sk, true);
}

// Jacobson/Karels: srtt is 8 times the smoothed RTT, mdev 4 times its mean deviation; RTO is
// srtt/8 + rttvar, at least TCP_RTO_MIN (tcp_rtt_estimator, tcp_set_rto).
static void tcp_rtt_estimator(tcp_sock* tp, long mrtt_us) {
    long m = mrtt_us;
    u32 srtt = tp->srtt_us;
    u32 rto_min_us = static_cast<u32>(TCP_RTO_MIN() * 1000000 / static_cast<unsigned long>(this_kernel->cfg.hz));
    if (srtt != 0) {
        m -= (srtt >> 3);
        srtt = static_cast<u32>(static_cast<long>(srtt) + m);
        if (m < 0) {
            m = -m;
            m -= (tp->mdev_us >> 2);
            if (m > 0) m >>= 3;
        } else {
            m -= (tp->mdev_us >> 2);
        }
        tp->mdev_us = static_cast<u32>(static_cast<long>(tp->mdev_us) + m);
        if (tp->mdev_us > tp->mdev_max_us) {
            tp->mdev_max_us = tp->mdev_us;
            if (tp->mdev_max_us > tp->rttvar_us) tp->rttvar_us = tp->mdev_max_us;
        }
        if (after(tp->snd_una, tp->rtt_seq)) {
            if (tp->mdev_max_us < tp->rttvar_us) tp->rttvar_us -= (tp->rttvar_us - tp->mdev_max_us) >> 2;
            tp->rtt_seq = tp->snd_nxt;
            tp->mdev_max_us = rto_min_us;
        }
    } else {
        srtt = static_cast<u32>(m << 3);
        tp->mdev_us = static_cast<u32>(m << 1);
        tp->rttvar_us = std::max(tp->mdev_us, rto_min_us);
        tp->mdev_max_us = tp->rttvar_us;
        tp->rtt_seq = tp->snd_nxt;
    }
    tp->srtt_us = std::max(1u, srtt);
}

static void tcp_set_rto(tcp_sock* tp) {
    u64 hz = static_cast<u64>(this_kernel->cfg.hz);
    u64 us = (tp->srtt_us >> 3) + tp->rttvar_us;
    unsigned long rto = static_cast<unsigned long>((us * hz + 999999) / 1000000);
    tp->icsk_rto = static_cast<u32>(std::min(rto, TCP_RTO_MAX()));
}

void tcp_synack_rtt_meas(tcp_sock* tp, long rtt_us);

static void tcp_ack_update_rtt(tcp_sock* tp, long seq_rtt_us) {
    if (seq_rtt_us < 0) return;
    if (!tp->ca.delay_min || static_cast<u32>(seq_rtt_us) < tp->ca.delay_min) tp->ca.delay_min = static_cast<u32>(std::max(1L, seq_rtt_us));
    tcp_rtt_estimator(tp, seq_rtt_us);
    tcp_set_rto(tp);
    tp->icsk_backoff = 0;
}

// The handshake's round trip, measured on the SYN-ACK (if it was sent once): the first sample
// of the passive side's RTT estimator and its RTO.
void tcp_synack_rtt_meas(tcp_sock* tp, long rtt_us) {
    if (rtt_us < 0) return;
    tcp_ack_update_rtt(tp, std::max(rtt_us, 1L));
}

// Free what the peer has acknowledged. The ACK gives an RTT sample only if none of what it
// acknowledges was retransmitted (Karn's rule; Linux also has timestamps, which the model
// does not send, and F-RTO, which it does not model).
static int tcp_clean_rtx_queue(struct sock* sk, u32 prior_snd_una, u32* pkts_acked) {
    tcp_sock* tp = tcp_sk(sk);
    int flag = 0;
    long seq_rtt_us = -1;
    bool retrans_acked = false;
    u64 now = ktime_get();
    (void)prior_snd_una;
    while (!tp->tcp_rtx_queue.q.empty()) {
        sk_buff* skb = &tp->tcp_rtx_queue.q.front();
        tcp_skb_cb* scb = TCP_SKB_CB(skb);
        if (after(scb->end_seq, tp->snd_una)) break;  // not (fully) acknowledged
        if (scb->sacked & TCPCB_RETRANS) tp->retrans_out--;
        if (scb->sacked & TCPCB_LOST) tp->lost_out--;
        if (scb->sacked & TCPCB_EVER_RETRANS)
            retrans_acked = true;
        else if (seq_rtt_us < 0)
            seq_rtt_us = static_cast<long>((now - scb->when) / 1000);
        if (scb->tcp_flags & TCPHDR_SYN) flag |= FLAG_SYN_ACKED;
        else flag |= FLAG_DATA_ACKED;
        tp->packets_out--;
        tp->delivered++;
        (*pkts_acked)++;
        sk->sk_wmem_queued -= static_cast<int>(skb->truesize);
        kfree_skb_reason(skb, "TCP_ACKED");  // tcp_rtx_queue_unlink_and_free
    }
    if (seq_rtt_us >= 0 && !retrans_acked) tcp_ack_update_rtt(tp, seq_rtt_us);
    if (flag & (FLAG_DATA_ACKED | FLAG_SYN_ACKED)) {
        tcp_rearm_rto(sk);
        tp->icsk_retransmits = 0;
    }
    return flag;
}

// A loss was detected by duplicate ACKs: slow-start threshold from the congestion control,
// retransmit the first unacknowledged segment, and stay in Recovery until everything sent
// before the loss is acknowledged (tcp_enter_recovery, NewReno).
static void tcp_enter_recovery(struct sock* sk) {
    trace_scope ts("tcp_enter_recovery");
    tcp_sock* tp = tcp_sk(sk);
    tcp_net_of(sock_net(sk))->mib.TCPFastRetrans++;
    tp->prior_ssthresh = tp->snd_ssthresh;
    tp->prior_cwnd = tp->snd_cwnd;
    tp->snd_ssthresh = tp->icsk_ca_ops->ssthresh(tp);
    tp->high_seq = tp->snd_nxt;
    tp->icsk_ca_state = TCP_CA_Recovery;
    tcp_snd_cwnd_set(tp, tp->snd_ssthresh);
}

// Mark the first unacknowledged segment lost and send it again (NewReno's retransmission).
static void tcp_retransmit_head(struct sock* sk) {
    tcp_sock* tp = tcp_sk(sk);
    if (tp->tcp_rtx_queue.q.empty()) return;
    sk_buff* skb = &tp->tcp_rtx_queue.q.front();
    tcp_skb_cb* scb = TCP_SKB_CB(skb);
    if (!(scb->sacked & TCPCB_LOST)) {
        scb->sacked |= TCPCB_LOST;
        tp->lost_out++;
    }
    if (scb->sacked & TCPCB_RETRANS) {
        scb->sacked &= static_cast<u8>(~TCPCB_RETRANS);
        tp->retrans_out--;
    }
    // The retransmission goes out even if cwnd is full: it replaces a segment that left the network.
    if (!tcp_retransmit_skb(sk, skb)) tcp_rearm_rto(sk);
}

// An RTO: every outstanding segment is presumed lost, cwnd collapses to one and slow start
// resends them (tcp_enter_loss).
void tcp_enter_loss(struct sock* sk) {
    trace_scope ts("tcp_enter_loss");
    tcp_sock* tp = tcp_sk(sk);
    // A new slow-start threshold unless this RTO continues a loss already being repaired.
    if (tp->icsk_ca_state <= TCP_CA_Disorder || !after(tp->high_seq, tp->snd_una) ||
        (tp->icsk_ca_state == TCP_CA_Loss && !tp->icsk_retransmits)) {
        tp->prior_ssthresh = tp->snd_ssthresh;
        tp->snd_ssthresh = tp->icsk_ca_ops->ssthresh(tp);
        if (tp->icsk_ca_ops->cwnd_event_loss) tp->icsk_ca_ops->cwnd_event_loss(tp);
    }
    tp->retrans_out = 0;
    tp->lost_out = 0;
    for (sk_buff& skb : tp->tcp_rtx_queue.q) {
        tcp_skb_cb* scb = TCP_SKB_CB(&skb);
        scb->sacked &= static_cast<u8>(~TCPCB_RETRANS);
        scb->sacked |= TCPCB_LOST;
        tp->lost_out++;
    }
    tcp_snd_cwnd_set(tp, tcp_packets_in_flight(tp) + 1);
    tp->snd_cwnd_cnt = 0;
    tp->high_seq = tp->snd_nxt;
    tp->icsk_ca_state = TCP_CA_Loss;
    tp->dupacks = 0;
}

// Should cwnd grow on this ACK? Only while the window, not the application, limits sending.
static bool tcp_is_cwnd_limited(const tcp_sock* tp, u32 prior_in_flight) {
    if (tcp_in_slow_start(tp)) return tp->snd_cwnd < 2 * prior_in_flight;
    return prior_in_flight >= tp->snd_cwnd;
}

// The peer's window (tcp_ack_update_window): taken from the newest segment only.
static int tcp_ack_update_window(struct sock* sk, sk_buff* skb, u32 ack, u32 ack_seq) {
    tcp_sock* tp = tcp_sk(sk);
    int flag = 0;
    u32 nwin = ntohs(tcp_hdr(skb)->window);
    if (!(TCP_SKB_CB(skb)->tcp_flags & TCPHDR_SYN)) nwin <<= tp->snd_wscale;
    if (after(ack, tp->snd_una) || after(ack_seq, tp->snd_wl1) || (ack_seq == tp->snd_wl1 && nwin > tp->snd_wnd)) {
        flag |= FLAG_WIN_UPDATE;
        tp->snd_wl1 = ack_seq;
        if (tp->snd_wnd != nwin) {
            tp->snd_wnd = nwin;
            if (nwin > tp->max_window) tp->max_window = nwin;
        }
    }
    tp->snd_una = ack;
    return flag;
}

// Returns > 0 for an acceptable ACK, 0 for an old one, < 0 for one of data never sent.
static int tcp_ack(struct sock* sk, sk_buff* skb, int flag) {
    tcp_sock* tp = tcp_sk(sk);
    tcp_skb_cb* tcb = TCP_SKB_CB(skb);
    u32 ack = tcb->ack_seq, ack_seq = tcb->seq, prior_snd_una = tp->snd_una;
    trace_scope ts("tcp_ack", "ack=%u snd_una=%u", ack, prior_snd_una);
    if (before(ack, prior_snd_una)) return ts.ret(0);  // older than what we know
    if (after(ack, tp->snd_nxt)) return ts.ret(-1);   // acknowledges what was never sent
    u32 prior_in_flight = tcp_packets_in_flight(tp);
    u32 prior_wnd = tp->snd_wnd;
    tp->rcv_tstamp = jiffies_now();
    tp->icsk_probes_out = 0;
    if (after(ack, prior_snd_una)) flag |= FLAG_SND_UNA_ADVANCED;
    flag |= tcp_ack_update_window(sk, skb, ack, ack_seq);
    if (tcb->seq != tcb->end_seq) flag |= FLAG_DATA;
    u32 acked = 0;
    if (tp->packets_out) flag |= tcp_clean_rtx_queue(sk, prior_snd_una, &acked);
    tp->bytes_acked += ack - prior_snd_una;
    if (flag & FLAG_SND_UNA_ADVANCED) {
        tp->dupacks = 0;
        if (tp->icsk_ca_state == TCP_CA_Recovery || tp->icsk_ca_state == TCP_CA_Loss) {
            if (!before(ack, tp->high_seq)) {
                // Everything outstanding at the loss is acknowledged: recovery is over.
                if (tp->icsk_ca_state == TCP_CA_Recovery) tcp_snd_cwnd_set(tp, tp->snd_ssthresh);
                tp->icsk_ca_state = TCP_CA_Open;
            } else if (tp->icsk_ca_state == TCP_CA_Recovery) {
                tcp_retransmit_head(sk);  // a partial ACK: the next hole
            }
        }
        if (tp->icsk_ca_state == TCP_CA_Open || tp->icsk_ca_state == TCP_CA_Loss)
            if (tcp_is_cwnd_limited(tp, prior_in_flight)) tcp_cong_avoid(sk, ack, acked);
        if (tp->icsk_ca_state == TCP_CA_Loss) tcp_xmit_retransmit_queue(sk);
    } else if (tp->packets_out && !(flag & FLAG_DATA) && tp->snd_wnd == prior_wnd && ack == prior_snd_una) {
        // A duplicate ACK: the receiver got something out of order.
        tp->dupacks++;
        if (tp->dupacks == TCP_FASTRETRANS_THRESH && tp->icsk_ca_state < TCP_CA_Recovery) {
            tcp_enter_recovery(sk);
            tcp_retransmit_head(sk);
        }
    }
    if (flag & FLAG_DATA_ACKED) tcp_check_space(sk);
    return ts.ret(1);
}

// ---- receiving data ----

// The first data: start the delayed-ACK machinery in quick-ack mode (tcp_event_data_recv).
static void tcp_event_data_recv(struct sock* sk, sk_buff* skb) {
    tcp_sock* tp = tcp_sk(sk);
    unsigned long now = jiffies_now();
    // tcp_measure_rcv_mss: a segment shorter than the peer's MSS was pushed (the end of a write):
    // once the reader has taken it, it is acknowledged at once (tcp_cleanup_rbuf).
    if (skb->len >= tp->icsk_ack.rcv_mss) {
        tp->icsk_ack.rcv_mss = std::min<u32>(skb->len, tp->advmss);
    } else {
        if (skb->len >= TCP_MSS_DEFAULT) tp->icsk_ack.rcv_mss = skb->len;
        if (tp->icsk_ack.pending & ICSK_ACK_PUSHED) tp->icsk_ack.pending |= ICSK_ACK_PUSHED2;
        tp->icsk_ack.pending |= ICSK_ACK_PUSHED;
    }
    inet_csk_schedule_ack(tp);
    if (!tp->icsk_ack.ato) {
        tcp_incr_quickack(tp, TCP_MAX_QUICKACKS);
        tp->icsk_ack.ato = static_cast<u32>(TCP_ATO_MIN());
    } else {
        unsigned long m = now - tp->lrcvtime;
        if (m <= TCP_ATO_MIN() / 2) {
            tp->icsk_ack.ato = static_cast<u32>((tp->icsk_ack.ato >> 1) + TCP_ATO_MIN() / 2);
        } else if (m < tp->icsk_ack.ato) {
            tp->icsk_ack.ato = static_cast<u32>(std::min<unsigned long>((tp->icsk_ack.ato >> 1) + m, tp->icsk_rto));
        } else if (m > tp->icsk_rto) {
            tcp_incr_quickack(tp, TCP_MAX_QUICKACKS);  // a long pause: the peer is in slow start again
        }
    }
    tp->lrcvtime = now;
    // tcp_grow_window: the window opens only for segments worth their memory (at least 128 bytes,
    // truesize not more than twice the data): tiny segments would fill the buffer with overhead.
    u32 full = std::min<u32>(tp->window_clamp, static_cast<u32>(sk->sk_rcvbuf - (sk->sk_rcvbuf >> 1)));
    if (tp->rcv_ssthresh < full && skb->len >= 128 && skb->truesize - (skb->truesize >> 1) <= skb->len)
        tp->rcv_ssthresh = std::min(tp->rcv_ssthresh + 2 * tp->advmss, full);
    tp->bytes_received += skb->len;
    tp->data_segs_in++;
}

// Wake the reader once enough is there (SO_RCVLOWAT), or the peer is done.
void tcp_data_ready(struct sock* sk) {
    trace_scope ts("tcp_data_ready");
    tcp_sock* tp = tcp_sk(sk);
    if (static_cast<int>(tp->rcv_nxt - tp->copied_seq) >= sk->sk_rcvlowat || sk->sk_done) sk->sk_data_ready(sk);
}

// tcp_try_coalesce: a segment that continues the queue's last one is appended to it, so that a
// stream of small segments costs its bytes, not a buffer each. (Only into a buffer of its own:
// a loopback segment may share its data area with the sender's retransmit queue.)
static bool tcp_try_coalesce(struct sock* sk, sk_buff* to, sk_buff* from) {
    tcp_skb_cb* tc = TCP_SKB_CB(to);
    tcp_skb_cb* fc = TCP_SKB_CB(from);
    if (fc->seq != tc->end_seq || (tc->tcp_flags & TCPHDR_FIN) || to->head.use_count() != 1) return false;
    if (from->len > 2048) return false;  // a large segment is worth its own buffer
    std::memcpy(skb_put(to, from->len), from->data_ptr(), from->len);
    to->truesize += from->len;
    sk->sk_rmem_alloc += static_cast<int>(from->len);
    tc->end_seq = fc->end_seq;
    tc->ack_seq = fc->ack_seq;
    tc->tcp_flags |= fc->tcp_flags;
    return true;
}

// In-order data onto the receive queue, charged to the receive buffer. True when the segment was
// appended to the last one ("eaten"): the caller frees it once done with it (kfree_skb_partial).
static bool tcp_queue_rcv(struct sock* sk, sk_buff* skb) {
    trace_scope ts("tcp_queue_rcv", "len=%u", skb->len);
    tcp_sock* tp = tcp_sk(sk);
    sk_buff* tail = sk->sk_receive_queue.q.empty() ? nullptr : &sk->sk_receive_queue.q.back();
    bool eaten = tail && tcp_try_coalesce(sk, tail, skb);
    if (!eaten) {
        skb_set_owner_r(skb, sk);
        skb_queue_tail(&sk->sk_receive_queue, skb);
    }
    tp->rcv_nxt = TCP_SKB_CB(skb)->end_seq;
    return ts.ret(eaten);
}

// The peer's FIN: no more data will come (tcp_fin).
static void tcp_fin(struct sock* sk) {
    trace_scope ts("tcp_fin", "state=%s", tcp_state_names[sk->sk_state]);
    tcp_sock* tp = tcp_sk(sk);
    inet_csk_schedule_ack(tp);
    sk->sk_shutdown |= RCV_SHUTDOWN;
    sk->sk_done = true;
    switch (sk->sk_state) {
    case TCP_SYN_RECV:
    case TCP_ESTABLISHED:
        tcp_set_state(sk, TCP_CLOSE_WAIT);
        tp->icsk_ack.pingpong = true;  // inet_csk_enter_pingpong_mode: the reply will carry the ACK
        break;
    case TCP_CLOSE_WAIT: case TCP_CLOSING: case TCP_LAST_ACK: break;
    case TCP_FIN_WAIT1:
        // Both FINs crossed: simultaneous close.
        tcp_send_ack(sk);
        tcp_set_state(sk, TCP_CLOSING);
        break;
    case TCP_FIN_WAIT2:
        tcp_send_ack(sk);
        tcp_time_wait(sk, TCP_TIME_WAIT, 0);
        break;
    default: break;
    }
    skb_queue_purge(&tp->out_of_order_queue);
    if (!sk->sk_dead) sk->sk_state_change(sk);
}

// Out-of-order segments that the new rcv_nxt has reached move to the receive queue.
static void tcp_ofo_queue(struct sock* sk) {
    tcp_sock* tp = tcp_sk(sk);
    while (!tp->out_of_order_queue.q.empty()) {
        sk_buff* skb = &tp->out_of_order_queue.q.front();
        if (after(TCP_SKB_CB(skb)->seq, tp->rcv_nxt)) break;
        skb_unlink(skb, &tp->out_of_order_queue);
        if (!after(TCP_SKB_CB(skb)->end_seq, tp->rcv_nxt)) {
            kfree_skb_reason(skb, "TCP_OFO_DROP");  // wholly covered already
            continue;
        }
        bool fin = TCP_SKB_CB(skb)->tcp_flags & TCPHDR_FIN;
        skb_orphan(skb);
        if (tcp_queue_rcv(sk, skb)) consume_skb(skb);
        if (fin) {
            tcp_fin(sk);
            break;
        }
    }
}

// Hold a segment that came before its predecessors, in sequence order (tcp_data_queue_ofo).
static void tcp_data_queue_ofo(struct sock* sk, sk_buff* skb) {
    trace_scope ts("tcp_data_queue_ofo", "seq=%u", TCP_SKB_CB(skb)->seq);
    tcp_sock* tp = tcp_sk(sk);
    tcp_net_of(sock_net(sk))->mib.TCPOFOQueue++;
    inet_csk_schedule_ack(tp);
    tp->icsk_ack.pending |= ICSK_ACK_NOW;  // a duplicate ACK tells the sender about the hole
    u32 seq = TCP_SKB_CB(skb)->seq, end_seq = TCP_SKB_CB(skb)->end_seq;
    if (sk->sk_rmem_alloc > sk->sk_rcvbuf) {
        kfree_skb_reason(skb, "PROTO_MEM");
        return;
    }
    auto& q = tp->out_of_order_queue.q;
    auto it = q.begin();
    for (; it != q.end(); ++it) {
        tcp_skb_cb* c = TCP_SKB_CB(&*it);
        if (!before(seq, c->seq) && !after(end_seq, c->end_seq)) {
            kfree_skb_reason(skb, "TCP_OFOMERGE");  // a duplicate of what we hold
            return;
        }
        if (before(seq, c->seq)) break;
    }
    skb_set_owner_r(skb, sk);
    q.insert(it, *skb);
}

static void tcp_data_queue(struct sock* sk, sk_buff* skb) {
    tcp_sock* tp = tcp_sk(sk);
    tcp_skb_cb* tcb = TCP_SKB_CB(skb);
    trace_scope ts("tcp_data_queue", "seq=%u end_seq=%u", tcb->seq, tcb->end_seq);
    if (tcb->seq == tcb->end_seq) {
        consume_skb(skb);
        return;
    }
    skb_pull(skb, (tcp_hdr(skb)->doff_res >> 4) * 4u);
    if (tcb->seq == tp->rcv_nxt) {
        if (tcp_receive_window(tp) == 0) goto out_of_window;
    queue_and_out:
        // tcp_try_rmem_schedule: refused only once the buffer is already over its limit.
        if (!sk->sk_receive_queue.q.empty() && sk->sk_rmem_alloc > sk->sk_rcvbuf) {
            sk->sk_data_ready(sk);
            sk->sk_drops++;
            kfree_skb_reason(skb, "PROTO_MEM");
            return;
        }
        bool fin = tcb->tcp_flags & TCPHDR_FIN;
        unsigned len = skb->len;
        bool eaten = tcp_queue_rcv(sk, skb);
        if (len) tcp_event_data_recv(sk, skb);
        if (eaten) consume_skb(skb);
        if (fin) tcp_fin(sk);
        if (!tp->out_of_order_queue.q.empty()) {
            tcp_ofo_queue(sk);
            if (tp->out_of_order_queue.q.empty()) tp->icsk_ack.pending |= ICSK_ACK_NOW;  // RFC 5681 4.2: the gap is filled
        }
        if (!sk->sk_dead) tcp_data_ready(sk);
        return;
    }
    if (!after(tcb->end_seq, tp->rcv_nxt)) {
        // A retransmission of what we have: acknowledge at once.
        goto out_of_window;
    }
    if (!before(tcb->seq, tp->rcv_nxt + tcp_receive_window(tp))) goto out_of_window;  // e.g. a window probe
    if (before(tcb->seq, tp->rcv_nxt)) {
        // Partly new: seq < rcv_nxt < end_seq. recvmsg skips the old head.
        if (!tcp_receive_window(tp)) goto out_of_window;
        goto queue_and_out;
    }
    tcp_data_queue_ofo(sk, skb);
    return;
out_of_window:
    tcp_enter_quickack_mode(tp, TCP_MAX_QUICKACKS);
    inet_csk_schedule_ack(tp);
    kfree_skb_reason(skb, "TCP_OLD_DATA");
}

static void tcp_data_snd_check(struct sock* sk) {
    __tcp_push_pending_frames(sk, tcp_current_mss(sk), tcp_sk(sk)->nonagle);
    tcp_check_space(sk);
}

// Immediate ACK after two full segments, in quick-ack mode, or with data out of order;
// otherwise a delayed one (__tcp_ack_snd_check).
static void __tcp_ack_snd_check(struct sock* sk, bool ofo_possible) {
    tcp_sock* tp = tcp_sk(sk);
    if ((tp->rcv_nxt - tp->rcv_wup > tp->icsk_ack.rcv_mss && __tcp_select_window(sk) >= tp->rcv_wnd) || tcp_in_quickack_mode(tp) ||
        (ofo_possible && !tp->out_of_order_queue.q.empty())) {
        tcp_send_ack(sk);
        return;
    }
    tcp_send_delayed_ack(sk);
}

static void tcp_ack_snd_check(struct sock* sk) {
    tcp_sock* tp = tcp_sk(sk);
    if (!inet_csk_ack_scheduled(tp)) return;
    if (tp->icsk_ack.pending & ICSK_ACK_NOW) {
        tcp_send_ack(sk);
        return;
    }
    __tcp_ack_snd_check(sk, true);
}

void tcp_reset(struct sock* sk) {
    trace_scope ts("tcp_reset", "state=%s", tcp_state_names[sk->sk_state]);
    switch (sk->sk_state) {
    case TCP_SYN_SENT: sk->sk_err = ECONNREFUSED; break;
    case TCP_CLOSE_WAIT: sk->sk_err = EPIPE; break;
    case TCP_CLOSE: return;
    default: sk->sk_err = ECONNRESET; break;
    }
    tcp_write_queue_purge(sk);
    bool dead = sk->sk_dead;
    tcp_done(sk);
    if (!dead) sk->sk_error_report(sk);
}

// A reset one below rcv_nxt after the peer's FIN (which took that number) is the peer's, too.
static bool tcp_reset_check(struct sock* sk, sk_buff* skb) {
    return TCP_SKB_CB(skb)->seq == tcp_sk(sk)->rcv_nxt - 1 &&
           ((1 << sk->sk_state) & (TCPF_CLOSE_WAIT | TCPF_LAST_ACK | TCPF_CLOSING));
}

// RFC 793's sequence check, RST and SYN handling for a synchronized connection
// (tcp_validate_incoming). False: the segment was dealt with (dropped, or it reset us).
static bool tcp_validate_incoming(struct sock* sk, sk_buff* skb) {
    tcp_sock* tp = tcp_sk(sk);
    tcp_skb_cb* tcb = TCP_SKB_CB(skb);
    bool in_seq = !before(tcb->end_seq, tp->rcv_wup) && !after(tcb->seq, tp->rcv_nxt + tcp_receive_window(tp));
    if (!in_seq) {
        if (!(tcb->tcp_flags & TCPHDR_RST)) {
            tcp_send_ack(sk);  // tcp_send_dupack: where we really are
        } else if (tcp_reset_check(sk, skb)) {
            tcp_reset(sk);
            consume_skb(skb);
            return false;
        }
        kfree_skb_reason(skb, "TCP_INVALID_SEQUENCE");
        return false;
    }
    if (tcb->tcp_flags & TCPHDR_RST) {
        // RFC 5961 3.2: only a reset at exactly rcv_nxt (or just after the peer's FIN) resets;
        // others get a challenge ACK.
        if (tcb->seq == tp->rcv_nxt || tcp_reset_check(sk, skb)) {
            tcp_reset(sk);
            consume_skb(skb);
        } else {
            tcp_send_ack(sk);
            kfree_skb_reason(skb, "TCP_RESET");
        }
        return false;
    }
    if (tcb->tcp_flags & TCPHDR_SYN) {  // RFC 5961 4.2: a challenge ACK
        tcp_net_of(sock_net(sk))->mib.InErrs++;
        tcp_send_ack(sk);
        kfree_skb_reason(skb, "TCP_INVALID_SYN");
        return false;
    }
    return true;
}

void tcp_rcv_established(struct sock* sk, sk_buff* skb) {
    tcp_sock* tp = tcp_sk(sk);
    tcp_skb_cb* tcb = TCP_SKB_CB(skb);
    trace_scope ts("tcp_rcv_established", "seq=%u len=%u", tcb->seq, skb->len);
    tcphdr* th = tcp_hdr(skb);
    unsigned hlen = (th->doff_res >> 4) * 4u;
    tp->segs_in++;
    // Header prediction: the next in-order segment, ACK (and PSH) only, no options, the window
    // as we last saw it, nothing out of order here.
    u8 flags = th->flags & static_cast<u8>(~TCPHDR_PSH);
    if (flags == TCPHDR_ACK && hlen == sizeof(tcphdr) && tcb->seq == tp->rcv_nxt && !after(tcb->ack_seq, tp->snd_nxt) &&
        (static_cast<u32>(ntohs(th->window)) << tp->snd_wscale) == tp->snd_wnd && tp->out_of_order_queue.q.empty() &&
        tcp_receive_window(tp)) {
        if (skb->len == hlen) {
            tcp_ack(sk, skb, 0);  // a pure ACK
            consume_skb(skb);
            tcp_data_snd_check(sk);
            return;
        }
        if (sk->sk_rmem_alloc <= sk->sk_rcvbuf && skb->len - hlen <= tcp_receive_window(tp)) {
            skb_pull(skb, hlen);
            bool eaten = tcp_queue_rcv(sk, skb);
            tcp_event_data_recv(sk, skb);
            if (tcb->ack_seq != tp->snd_una) {
                tcp_ack(sk, skb, FLAG_DATA);
                tcp_data_snd_check(sk);
            } else {
                tp->snd_wl1 = tcb->seq;  // tcp_update_wl
            }
            if (eaten) consume_skb(skb);
            if (inet_csk_ack_scheduled(tp)) __tcp_ack_snd_check(sk, false);
            tcp_data_ready(sk);
            return;
        }
    }
    // The slow path.
    if (!(th->flags & (TCPHDR_ACK | TCPHDR_RST | TCPHDR_SYN))) {
        kfree_skb_reason(skb, "TCP_FLAGS");
        return;
    }
    if (!tcp_validate_incoming(sk, skb)) return;
    if (tcp_ack(sk, skb, 0) < 0) {
        kfree_skb_reason(skb, "TCP_ACK_UNSENT_DATA");
        return;
    }
    tcp_data_queue(sk, skb);
    if (sk->sk_state != TCP_CLOSE) {
        tcp_data_snd_check(sk);
        tcp_ack_snd_check(sk);
    }
}

// ---- connection setup ----

static void tcp_finish_connect(struct sock* sk) {
    trace_scope ts("tcp_finish_connect");
    tcp_sock* tp = tcp_sk(sk);
    tcp_set_state(sk, TCP_ESTABLISHED);
    tp->lrcvtime = jiffies_now();
    tcp_init_transfer(sk);
}

// SYN_SENT: the answer to our SYN (tcp_rcv_synsent_state_process). Returns 1 to have the
// caller send a reset, 0 when the segment was consumed, -1 to continue with the segment's data.
static int tcp_rcv_synsent_state_process(struct sock* sk, sk_buff* skb) {
    trace_scope ts("tcp_rcv_synsent_state_process");
    tcp_sock* tp = tcp_sk(sk);
    tcp_skb_cb* tcb = TCP_SKB_CB(skb);
    tcphdr* th = tcp_hdr(skb);
    u16 mss;
    int wscale;
    tcp_parse_options(skb, &mss, &wscale);
    if (tcb->tcp_flags & TCPHDR_ACK) {
        // The ACK must cover our SYN and nothing more.
        if (!after(tcb->ack_seq, tp->snd_una) || after(tcb->ack_seq, tp->snd_nxt)) return ts.ret(1);
        if (tcb->tcp_flags & TCPHDR_RST) {
            tcp_reset(sk);  // connection refused
            consume_skb(skb);
            return ts.ret(0);
        }
        if (!(tcb->tcp_flags & TCPHDR_SYN)) {
            kfree_skb_reason(skb, "TCP_FLAGS");
            return ts.ret(0);
        }
        tp->snd_wl1 = tcb->seq;  // tcp_init_wl
        tcp_ack(sk, skb, 0);
        tp->rcv_nxt = tcb->seq + 1;
        tp->rcv_wup = tcb->seq + 1;
        tp->snd_wnd = ntohs(th->window);  // never scaled in a SYN
        tp->max_window = tp->snd_wnd;
        if (wscale >= 0 && tp->wscale_ok) {
            tp->snd_wscale = static_cast<u8>(wscale);
        } else {
            tp->wscale_ok = false;
            tp->snd_wscale = tp->rcv_wscale = 0;
            tp->window_clamp = std::min<u32>(tp->window_clamp, 65535);
        }
        tp->mss_clamp = mss ? std::min<u16>(mss, tp->mss_clamp ? tp->mss_clamp : mss) : TCP_MSS_DEFAULT;
        tcp_sync_mss(sk, tp->advmss + sizeof(iphdr) + sizeof(tcphdr));
        tp->icsk_ack.rcv_mss = std::min<u32>(tp->advmss, std::max<u32>(tp->mss_cache, TCP_MSS_DEFAULT));
        tp->copied_seq = tp->rcv_nxt;
        tcp_finish_connect(sk);
        if (!sk->sk_dead) sk->sk_state_change(sk);
        if (sk->sk_write_pending) {
            // A writer is waiting for the connection: save an ACK, its data will carry it.
            inet_csk_schedule_ack(tp);
            tcp_enter_quickack_mode(tp, TCP_MAX_QUICKACKS);
            inet_csk_reset_xmit_timer(sk, ICSK_TIME_DACK, TCP_DELACK_MAX());
            consume_skb(skb);
            return ts.ret(0);
        }
        tcp_send_ack(sk);
        consume_skb(skb);
        return ts.ret(0);
    }
    // No ACK: a reset is dropped; a bare SYN would be a simultaneous open, which the model
    // does not take part in (the segment is dropped, our SYN is retransmitted).
    kfree_skb_reason(skb, (tcb->tcp_flags & TCPHDR_RST) ? "TCP_RESET" : "TCP_FLAGS");
    return ts.ret(0);
}

// A SYN for a listener: a request sock, a SYN-ACK, and the request on the SYN queue.
int tcp_conn_request(tcp_sock* listener, sk_buff* skb) {
    trace_scope ts("tcp_conn_request");
    net* n = sock_net(listener);
    tcp_net* tn = tcp_net_of(n);
    tcp_skb_cb* tcb = TCP_SKB_CB(skb);
    iphdr* iph = ip_hdr(skb);
    tcphdr* th = tcp_hdr(skb);
    u32 qlen = static_cast<u32>(listener->syn_queue.size() - listener->accept_queue.size());
    // inet_csk_reqsk_queue_is_full. A full SYN queue would answer with a SYN cookie
    // (net.ipv4.tcp_syncookies); the model has none and drops the SYN.
    if (qlen > listener->sk_max_ack_backlog) {
        tn->mib.ListenDrops++;
        return ts.ret(0);
    }
    if (listener->sk_ack_backlog > listener->sk_max_ack_backlog) {  // sk_acceptq_is_full
        tn->mib.ListenOverflows++;
        tn->mib.ListenDrops++;
        return ts.ret(0);
    }
    auto req = std::make_unique<request_sock>();
    req->ir_rmt_addr = ntohl(iph->saddr);
    req->ir_loc_addr = ntohl(iph->daddr);
    req->ir_rmt_port = ntohs(th->source);
    req->ir_num = listener->inet_num;
    req->rcv_isn = tcb->seq;
    u16 mss;
    int wscale;
    tcp_parse_options(skb, &mss, &wscale);
    req->mss = mss ? mss : TCP_MSS_DEFAULT;
    req->wscale_ok = wscale >= 0 && tn->tcp_window_scaling;
    req->snd_wscale = static_cast<u8>(std::max(wscale, 0));
    req->snd_wnd = ntohs(th->window);
    req->snt_isn = secure_tcp_seq(n, req->ir_loc_addr, req->ir_rmt_addr, req->ir_num, req->ir_rmt_port);
    rtable rt;
    ip_route_output(n, req->ir_rmt_addr, req->ir_loc_addr, &rt);
    u32 advmss = ipv4_default_advmss(rt.dev ? rt.dev->mtu : 1500);
    u32 window_clamp = 0;
    u32 space = static_cast<u32>(listener->sk_rcvbuf - (listener->sk_rcvbuf >> 1));
    tcp_select_initial_window(listener, space, advmss, &req->rsk_rcv_wnd, &window_clamp, req->wscale_ok, &req->rcv_wscale);
    req->rsk_listener = listener;
    req->rsk_timer.function = reqsk_timer_handler;
    req->rsk_timer.name = "reqsk_timer_handler";
    request_sock* r = req.get();
    listener->syn_queue.push_back(std::move(req));
    mod_timer(&r->rsk_timer, this_kernel->jiffies + TCP_TIMEOUT_INIT());
    tcp_send_synack(listener, r);
    return ts.ret(0);
}

// Every state but ESTABLISHED (tcp_rcv_state_process). Returns nonzero when the caller must
// answer with a reset (and free the segment); otherwise the segment was consumed.
int tcp_rcv_state_process(struct sock* sk, sk_buff* skb) {
    tcp_sock* tp = tcp_sk(sk);
    tcp_skb_cb* tcb = TCP_SKB_CB(skb);
    u8 fl = tcb->tcp_flags;
    trace_scope ts("tcp_rcv_state_process", "state=%s flags=%#x", tcp_state_names[sk->sk_state], fl);
    switch (sk->sk_state) {
    case TCP_CLOSE:
        kfree_skb_reason(skb, "TCP_CLOSE");
        return ts.ret(0);
    case TCP_LISTEN:
        if (fl & TCPHDR_ACK) return ts.ret(1);
        if (fl & TCPHDR_RST) {
            kfree_skb_reason(skb, "TCP_RESET");
            return ts.ret(0);
        }
        if (fl & TCPHDR_SYN) {
            if (fl & TCPHDR_FIN) {
                kfree_skb_reason(skb, "TCP_FLAGS");
                return ts.ret(0);
            }
            tcp_conn_request(tp, skb);
            consume_skb(skb);
            return ts.ret(0);
        }
        kfree_skb_reason(skb, "TCP_FLAGS");
        return ts.ret(0);
    case TCP_SYN_SENT: {
        tp->segs_in++;
        int queued = tcp_rcv_synsent_state_process(sk, skb);
        if (queued > 0) return ts.ret(queued);
        tcp_data_snd_check(sk);
        return ts.ret(0);
    }
    default: break;
    }
    tp->segs_in++;
    if (!(fl & (TCPHDR_ACK | TCPHDR_RST | TCPHDR_SYN))) {
        kfree_skb_reason(skb, "TCP_FLAGS");
        return ts.ret(0);
    }
    if (!tcp_validate_incoming(sk, skb)) return ts.ret(0);
    // step 5: the ACK field
    int acceptable = tcp_ack(sk, skb, 0) > 0;
    if (!acceptable) {
        if (sk->sk_state == TCP_SYN_RECV) return ts.ret(1);
        tcp_send_ack(sk);  // tcp_send_challenge_ack
        kfree_skb_reason(skb, "TCP_OLD_ACK");
        return ts.ret(0);
    }
    switch (sk->sk_state) {
    case TCP_SYN_RECV:
        tp->delivered++;
        tcp_init_transfer(sk);
        tp->copied_seq = tp->rcv_nxt;
        tcp_set_state(sk, TCP_ESTABLISHED);
        sk->sk_state_change(sk);
        tp->snd_una = tcb->ack_seq;
        tp->snd_wnd = static_cast<u32>(ntohs(tcp_hdr(skb)->window)) << tp->snd_wscale;
        tp->snd_wl1 = tcb->seq;
        break;
    case TCP_FIN_WAIT1:
        if (tp->snd_una != tp->write_seq) break;  // our FIN is not acknowledged yet
        tcp_set_state(sk, TCP_FIN_WAIT2);
        sk->sk_shutdown |= SEND_SHUTDOWN;
        if (!sk->sk_dead) {
            sk->sk_state_change(sk);
            break;
        }
        if (tp->linger2 < 0) {
            tcp_done(sk);
            return ts.ret(1);
        }
        if (tcb->end_seq != tcb->seq && after(tcb->end_seq - ((fl & TCPHDR_FIN) ? 1 : 0), tp->rcv_nxt)) {
            tcp_done(sk);  // data after close(): nobody will read it
            tcp_net_of(sock_net(sk))->mib.TCPAbortOnData++;
            return ts.ret(1);
        }
        if (!(fl & TCPHDR_FIN)) {
            tcp_net* tn = tcp_net_of(sock_net(sk));
            u64 tmo = (tp->linger2 ? static_cast<u64>(tp->linger2) : static_cast<u64>(tn->tcp_fin_timeout)) * NSEC_PER_SEC;
            tcp_time_wait(sk, TCP_FIN_WAIT2, tmo);
            consume_skb(skb);
            return ts.ret(0);
        }
        break;  // the FIN in this segment takes FIN_WAIT2 on to TIME_WAIT below
    case TCP_CLOSING:
        if (tp->snd_una == tp->write_seq) {
            tcp_time_wait(sk, TCP_TIME_WAIT, 0);
            consume_skb(skb);
            return ts.ret(0);
        }
        break;
    case TCP_LAST_ACK:
        if (tp->snd_una == tp->write_seq) {
            tcp_done(sk);
            consume_skb(skb);
            return ts.ret(0);
        }
        break;
    default: break;
    }
    // step 7: the segment's text
    switch (sk->sk_state) {
    case TCP_CLOSE_WAIT: case TCP_CLOSING: case TCP_LAST_ACK:
        if (!before(tcb->seq, tp->rcv_nxt)) {
            consume_skb(skb);  // after the peer's FIN: nothing more can be data
            goto out;
        }
        [[fallthrough]];
    case TCP_FIN_WAIT1: case TCP_FIN_WAIT2:
        // RFC 1122: data for a socket whose reader has shut down resets the connection.
        if ((sk->sk_shutdown & RCV_SHUTDOWN) && tcb->end_seq != tcb->seq && after(tcb->end_seq - ((fl & TCPHDR_FIN) ? 1 : 0), tp->rcv_nxt)) {
            tcp_net_of(sock_net(sk))->mib.TCPAbortOnData++;
            tcp_reset(sk);
            return ts.ret(1);
        }
        [[fallthrough]];
    case TCP_ESTABLISHED:
        tcp_data_queue(sk, skb);
        break;
    default:
        consume_skb(skb);
        break;
    }
out:
    if (sk->sk_state != TCP_CLOSE) {
        tcp_data_snd_check(sk);
        tcp_ack_snd_check(sk);
    }
    return ts.ret(0);
}

}  // namespace gk
