// Models net/ipv4/tcp_timer.c (v6.1) and the timer helpers of inet_connection_sock.h: the
// retransmit timer (an RTO: tcp_enter_loss, resend the first segment, double the RTO, give up
// with ETIMEDOUT after tcp_retries2 / tcp_syn_retries), the zero-window probe timer, the
// delayed-ACK timer, and the keepalive timer (SO_KEEPALIVE probes, then ETIMEDOUT). Each
// pending timer holds a reference on its sock.
#include "glasskernel/linux.h"
#include "glasskernel/net/tcp.h"

namespace gk {

static void tcp_write_timer(timer_list* t);
void tcp_delack_timer_handler(struct sock* sk);
static void tcp_delack_timer(timer_list* t);
static void tcp_keepalive_timer(timer_list* t);

void tcp_init_xmit_timers(struct sock* sk) {
    tcp_sock* tp = tcp_sk(sk);
    tp->icsk_retransmit_timer.function = tcp_write_timer;
    tp->icsk_delack_timer.function = tcp_delack_timer;
    tp->sk_timer.function = tcp_keepalive_timer;
}

void inet_csk_reset_xmit_timer(struct sock* sk, int what, unsigned long when) {
    tcp_sock* tp = tcp_sk(sk);
    when = std::min(when, TCP_RTO_MAX());
    unsigned long expires = this_kernel->jiffies + when;
    if (what == ICSK_TIME_RETRANS || what == ICSK_TIME_PROBE0) {
        tp->icsk_pending = static_cast<u8>(what);
        tp->icsk_timeout = expires;
        sk_reset_timer(sk, &tp->icsk_retransmit_timer, expires);
    } else if (what == ICSK_TIME_DACK) {
        tp->icsk_ack.pending |= ICSK_ACK_TIMER;
        tp->icsk_ack.timeout = expires;
        sk_reset_timer(sk, &tp->icsk_delack_timer, expires);
    }
}

void inet_csk_clear_xmit_timer(struct sock* sk, int what) {
    tcp_sock* tp = tcp_sk(sk);
    if (what == ICSK_TIME_RETRANS || what == ICSK_TIME_PROBE0) {
        tp->icsk_pending = 0;
        sk_stop_timer(sk, &tp->icsk_retransmit_timer);
    } else if (what == ICSK_TIME_DACK) {
        tp->icsk_ack.pending = 0;
        sk_stop_timer(sk, &tp->icsk_delack_timer);
    }
}

void tcp_clear_xmit_timers(struct sock* sk) {
    tcp_sock* tp = tcp_sk(sk);
    tp->icsk_pending = 0;
    tp->icsk_ack.pending = 0;
    sk_stop_timer(sk, &tp->icsk_retransmit_timer);
    sk_stop_timer(sk, &tp->icsk_delack_timer);
    sk_stop_timer(sk, &tp->sk_timer);
}

// The retransmit timer runs while data is outstanding, one RTO after the last (re)transmission
// of the oldest segment.
void tcp_rearm_rto(struct sock* sk) {
    tcp_sock* tp = tcp_sk(sk);
    if (!tp->packets_out)
        inet_csk_clear_xmit_timer(sk, ICSK_TIME_RETRANS);
    else
        inet_csk_reset_xmit_timer(sk, ICSK_TIME_RETRANS, tp->icsk_rto);
}

unsigned long inet_csk_rto_backoff(const tcp_sock* tp, unsigned long max_when) {
    u64 when = static_cast<u64>(std::max<unsigned long>(tp->icsk_rto, TCP_RTO_MIN())) << tp->icsk_backoff;
    return static_cast<unsigned long>(std::min<u64>(when, max_when));
}

// The connection is given up: ETIMEDOUT (or the ICMP error that explains it), and it is closed.
void tcp_write_err(struct sock* sk) {
    trace_scope ts("tcp_write_err");
    sk->sk_err = ETIMEDOUT;
    bool dead = sk->sk_dead;
    if (!dead) sk->sk_error_report(sk);
    tcp_write_queue_purge(sk);
    tcp_done(sk);
}

// tcp_orphan_retries: an orphan (closed by its process) gives up sooner -- net.ipv4.
// tcp_orphan_retries, whose default 0 means 8 while the RTO is still below its maximum.
static int tcp_orphan_retries(const tcp_sock* tp, bool alive) {
    int retries = 0;
    if (retries == 0 && alive) retries = 8;
    (void)tp;
    return retries;
}

// Too many retransmissions: SYNs give up after tcp_syn_retries, data after tcp_retries2 (an
// orphan after tcp_orphan_retries).
static bool tcp_write_timeout(struct sock* sk) {
    tcp_sock* tp = tcp_sk(sk);
    tcp_net* tn = tcp_net_of(sock_net(sk));
    int retry_until = (1 << sk->sk_state) & (TCPF_SYN_SENT | TCPF_SYN_RECV) ? tn->tcp_syn_retries : tn->tcp_retries2;
    if (sk->sk_dead && !((1 << sk->sk_state) & (TCPF_SYN_SENT | TCPF_SYN_RECV)))
        retry_until = tcp_orphan_retries(tp, tp->icsk_rto < TCP_RTO_MAX());
    if (tp->icsk_retransmits >= retry_until) {
        tcp_write_err(sk);
        return true;
    }
    return false;
}

static void tcp_retransmit_timer(struct sock* sk) {
    trace_scope ts("tcp_retransmit_timer");
    tcp_sock* tp = tcp_sk(sk);
    if (!tp->packets_out || tp->tcp_rtx_queue.q.empty()) return;
    tcp_net_of(sock_net(sk))->mib.TCPTimeouts++;
    if (tcp_write_timeout(sk)) return;
    tcp_enter_loss(sk);
    tp->icsk_retransmits++;
    tcp_retransmit_skb(sk, &tp->tcp_rtx_queue.q.front());
    tp->icsk_backoff++;
    tp->icsk_rto = static_cast<u32>(std::min<unsigned long>(static_cast<unsigned long>(tp->icsk_rto) << 1, TCP_RTO_MAX()));
    inet_csk_reset_xmit_timer(sk, ICSK_TIME_RETRANS, tp->icsk_rto);
}

// The peer's window is zero and nothing is in flight: probe it, backing off like the RTO.
static void tcp_probe_timer(struct sock* sk) {
    trace_scope ts("tcp_probe_timer");
    tcp_sock* tp = tcp_sk(sk);
    if (tp->packets_out || sk->sk_write_queue.q.empty()) {
        tp->icsk_probes_out = 0;
        return;
    }
    // An orphan facing a zero window is aborted once its backoff reaches tcp_orphan_retries:
    // nobody will ever read what it holds.
    int max_probes = tcp_net_of(sock_net(sk))->tcp_retries2;
    if (sk->sk_dead) {
        bool alive = inet_csk_rto_backoff(tp, TCP_RTO_MAX()) < TCP_RTO_MAX();
        max_probes = tcp_orphan_retries(tp, alive);
        if (!alive && tp->icsk_backoff >= max_probes) {
            tcp_write_err(sk);
            return;
        }
    }
    if (tp->icsk_probes_out >= max_probes) {
        tcp_write_err(sk);
        return;
    }
    tcp_send_probe0(sk);
    if (tp->packets_out || sk->sk_write_queue.q.empty()) {  // the window opened: data went out
        tp->icsk_probes_out = 0;
        tp->icsk_backoff = 0;
        return;
    }
    tp->icsk_probes_out++;
    if (tp->icsk_backoff < tcp_net_of(sock_net(sk))->tcp_retries2) tp->icsk_backoff++;
    inet_csk_reset_xmit_timer(sk, ICSK_TIME_PROBE0, inet_csk_rto_backoff(tp, TCP_RTO_MAX()));
}

void tcp_write_timer_handler(struct sock* sk) {
    tcp_sock* tp = tcp_sk(sk);
    u8 event = tp->icsk_pending;
    if (sk->sk_state == TCP_CLOSE || !event) return;
    // Work deferred to release_sock may find the timer re-armed meanwhile: not due yet.
    if (static_cast<long>(tp->icsk_timeout - this_kernel->jiffies) > 0) {
        sk_reset_timer(sk, &tp->icsk_retransmit_timer, tp->icsk_timeout);
        return;
    }
    tp->icsk_pending = 0;
    if (event == ICSK_TIME_RETRANS) tcp_retransmit_timer(sk);
    else if (event == ICSK_TIME_PROBE0) tcp_probe_timer(sk);
}

// A timer that finds the socket held by a process leaves its work to tcp_release_cb.
static void tcp_defer(struct sock* sk, unsigned long flag) {
    if (!(sk->sk_tsq_flags & flag)) {
        sk->sk_tsq_flags |= flag;
        sock_hold(sk);
    }
}

static void tcp_write_timer(timer_list* t) {
    tcp_sock* tp = from_timer(tcp_sock, t, icsk_retransmit_timer);
    struct sock* sk = tp;
    trace_scope ts("tcp_write_timer");
    if (!sock_owned_by_user(sk))
        tcp_write_timer_handler(sk);
    else
        tcp_defer(sk, TCP_WRITE_TIMER_DEFERRED);
    sock_put(sk);  // the reference the pending timer held
}

static void tcp_delack_timer(timer_list* t) {
    tcp_sock* tp = from_timer(tcp_sock, t, icsk_delack_timer);
    struct sock* sk = tp;
    trace_scope ts("tcp_delack_timer");
    if (!sock_owned_by_user(sk))
        tcp_delack_timer_handler(sk);
    else
        tcp_defer(sk, TCP_DELACK_TIMER_DEFERRED);
    sock_put(sk);
}

void tcp_delack_timer_handler(struct sock* sk) {
    tcp_sock* tp = tcp_sk(sk);
    if (sk->sk_state != TCP_CLOSE && (tp->icsk_ack.pending & ICSK_ACK_TIMER) &&
        static_cast<long>(tp->icsk_ack.timeout - this_kernel->jiffies) > 0) {
        sk_reset_timer(sk, &tp->icsk_delack_timer, tp->icsk_ack.timeout);  // not due yet
        return;
    }
    if (sk->sk_state != TCP_CLOSE && (tp->icsk_ack.pending & ICSK_ACK_TIMER)) {
        tp->icsk_ack.pending &= static_cast<u8>(~ICSK_ACK_TIMER);
        if (tp->icsk_ack.pending & ICSK_ACK_SCHED) {
            if (!tp->icsk_ack.pingpong) {
                tp->icsk_ack.ato = static_cast<u32>(std::min<unsigned long>(static_cast<unsigned long>(tp->icsk_ack.ato) << 1, tp->icsk_rto));
            } else {
                tp->icsk_ack.pingpong = false;  // the reply we waited for did not come
                tp->icsk_ack.ato = static_cast<u32>(TCP_ATO_MIN());
            }
            tcp_send_ack(sk);
            tcp_net_of(sock_net(sk))->mib.DelayedACKs++;
        }
    }
}

static unsigned long keepalive_time_when(const tcp_sock* tp) {
    return tp->keepalive_time ? tp->keepalive_time
                              : static_cast<unsigned long>(tcp_net_of(sock_net(tp))->tcp_keepalive_time) *
                                    static_cast<unsigned long>(this_kernel->cfg.hz);
}
static unsigned long keepalive_intvl_when(const tcp_sock* tp) {
    return tp->keepalive_intvl ? tp->keepalive_intvl
                               : static_cast<unsigned long>(tcp_net_of(sock_net(tp))->tcp_keepalive_intvl) *
                                     static_cast<unsigned long>(this_kernel->cfg.hz);
}
static int keepalive_probes(const tcp_sock* tp) {
    return tp->keepalive_probes ? tp->keepalive_probes : tcp_net_of(sock_net(tp))->tcp_keepalive_probes;
}

void tcp_reset_keepalive_timer(struct sock* sk, unsigned long len) { sk_reset_timer(sk, &tcp_sk(sk)->sk_timer, this_kernel->jiffies + len); }

void tcp_set_keepalive(struct sock* sk, bool val) {
    if ((1 << sk->sk_state) & (TCPF_CLOSE | TCPF_LISTEN)) return;
    if (val && !timer_pending(&tcp_sk(sk)->sk_timer)) tcp_reset_keepalive_timer(sk, keepalive_time_when(tcp_sk(sk)));
    else if (!val) sk_stop_timer(sk, &tcp_sk(sk)->sk_timer);
}

// An idle connection with SO_KEEPALIVE: after keepalive_time, a probe every keepalive_intvl;
// after keepalive_probes unanswered, the connection is reset with ETIMEDOUT.
static void tcp_keepalive_timer(timer_list* t) {
    tcp_sock* tp = from_timer(tcp_sock, t, sk_timer);
    struct sock* sk = tp;
    trace_scope ts("tcp_keepalive_timer");
    if (sock_owned_by_user(sk)) {
        tcp_reset_keepalive_timer(sk, static_cast<unsigned long>(this_kernel->cfg.hz) / 20);  // try again later
        sock_put(sk);
        return;
    }
    if (sk->sk_state == TCP_FIN_WAIT2 && sk->sk_dead) {
        tcp_send_active_reset(sk);
        tcp_done(sk);
    } else if (sk->sk_keepopen && !((1 << sk->sk_state) & (TCPF_CLOSE | TCPF_SYN_SENT | TCPF_LISTEN))) {
        unsigned long elapsed = keepalive_time_when(tp);
        if (!tp->packets_out && sk->sk_write_queue.q.empty()) {
            elapsed = this_kernel->jiffies - std::max(tp->rcv_tstamp, tp->lrcvtime);
            if (elapsed >= keepalive_time_when(tp)) {
                if (tp->icsk_probes_out >= keepalive_probes(tp)) {
                    tcp_send_active_reset(sk);
                    tcp_write_err(sk);
                    sock_put(sk);
                    return;
                }
                tcp_send_window_probe(sk);  // tcp_write_wakeup: an ACK for snd_una - 1
                tp->icsk_probes_out++;
                elapsed = keepalive_intvl_when(tp);
            } else {
                elapsed = keepalive_time_when(tp) - elapsed;
            }
        }
        tcp_reset_keepalive_timer(sk, elapsed);
    }
    sock_put(sk);
}

// SYN-ACK retransmission for a half-open request, backing off from TCP_TIMEOUT_INIT; after
// tcp_synack_retries the request is dropped (reqsk_timer_handler).
void reqsk_timer_handler(timer_list* t) {
    request_sock* req = from_timer(request_sock, t, rsk_timer);
    trace_scope ts("reqsk_timer_handler");
    tcp_sock* listener = req->rsk_listener;
    if (listener->sk_state != TCP_LISTEN || req->num_retrans >= tcp_net_of(sock_net(listener))->tcp_synack_retries) {
        inet_csk_reqsk_queue_drop(listener, req);
        return;
    }
    tcp_send_synack(listener, req);
    req->num_retrans++;
    tcp_net_of(sock_net(listener))->mib.RetransSegs++;
    unsigned long timeo = std::min<unsigned long>(TCP_TIMEOUT_INIT() << req->num_retrans, TCP_RTO_MAX());
    mod_timer(&req->rsk_timer, this_kernel->jiffies + timeo);
}

}  // namespace gk
