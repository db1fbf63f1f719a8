// Models net/ipv4/tcp_cubic.c (v6.1): CUBIC, Linux's default congestion control. After a loss
// cwnd drops to 0.7 of what it was (beta 717/1024) and then grows along a cubic curve in the time
// since the loss, flat around the old maximum (W_max) and steep away from it, never slower than
// Reno would ("TCP friendliness"). HyStart (leaving slow start early on rising delay) is not
// modeled.
#include <cmath>

#include "glasskernel/linux.h"
#include "glasskernel/net/tcp.h"

namespace gk {

u32 tcp_slow_start(tcp_sock* tp, u32 acked);
void tcp_cong_avoid_ai(tcp_sock* tp, u32 w, u32 acked);

constexpr u32 BICTCP_BETA_SCALE = 1024;
constexpr int BICTCP_HZ = 10;  // BIC's time unit: 1/1024 s
constexpr u32 beta = 717;      // 0.7 * BICTCP_BETA_SCALE
constexpr u32 bic_scale = 41;
constexpr u32 cube_rtt_scale = bic_scale * 10;
constexpr u32 beta_scale = 8 * (BICTCP_BETA_SCALE + beta) / 3 / (BICTCP_BETA_SCALE - beta);
constexpr u64 cube_factor = (1ULL << (10 + 3 * BICTCP_HZ)) / cube_rtt_scale;

static void bictcp_reset(bictcp* ca) { *ca = bictcp{}; }

static u32 cubic_root(u64 a) { return static_cast<u32>(std::llround(std::cbrt(static_cast<double>(a)))); }

// Where cwnd should be now on the cubic curve, as a count of ACKs per increment (bictcp_update).
static void bictcp_update(tcp_sock* tp, bictcp* ca, u32 cwnd, u32 acked) {
    u32 now = static_cast<u32>(this_kernel->jiffies);
    u32 hz = static_cast<u32>(this_kernel->cfg.hz);
    ca->ack_cnt += acked;
    if (ca->last_cwnd == cwnd && static_cast<int32_t>(now - ca->last_time) <= static_cast<int32_t>(hz / 32)) return;
    if (!(ca->epoch_start && now == ca->last_time)) {
        ca->last_cwnd = cwnd;
        ca->last_time = now;
        if (ca->epoch_start == 0) {
            ca->epoch_start = now ? now : 1;
            ca->ack_cnt = acked;
            ca->tcp_cwnd = cwnd;
            if (ca->last_max_cwnd <= cwnd) {
                ca->bic_K = 0;
                ca->bic_origin_point = cwnd;
            } else {
                ca->bic_K = cubic_root(cube_factor * (ca->last_max_cwnd - cwnd));
                ca->bic_origin_point = ca->last_max_cwnd;
            }
        }
        u64 t = static_cast<u32>(now - ca->epoch_start);
        t += static_cast<u64>(ca->delay_min) * hz / 1000000;  // usecs_to_jiffies(delay_min)
        t = (t << BICTCP_HZ) / hz;
        u64 offs = t < ca->bic_K ? ca->bic_K - t : t - ca->bic_K;
        u64 delta = (cube_rtt_scale * offs * offs * offs) >> (10 + 3 * BICTCP_HZ);
        u32 bic_target = t < ca->bic_K ? ca->bic_origin_point - static_cast<u32>(delta) : ca->bic_origin_point + static_cast<u32>(delta);
        ca->cnt = bic_target > cwnd ? cwnd / (bic_target - cwnd) : 100 * cwnd;
        if (ca->last_max_cwnd == 0 && ca->cnt > 20) ca->cnt = 20;  // 5% per RTT while the path is unknown
    }
    // TCP friendliness: at least as fast as Reno with the same beta would grow.
    u32 d = (cwnd * beta_scale) >> 3;
    while (d && ca->ack_cnt > d) {
        ca->ack_cnt -= d;
        ca->tcp_cwnd++;
    }
    if (ca->tcp_cwnd > cwnd) {
        u32 max_cnt = cwnd / (ca->tcp_cwnd - cwnd);
        if (ca->cnt > max_cnt) ca->cnt = max_cnt;
    }
    ca->cnt = std::max(ca->cnt, 2u);
    (void)tp;
}

static void cubictcp_init(tcp_sock* tp) { bictcp_reset(&tp->ca); }

static void cubictcp_cong_avoid(tcp_sock* tp, u32 ack, u32 acked) {
    (void)ack;
    if (tcp_in_slow_start(tp)) {
        acked = tcp_slow_start(tp, acked);
        if (!acked) return;
    }
    bictcp_update(tp, &tp->ca, tp->snd_cwnd, acked);
    tcp_cong_avoid_ai(tp, tp->ca.cnt, acked);
}

// After a loss: remember the maximum (a little lower if it was falling: fast convergence) and
// go down to beta of cwnd (cubictcp_recalc_ssthresh).
static u32 cubictcp_recalc_ssthresh(tcp_sock* tp) {
    bictcp* ca = &tp->ca;
    ca->epoch_start = 0;
    if (tp->snd_cwnd < ca->last_max_cwnd)
        ca->last_max_cwnd = (tp->snd_cwnd * (BICTCP_BETA_SCALE + beta)) / (2 * BICTCP_BETA_SCALE);
    else
        ca->last_max_cwnd = tp->snd_cwnd;
    return std::max((tp->snd_cwnd * beta) / BICTCP_BETA_SCALE, 2u);
}

static u32 cubictcp_undo_cwnd(tcp_sock* tp) { return std::max(tp->snd_cwnd, tp->prior_cwnd); }

// An RTO starts the curve afresh, W_max forgotten (cubictcp_state on TCP_CA_Loss).
static void cubictcp_loss(tcp_sock* tp) { bictcp_reset(&tp->ca); }

const tcp_congestion_ops cubictcp = {
    .name = "cubic",
    .init = cubictcp_init,
    .ssthresh = cubictcp_recalc_ssthresh,
    .cong_avoid = cubictcp_cong_avoid,
    .undo_cwnd = cubictcp_undo_cwnd,
    .cwnd_event_loss = cubictcp_loss,
};

}  // namespace gk
