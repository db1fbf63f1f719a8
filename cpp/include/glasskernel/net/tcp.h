// Models include/net/tcp.h, include/linux/tcp.h, include/net/inet_connection_sock.h,
// request_sock.h and inet_timewait_sock.h (v6.1): the TCP header, struct tcp_sock with the
// connection-socket state it inherits (accept queue, retransmit and delayed-ACK timers, RTO,
// congestion control), the request socks of half-open connections, TIME_WAIT socks, and the
// per-packet control block TCP keeps in skb->cb.
#pragma once
#include <deque>
#include <map>
#include <memory>
#include <string>
#include <tuple>

#include "glasskernel/net/ip.h"
#include "glasskernel/timer.h"

namespace gk {

#pragma pack(push, 1)
struct tcphdr {
    u16 source, dest;
    u32 seq, ack_seq;
    u8 doff_res;  // data offset (32-bit words) << 4
    u8 flags;     // CWR ECE URG ACK PSH RST SYN FIN
    u16 window, check, urg_ptr;
};
#pragma pack(pop)
inline tcphdr* tcp_hdr(sk_buff* skb) { return reinterpret_cast<tcphdr*>(skb_transport_header(skb)); }

enum : u8 {
    TCPHDR_FIN = 0x01, TCPHDR_SYN = 0x02, TCPHDR_RST = 0x04, TCPHDR_PSH = 0x08,
    TCPHDR_ACK = 0x10, TCPHDR_URG = 0x20, TCPHDR_ECE = 0x40, TCPHDR_CWR = 0x80,
};
enum { TCPOPT_EOL = 0, TCPOPT_NOP = 1, TCPOPT_MSS = 2, TCPOPT_WINDOW = 3 };

// Sequence-number comparisons modulo 2^32.
inline bool before(u32 seq1, u32 seq2) { return static_cast<int32_t>(seq1 - seq2) < 0; }
inline bool after(u32 seq1, u32 seq2) { return before(seq2, seq1); }
inline bool between(u32 seq1, u32 seq2, u32 seq3) { return seq3 - seq2 >= seq1 - seq2; }

// TCP's timers count jiffies, as in Linux, so their granularity follows the machine's HZ.
unsigned long msecs_to_jiffies(unsigned msecs);
inline unsigned long TCP_RTO_MAX() { return msecs_to_jiffies(120000); }
inline unsigned long TCP_RTO_MIN() { return msecs_to_jiffies(200); }
inline unsigned long TCP_TIMEOUT_INIT() { return msecs_to_jiffies(1000); }
inline unsigned long TCP_DELACK_MAX() { return msecs_to_jiffies(200); }
inline unsigned long TCP_DELACK_MIN() { return msecs_to_jiffies(40); }
inline unsigned long TCP_ATO_MIN() { return msecs_to_jiffies(40); }

constexpr unsigned TCP_INIT_CWND = 10;
constexpr unsigned TCP_MSS_DEFAULT = 536;
constexpr unsigned TCP_MAX_WSCALE = 14;
constexpr unsigned MAX_TCP_HEADER = 320;  // room reserved in front of data for every header
constexpr int TCP_SYN_RETRIES = 6, TCP_SYNACK_RETRIES = 5, TCP_RETRIES2 = 15;
constexpr unsigned TCP_FASTRETRANS_THRESH = 3;
// The MSS to advertise for a route's MTU (ipv4_default_advmss): 40 bytes of headers off, and no
// more than an IP packet can carry (65535), so loopback's 65536-byte MTU gives 65495.
inline u32 ipv4_default_advmss(u32 mtu) { return std::min<u32>(mtu, 65535) - 40; }

// TCP_SKB_CB: what TCP records about each segment it queues or receives.
struct tcp_skb_cb {
    u32 seq;         // first sequence number
    u32 end_seq;     // seq + FIN + SYN + data length
    u64 when;        // when it was (last) sent, ns: the RTT sample source
    u8 tcp_flags;
    u8 sacked;       // TCPCB_RETRANS, TCPCB_LOST
    u32 ack_seq;     // received segments: their acknowledgment number
};
enum : u8 { TCPCB_RETRANS = 0x02, TCPCB_LOST = 0x04, TCPCB_EVER_RETRANS = 0x80 };
inline tcp_skb_cb* TCP_SKB_CB(sk_buff* skb) { return reinterpret_cast<tcp_skb_cb*>(skb->cb); }
static_assert(sizeof(tcp_skb_cb) <= sizeof(sk_buff::cb));

// icsk_ca_state
enum tcp_ca_state : u8 { TCP_CA_Open = 0, TCP_CA_Disorder = 1, TCP_CA_CWR = 2, TCP_CA_Recovery = 3, TCP_CA_Loss = 4 };
// icsk_pending: which event the retransmit timer is armed for
enum : u8 { ICSK_TIME_RETRANS = 1, ICSK_TIME_DACK = 2, ICSK_TIME_PROBE0 = 3 };
// icsk_ack.pending
enum : u8 { ICSK_ACK_SCHED = 1, ICSK_ACK_TIMER = 2, ICSK_ACK_PUSHED = 4, ICSK_ACK_PUSHED2 = 16 };
// nonagle
enum : u8 { TCP_NAGLE_OFF = 1, TCP_NAGLE_CORK = 2, TCP_NAGLE_PUSH = 4 };
// sk_tsq_flags: timer work deferred to tcp_release_cb
enum : unsigned long { TCP_WRITE_TIMER_DEFERRED = 1, TCP_DELACK_TIMER_DEFERRED = 2 };

struct tcp_sock;

// include/net/tcp.h: a pluggable congestion-control algorithm (tcp_register_congestion_control).
struct tcp_congestion_ops {
    const char* name;
    void (*init)(tcp_sock* tp);
    u32 (*ssthresh)(tcp_sock* tp);                       // the slow-start threshold after a loss
    void (*cong_avoid)(tcp_sock* tp, u32 ack, u32 acked);  // grow cwnd on an ACK
    u32 (*undo_cwnd)(tcp_sock* tp);
    void (*cwnd_event_loss)(tcp_sock* tp);  // CA_EVENT_LOSS (an RTO)
};
extern const tcp_congestion_ops tcp_reno, cubictcp;
extern const net_protocol tcp_protocol;
const tcp_congestion_ops* tcp_ca_find(const std::string& name);

// CUBIC's per-connection state (struct bictcp, net/ipv4/tcp_cubic.c).
struct bictcp {
    u32 cnt = 0, last_max_cwnd = 0, last_cwnd = 0, last_time = 0, bic_origin_point = 0, bic_K = 0, delay_min = 0,
        epoch_start = 0, ack_cnt = 0, tcp_cwnd = 0;
};

// A connection in SYN_RECV on a listener (struct request_sock / inet_request_sock / tcp_request_sock).
struct request_sock {
    u32 ir_loc_addr = 0, ir_rmt_addr = 0;
    u16 ir_num = 0, ir_rmt_port = 0;
    u32 rcv_isn = 0, snt_isn = 0;
    u16 mss = 0;
    u8 snd_wscale = 0, rcv_wscale = 0;
    bool wscale_ok = false;
    u32 rsk_rcv_wnd = 0, snd_wnd = 0;
    int num_retrans = 0;
    u64 snt_synack = 0;  // ns, for the first RTT sample
    timer_list rsk_timer;  // reqsk_timer_handler: SYN-ACK retransmits
    tcp_sock* rsk_listener = nullptr;
    struct sock* sk = nullptr;  // the child, once the handshake completed
};

// inet_timewait_sock: what remains of a connection in TIME_WAIT (or an orphaned FIN_WAIT2): the
// four-tuple and enough sequence state to answer a retransmitted FIN. It holds the port.
struct inet_timewait_sock : inet_sock {
    int tw_substate = TCP_TIME_WAIT;
    u32 tw_snd_nxt = 0, tw_rcv_nxt = 0;
    u32 tw_rcv_wnd = 0;  // in bytes
    u8 tw_rcv_wscale = 0;
    timer_list tw_timer;
    bool tw_hashed = false;
};
// Only a timewait sock is ever in TCP_TIME_WAIT (the full sock is CLOSE by then), so its state
// says which it is, as in Linux.
inline inet_timewait_sock* inet_twsk(struct sock* sk) { return static_cast<inet_timewait_sock*>(sk); }

struct tcp_sock : inet_sock {
    // ---- inet_connection_sock ----
    std::deque<std::unique_ptr<request_sock>> syn_queue;  // half-open (icsk_accept_queue's qlen)
    std::deque<request_sock*> accept_queue;              // completed, waiting for accept()
    timer_list icsk_retransmit_timer, icsk_delack_timer;
    timer_list sk_timer;                                 // keepalive, SYN_SENT/FIN_WAIT2 lifetimes
    u32 icsk_rto = 0;                                    // jiffies
    u8 icsk_retransmits = 0, icsk_backoff = 0, icsk_probes_out = 0;
    u8 icsk_pending = 0;
    unsigned long icsk_timeout = 0;  // jiffies: when the retransmit/probe timer is due
    tcp_ca_state icsk_ca_state = TCP_CA_Open;
    const tcp_congestion_ops* icsk_ca_ops = nullptr;
    struct {
        u8 pending = 0, quick = 0;
        bool pingpong = false;
        u32 ato = 0;
        unsigned long timeout = 0;
        u32 rcv_mss = TCP_MSS_DEFAULT;
    } icsk_ack;
    bictcp ca;  // icsk_ca_priv
    // ---- tcp_sock ----
    u32 rcv_nxt = 0, copied_seq = 0, rcv_wup = 0, rcv_wnd = 0, rcv_ssthresh = 0, window_clamp = 0;
    u32 snd_nxt = 0, snd_una = 0, snd_sml = 0, snd_wl1 = 0, snd_wnd = 0, max_window = 0, write_seq = 0, pushed_seq = 0;
    u32 mss_cache = TCP_MSS_DEFAULT, advmss = 0;
    u32 srtt_us = 0, mdev_us = 0, rttvar_us = 0, mdev_max_us = 0, rtt_seq = 0;  // srtt << 3, mdev << 2
    unsigned long rcv_tstamp = 0, lrcvtime = 0;  // jiffies: last segment, last data received
    u32 snd_cwnd = TCP_INIT_CWND, snd_ssthresh = 0x7fffffff, snd_cwnd_cnt = 0, prior_cwnd = 0, prior_ssthresh = 0;
    u32 packets_out = 0, retrans_out = 0, lost_out = 0, dupacks = 0;
    u32 high_seq = 0, undo_marker = 0;
    u8 nonagle = 0;
    u8 snd_wscale = 0, rcv_wscale = 0;
    bool wscale_ok = false;
    u16 mss_clamp = 0, user_mss = 0;
    u32 total_retrans = 0;
    u64 bytes_acked = 0, bytes_received = 0, segs_in = 0, segs_out = 0, data_segs_in = 0, data_segs_out = 0;
    u32 delivered = 0;
    u32 keepalive_time = 0, keepalive_intvl = 0;  // jiffies; 0: the sysctl's
    u8 keepalive_probes = 0;
    int linger2 = 0;
    u64 first_tx_time = 0;
    sk_buff_head out_of_order_queue;
    sk_buff_head tcp_rtx_queue;  // sent, not yet acknowledged (Linux: an rbtree)
    tcp_sock();
};
inline tcp_sock* tcp_sk(struct sock* sk) { return static_cast<tcp_sock*>(sk); }
bool sk_is_tcp(const struct sock* sk);

inline u32 tcp_packets_in_flight(const tcp_sock* tp) { return tp->packets_out - tp->lost_out + tp->retrans_out; }
inline u32 tcp_snd_cwnd(const tcp_sock* tp) { return tp->snd_cwnd; }
inline void tcp_snd_cwnd_set(tcp_sock* tp, u32 val) { tp->snd_cwnd = val ? val : 1; }
inline bool tcp_in_slow_start(const tcp_sock* tp) { return tp->snd_cwnd < tp->snd_ssthresh; }

// The per-machine TCP state of struct net (netns_ipv4 and the inet_hashinfo tables).
struct tcp_hashinfo {
    // Established and TIME_WAIT connections by (local addr, local port, remote addr, remote port).
    std::map<std::tuple<u32, u16, u32, u16>, inet_sock*> ehash;
    std::multimap<u16, tcp_sock*> lhash;  // listeners by port
};
struct tcp_mib {
    u64 ActiveOpens = 0, PassiveOpens = 0, AttemptFails = 0, EstabResets = 0, InSegs = 0, OutSegs = 0, RetransSegs = 0,
        InErrs = 0, OutRsts = 0, InCsumErrors = 0;
    u64 ListenOverflows = 0, ListenDrops = 0, TCPTimeouts = 0, TCPFastRetrans = 0, DelayedACKs = 0, TCPOFOQueue = 0,
        TCPAbortOnData = 0, TCPAbortOnClose = 0, TW = 0;
};
struct tcp_net {
    tcp_hashinfo hashinfo;
    tcp_mib mib;
    const tcp_congestion_ops* default_ca = nullptr;  // net.ipv4.tcp_congestion_control
    int tcp_fin_timeout = 60;        // seconds in FIN_WAIT2 for an orphan (net.ipv4.tcp_fin_timeout)
    u64 tcp_timewait_len_ns = 60ULL * 1000000000ULL;  // TCP_TIMEWAIT_LEN: fixed in Linux; a knob here
    int tcp_keepalive_time = 7200, tcp_keepalive_intvl = 75, tcp_keepalive_probes = 9;  // seconds
    int tcp_syn_retries = TCP_SYN_RETRIES, tcp_synack_retries = TCP_SYNACK_RETRIES, tcp_retries2 = TCP_RETRIES2;
    int tcp_rmem[3] = {4096, 131072, 6291456}, tcp_wmem[3] = {4096, 16384, 4194304};
    bool tcp_window_scaling = true;
    u32 isn_secret = 0;
};
tcp_net* tcp_net_of(net* n);

// ---- the functions the TCP files share, under Linux's names ----
// tcp.cpp
void tcp_set_state(struct sock* sk, int state);
void tcp_done(struct sock* sk);
int tcp_close_state(struct sock* sk);
void tcp_init_sock(struct sock* sk);
void tcp_init_transfer(struct sock* sk);
unsigned tcp_poll(file* f, socket* sock, poll_table* wait);
int tcp_disconnect(struct sock* sk, int flags);
void tcp_cleanup_rbuf(struct sock* sk, int copied);
void tcp_write_queue_purge(struct sock* sk);
void sk_stream_write_space(struct sock* sk);
void sk_reset_timer(struct sock* sk, timer_list* timer, unsigned long expires);
void sk_stop_timer(struct sock* sk, timer_list* timer);
// tcp_ipv4.cpp
int tcp_v4_do_rcv(struct sock* sk, sk_buff* skb);
int tcp_v4_connect(struct sock* sk, struct sockaddr* uaddr, int addr_len);
int tcp_v4_rcv(sk_buff* skb);
void tcp_v4_send_check(struct sock* sk, sk_buff* skb);
void tcp_v4_send_reset(const struct sock* sk, sk_buff* skb);
void inet_hash_established(struct sock* sk);
void inet_unhash_established(struct sock* sk);
struct sock* tcp_v4_syn_recv_sock(tcp_sock* listener, sk_buff* skb, request_sock* req);
u32 secure_tcp_seq(net* n, u32 saddr, u32 daddr, u16 sport, u16 dport);
// tcp_input.cpp
int tcp_rcv_state_process(struct sock* sk, sk_buff* skb);
void tcp_rcv_established(struct sock* sk, sk_buff* skb);
int tcp_conn_request(tcp_sock* listener, sk_buff* skb);
void tcp_data_ready(struct sock* sk);
void tcp_enter_loss(struct sock* sk);
void tcp_init_buffer_space(struct sock* sk);
void tcp_parse_options(const sk_buff* skb, u16* mss, int* wscale);
void tcp_reset(struct sock* sk);
// tcp_output.cpp
int tcp_transmit_skb(struct sock* sk, sk_buff* skb, bool clone_it);
int tcp_connect(struct sock* sk);
void tcp_send_ack(struct sock* sk);
void tcp_send_delayed_ack(struct sock* sk);
void tcp_send_fin(struct sock* sk);
void tcp_send_active_reset(struct sock* sk);
int tcp_send_synack(tcp_sock* listener, request_sock* req);
int tcp_retransmit_skb(struct sock* sk, sk_buff* skb);
void tcp_xmit_retransmit_queue(struct sock* sk);
void tcp_push(struct sock* sk, int flags, u32 mss_now, int nonagle);
void __tcp_push_pending_frames(struct sock* sk, u32 cur_mss, int nonagle);
u32 tcp_current_mss(struct sock* sk);
u32 tcp_sync_mss(struct sock* sk, u32 pmtu);
u32 __tcp_select_window(struct sock* sk);
void tcp_select_initial_window(struct sock* sk, u32 space, u32 mss, u32* rcv_wnd, u32* window_clamp, bool wscale_ok, u8* rcv_wscale);
void tcp_send_probe0(struct sock* sk);
void reqsk_timer_handler(timer_list* t);
void tcp_write_err(struct sock* sk);
void tcp_send_window_probe(struct sock* sk);
void tcp_check_space(struct sock* sk);
sk_buff* tcp_stream_alloc_skb(struct sock* sk, unsigned size);
// tcp_timer.cpp
void tcp_init_xmit_timers(struct sock* sk);
void tcp_clear_xmit_timers(struct sock* sk);
void inet_csk_reset_xmit_timer(struct sock* sk, int what, unsigned long when);
void inet_csk_clear_xmit_timer(struct sock* sk, int what);
void tcp_set_keepalive(struct sock* sk, bool val);
void tcp_reset_keepalive_timer(struct sock* sk, unsigned long len);
void tcp_rearm_rto(struct sock* sk);
unsigned long inet_csk_rto_backoff(const tcp_sock* tp, unsigned long max_when);
// tcp_minisocks.cpp
struct sock* tcp_check_req(tcp_sock* listener, sk_buff* skb, request_sock* req);
int tcp_child_process(tcp_sock* parent, struct sock* child, sk_buff* skb);
void tcp_time_wait(struct sock* sk, int state, u64 timeo_ns);
int tcp_timewait_state_process(inet_timewait_sock* tw, sk_buff* skb);
void inet_twsk_kill(inet_timewait_sock* tw);
// inet_connection_sock.cpp
int inet_csk_get_port(struct sock* sk, unsigned short snum);
int inet_csk_listen_start(struct sock* sk);
void inet_csk_listen_stop(struct sock* sk);
struct sock* inet_csk_accept(struct sock* sk, int flags, int* err, bool kern);
void inet_csk_reqsk_queue_drop(tcp_sock* listener, request_sock* req);
void inet_csk_destroy_sock(struct sock* sk);
int inet_hash(struct sock* sk);
void inet_unhash(struct sock* sk);
void inet_put_port(struct sock* sk);
void inet_bind_hash(struct sock* sk, u16 port);
// tcp_check.cpp: the self-check's TCP invariants ("" when they hold)
std::string tcp_check(net* n);
// tcp_cong.cpp
void tcp_init_congestion_control(struct sock* sk);
void tcp_cong_avoid(struct sock* sk, u32 ack, u32 acked);
int tcp_set_congestion_control(struct sock* sk, const std::string& name);

}  // namespace gk
