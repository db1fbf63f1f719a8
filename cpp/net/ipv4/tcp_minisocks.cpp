// Models net/ipv4/tcp_minisocks.c and inet_timewait_sock.c (v6.1): the small socks a connection
// leaves behind or has not yet become. A request sock in SYN_RECV turns into a full child when
// the handshake's last ACK arrives (tcp_check_req, tcp_child_process); a closed connection's
// TIME_WAIT (or an orphan's FIN_WAIT2) lives on in an inet_timewait_sock that answers old
// segments and holds the four-tuple until its timer ends it (tcp_time_wait,
// tcp_timewait_state_process, inet_twsk_kill).
#include "glasskernel/linux.h"
#include "glasskernel/net/tcp.h"

namespace gk {

enum { TCP_TW_SUCCESS = 0, TCP_TW_SYN = 1, TCP_TW_ACK = 2, TCP_TW_RST = 3 };

static bool tcp_in_window(u32 seq, u32 end_seq, u32 s_win, u32 e_win) {
    if (seq == s_win) return true;
    if (after(end_seq, s_win) && before(seq, e_win)) return true;
    return seq == e_win && seq == end_seq;
}

static unsigned long nsecs_to_jiffies_tw(u64 ns) {
    u64 hz = static_cast<u64>(this_kernel->cfg.hz);
    return static_cast<unsigned long>((ns * hz + NSEC_PER_SEC - 1) / NSEC_PER_SEC);
}

static void tw_timer_handler(timer_list* t) {
    inet_timewait_sock* tw = from_timer(inet_timewait_sock, t, tw_timer);
    trace_scope ts("tw_timer_handler");
    inet_twsk_kill(tw);
}

// The timewait sock leaves both tables and, with its last reference, the machine.
void inet_twsk_kill(inet_timewait_sock* tw) {
    trace_scope ts("inet_twsk_kill");
    if (!tw->tw_hashed) return;
    tw->tw_hashed = false;
    del_timer(&tw->tw_timer);
    inet_unhash_established(tw);
    inet_put_port(tw);
    tcp_net_of(sock_net(tw))->mib.TW++;
    sock_put(tw);  // its own reference
}

static void inet_twsk_reschedule(inet_timewait_sock* tw, u64 timeo_ns) {
    mod_timer(&tw->tw_timer, this_kernel->jiffies + nsecs_to_jiffies_tw(timeo_ns));
}

// The connection is done but its four-tuple must stay reserved: a timewait sock takes its place
// in the tables (inet_twsk_hashdance), and the full sock goes.
void tcp_time_wait(struct sock* sk, int state, u64 timeo_ns) {
    trace_scope ts("tcp_time_wait", "state=%s", tcp_state_names[state]);
    tcp_sock* tp = tcp_sk(sk);
    net* n = sock_net(sk);
    auto* tw = new inet_timewait_sock();
    tw->skc_family = AF_INET;
    tw->sk_prot = &tcp_prot;
    tw->sk_net = n;
    tw->sk_type = SOCK_STREAM;
    tw->sk_protocol = IPPROTO_TCP;
    tw->sk_state = TCP_TIME_WAIT;
    tw->sk_reuse = sk->sk_reuse;
    tw->sk_reuseport = sk->sk_reuseport;
    tw->uid = sk->uid;
    tw->sk_id = n->next_sk_id++;
    tw->sk_receive_queue.name = "sk_receive_queue";
    n->socks[tw->sk_id] = tw;
    tw->inet_rcv_saddr = tp->inet_rcv_saddr;
    tw->inet_saddr = tp->inet_saddr;
    tw->inet_daddr = tp->inet_daddr;
    tw->inet_dport = tp->inet_dport;
    tw->inet_sport = tp->inet_sport;
    tw->tw_substate = state;
    tw->tw_snd_nxt = tp->snd_nxt;
    tw->tw_rcv_nxt = tp->rcv_nxt;
    u32 rwin = tp->rcv_wup + tp->rcv_wnd - tp->rcv_nxt;
    tw->tw_rcv_wnd = static_cast<int32_t>(rwin) < 0 ? 0 : rwin;  // bytes (tcp_in_window compares bytes)
    tw->tw_rcv_wscale = tp->rcv_wscale;
    tw->tw_timer.function = tw_timer_handler;
    tw->tw_timer.name = "tw_timer_handler";
    // The full sock leaves the established hash and the timewait sock takes its slot and port.
    inet_unhash_established(sk);
    inet_bind_hash(tw, tp->inet_num);
    tw->hashed = true;
    inet_hash_established(tw);
    tw->tw_hashed = true;
    u64 len = state == TCP_TIME_WAIT ? tcp_net_of(n)->tcp_timewait_len_ns : timeo_ns;
    inet_twsk_reschedule(tw, len);
    tcp_done(sk);
}

int tcp_timewait_state_process(inet_timewait_sock* tw, sk_buff* skb) {
    trace_scope ts("tcp_timewait_state_process");
    tcp_skb_cb* tcb = TCP_SKB_CB(skb);
    u8 fl = tcb->tcp_flags;
    u64 twlen = tcp_net_of(sock_net(tw))->tcp_timewait_len_ns;
    if (tw->tw_substate == TCP_FIN_WAIT2) {
        if (!tcp_in_window(tcb->seq, tcb->end_seq, tw->tw_rcv_nxt, tw->tw_rcv_nxt + tw->tw_rcv_wnd)) return ts.ret(TCP_TW_ACK);
        if (fl & TCPHDR_RST) {
            inet_twsk_kill(tw);
            return ts.ret(TCP_TW_SUCCESS);
        }
        if ((fl & TCPHDR_SYN) && !before(tcb->seq, tw->tw_rcv_nxt)) return ts.ret(TCP_TW_RST);
        if (!(fl & TCPHDR_ACK) || !after(tcb->end_seq, tw->tw_rcv_nxt) || tcb->end_seq == tcb->seq) return ts.ret(TCP_TW_SUCCESS);
        // New data after a half-duplex close is reset; the FIN ends FIN_WAIT2.
        if (!(fl & TCPHDR_FIN) || tcb->end_seq != tw->tw_rcv_nxt + 1) return ts.ret(TCP_TW_RST);
        tw->tw_substate = TCP_TIME_WAIT;
        tw->tw_rcv_nxt = tcb->end_seq;
        inet_twsk_reschedule(tw, twlen);
        return ts.ret(TCP_TW_ACK);
    }
    // Real TIME_WAIT: an in-window segment may only be a bare ACK or a reset.
    if (tcb->seq == tw->tw_rcv_nxt && (tcb->seq == tcb->end_seq || (fl & TCPHDR_RST))) {
        if (fl & TCPHDR_RST) {
            inet_twsk_kill(tw);  // TIME_WAIT assassination (RFC 1337), which Linux allows by default
        } else {
            inet_twsk_reschedule(tw, twlen);
        }
        return ts.ret(TCP_TW_SUCCESS);
    }
    // A new SYN above what we received may open a new incarnation.
    if ((fl & TCPHDR_SYN) && !(fl & (TCPHDR_RST | TCPHDR_ACK)) && after(tcb->seq, tw->tw_rcv_nxt)) return ts.ret(TCP_TW_SYN);
    if (!(fl & TCPHDR_RST)) {
        if (fl & TCPHDR_ACK) inet_twsk_reschedule(tw, twlen);
        return ts.ret(TCP_TW_ACK);  // e.g. a retransmitted FIN: acknowledge it again
    }
    return ts.ret(TCP_TW_SUCCESS);
}

// A segment for a request sock (SYN_RECV). Returns the child when the handshake completes, the
// listener when the segment must be answered with a reset, nullptr when it was dealt with here.
struct sock* tcp_check_req(tcp_sock* listener, sk_buff* skb, request_sock* req) {
    trace_scope ts("tcp_check_req");
    tcp_skb_cb* tcb = TCP_SKB_CB(skb);
    u8 flg = tcb->tcp_flags & (TCPHDR_RST | TCPHDR_SYN | TCPHDR_ACK | TCPHDR_FIN);
    // A retransmitted SYN: the SYN-ACK is sent again.
    if (tcb->seq == req->rcv_isn && flg == TCPHDR_SYN) {
        tcp_send_synack(listener, req);
        return nullptr;
    }
    if ((flg & TCPHDR_ACK) && tcb->ack_seq != req->snt_isn + 1) return listener;
    u32 rcv_nxt = req->rcv_isn + 1;
    if (!tcp_in_window(tcb->seq, tcb->end_seq, rcv_nxt, rcv_nxt + req->rsk_rcv_wnd)) {
        if (!(flg & TCPHDR_RST)) tcp_send_synack(listener, req);  // out of window: tell it where we are
        return nullptr;
    }
    if (flg & (TCPHDR_RST | TCPHDR_SYN)) {
        tcp_net_of(sock_net(listener))->mib.AttemptFails++;
        if (!(flg & TCPHDR_RST)) tcp_v4_send_reset(listener, skb);  // embryonic_reset
        inet_csk_reqsk_queue_drop(listener, req);
        return nullptr;
    }
    if (!(flg & TCPHDR_ACK)) return nullptr;
    struct sock* child = tcp_v4_syn_recv_sock(listener, skb, req);
    if (!child) return nullptr;  // listen_overflow: the ACK is dropped, the SYN-ACK timer retries
    // inet_csk_complete_hashdance: from the request queue to the accept queue.
    del_timer(&req->rsk_timer);
    req->sk = child;
    listener->accept_queue.push_back(req);
    listener->sk_ack_backlog++;
    return child;
}

// The handshake's last segment finishes on the child; the listener's accept() is woken.
int tcp_child_process(tcp_sock* parent, struct sock* child, sk_buff* skb) {
    trace_scope ts("tcp_child_process");
    int state = child->sk_state;
    int ret = tcp_rcv_state_process(child, skb);
    if (state == TCP_SYN_RECV && child->sk_state != state) parent->sk_data_ready(parent);
    if (ret) {
        tcp_v4_send_reset(child, skb);
        kfree_skb_reason(skb, "TCP_RESET");
    }
    return ts.ret(ret);
}

}  // namespace gk
