// Models net/ipv4/tcp_cong.c (v6.1): the registry of congestion-control algorithms, choosing one
// per socket (TCP_CONGESTION) or per machine (net.ipv4.tcp_congestion_control), and Reno, the
// algorithm every other one falls back on: slow start doubles cwnd each RTT up to ssthresh,
// congestion avoidance adds one segment per RTT, a loss halves it.
#include "glasskernel/linux.h"
#include "glasskernel/net/tcp.h"

namespace gk {

// Slow start: one segment more per segment acknowledged, up to ssthresh; what is left over
// goes to congestion avoidance (tcp_slow_start).
u32 tcp_slow_start(tcp_sock* tp, u32 acked) {
    u32 cwnd = std::min(tp->snd_cwnd + acked, tp->snd_ssthresh);
    acked -= cwnd - tp->snd_cwnd;
    tcp_snd_cwnd_set(tp, cwnd);
    return acked;
}

// Additive increase: one segment per w segments acknowledged (tcp_cong_avoid_ai).
void tcp_cong_avoid_ai(tcp_sock* tp, u32 w, u32 acked) {
    if (tp->snd_cwnd_cnt >= w) {
        tp->snd_cwnd_cnt = 0;
        tcp_snd_cwnd_set(tp, tp->snd_cwnd + 1);
    }
    tp->snd_cwnd_cnt += acked;
    if (tp->snd_cwnd_cnt >= w) {
        u32 delta = tp->snd_cwnd_cnt / w;
        tp->snd_cwnd_cnt -= delta * w;
        tcp_snd_cwnd_set(tp, tp->snd_cwnd + delta);
    }
}

static void tcp_reno_cong_avoid(tcp_sock* tp, u32 ack, u32 acked) {
    (void)ack;
    if (tcp_in_slow_start(tp)) {
        acked = tcp_slow_start(tp, acked);
        if (!acked) return;
    }
    tcp_cong_avoid_ai(tp, tp->snd_cwnd, acked);
}

static u32 tcp_reno_ssthresh(tcp_sock* tp) { return std::max(tp->snd_cwnd >> 1, 2u); }
static u32 tcp_reno_undo_cwnd(tcp_sock* tp) { return std::max(tp->snd_cwnd, tp->prior_cwnd); }

const tcp_congestion_ops tcp_reno = {
    .name = "reno",
    .init = nullptr,
    .ssthresh = tcp_reno_ssthresh,
    .cong_avoid = tcp_reno_cong_avoid,
    .undo_cwnd = tcp_reno_undo_cwnd,
    .cwnd_event_loss = nullptr,
};

const tcp_congestion_ops* tcp_ca_find(const std::string& name) {
    for (const tcp_congestion_ops* ca : {&cubictcp, &tcp_reno})
        if (name == ca->name) return ca;
    return nullptr;
}

void tcp_init_congestion_control(struct sock* sk) {
    tcp_sock* tp = tcp_sk(sk);
    if (!tp->icsk_ca_ops) tp->icsk_ca_ops = tcp_net_of(sock_net(sk))->default_ca;
    tp->ca = bictcp{};
    if (tp->icsk_ca_ops->init) tp->icsk_ca_ops->init(tp);
}

void tcp_cong_avoid(struct sock* sk, u32 ack, u32 acked) {
    tcp_sock* tp = tcp_sk(sk);
    tp->icsk_ca_ops->cong_avoid(tp, ack, acked);
}

// TCP_CONGESTION: by name; an unknown one is ENOENT, as when no module provides it.
int tcp_set_congestion_control(struct sock* sk, const std::string& name) {
    const tcp_congestion_ops* ca = tcp_ca_find(name);
    if (!ca) return -ENOENT;
    tcp_sock* tp = tcp_sk(sk);
    tp->icsk_ca_ops = ca;
    if (sk->sk_state != TCP_CLOSE && sk->sk_state != TCP_LISTEN && sk->sk_state != TCP_SYN_SENT) tcp_init_congestion_control(sk);
    return 0;
}

}  // namespace gk
