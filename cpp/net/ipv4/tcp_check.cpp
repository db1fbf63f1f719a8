// The self-check's TCP invariants (the model's, not a Linux file; they restate what
// net/ipv4/tcp*.c keep true): each connection's queues cover the sequence space without gaps or
// overlap and agree with its counters, a connection with data in flight has its retransmit
// timer running, and the hash tables hold only live socks in the states they are for.
#include <sstream>

#include "glasskernel/linux.h"
#include "glasskernel/net/tcp.h"

namespace gk {

#define TCHECK(cond, msg)                                                  \
    do {                                                                   \
        if (!(cond)) {                                                     \
            std::ostringstream os_;                                        \
            os_ << "tcp sock " << sk->sk_id << " (" << tcp_state_names[sk->sk_state] << "): " << msg; \
            return os_.str();                                              \
        }                                                                  \
    } while (0)

static std::string tcp_check_sock(tcp_sock* sk) {
    tcp_sock* tp = sk;
    // A listener's queues.
    size_t completed = 0;
    for (auto& r : tp->syn_queue) completed += r->sk != nullptr;
    TCHECK(completed == tp->accept_queue.size() && tp->sk_ack_backlog == tp->accept_queue.size(), "the accept queue and sk_ack_backlog disagree");
    if ((1 << sk->sk_state) & (TCPF_CLOSE | TCPF_LISTEN)) {
        // No connection: its sequence numbers mean nothing until the next connect.
        TCHECK(tp->tcp_rtx_queue.q.empty() && tp->packets_out == 0 && (sk->sk_state == TCP_CLOSE || sk->sk_write_queue.q.empty()),
               "segments queued without a connection");
        return "";
    }
    TCHECK(!after(tp->snd_una, tp->snd_nxt) && !after(tp->snd_nxt, tp->write_seq), "snd_una " << tp->snd_una << " snd_nxt " << tp->snd_nxt << " write_seq " << tp->write_seq << " out of order");
    // The retransmit queue: contiguous, from (at most) snd_una to snd_nxt.
    u32 expect = 0, lost = 0, retrans = 0, n = 0;
    long queued = 0;
    for (sk_buff& skb : tp->tcp_rtx_queue.q) {
        tcp_skb_cb* c = TCP_SKB_CB(&skb);
        if (n++) TCHECK(c->seq == expect, "the retransmit queue has a gap or overlap at " << c->seq);
        else TCHECK(!after(c->seq, tp->snd_una) && after(c->end_seq, tp->snd_una), "the retransmit queue starts at " << c->seq << " but snd_una is " << tp->snd_una);
        expect = c->end_seq;
        if (c->sacked & TCPCB_LOST) lost++;
        if (c->sacked & TCPCB_RETRANS) retrans++;
        queued += skb.truesize;
    }
    if (n) TCHECK(expect == tp->snd_nxt, "the retransmit queue ends at " << expect << ", snd_nxt is " << tp->snd_nxt);
    else TCHECK(tp->snd_una == tp->snd_nxt || sk->sk_state == TCP_CLOSE, "nothing is queued for retransmission, but snd_una " << tp->snd_una << " != snd_nxt " << tp->snd_nxt);
    TCHECK(n == tp->packets_out, "packets_out " << tp->packets_out << " but " << n << " segments in the retransmit queue");
    TCHECK(lost == tp->lost_out && retrans == tp->retrans_out, "lost_out/retrans_out " << tp->lost_out << "/" << tp->retrans_out << " but the queue marks " << lost << "/" << retrans);
    // The write queue: what is not sent yet, from snd_nxt to write_seq.
    n = 0;
    for (sk_buff& skb : sk->sk_write_queue.q) {
        tcp_skb_cb* c = TCP_SKB_CB(&skb);
        TCHECK(c->seq == (n++ ? expect : tp->snd_nxt), "the write queue is not contiguous with snd_nxt at " << c->seq);
        expect = c->end_seq;
        queued += skb.truesize;
    }
    TCHECK((n ? expect : tp->snd_nxt) == tp->write_seq, "the write queue ends short of write_seq " << tp->write_seq);
    TCHECK(queued == sk->sk_wmem_queued, "sk_wmem_queued " << sk->sk_wmem_queued << " but the queues hold " << queued);
    // The receive side.
    TCHECK(!after(tp->copied_seq, tp->rcv_nxt) || sk->sk_state == TCP_CLOSE || sk->sk_state == TCP_LISTEN, "copied_seq is past rcv_nxt");
    for (sk_buff& skb : sk->sk_receive_queue.q) TCHECK(!after(TCP_SKB_CB(&skb)->end_seq, tp->rcv_nxt), "received data beyond rcv_nxt");
    expect = tp->rcv_nxt;
    for (sk_buff& skb : tp->out_of_order_queue.q) {
        tcp_skb_cb* c = TCP_SKB_CB(&skb);
        TCHECK(after(c->seq, tp->rcv_nxt) && !before(c->seq, expect), "the out-of-order queue is not sorted beyond rcv_nxt at " << c->seq);
        expect = c->seq;
    }
    TCHECK(sk->sk_backlog.q.empty() || sk->sk_lock_owned, "a backlog with nobody holding the socket");
    // Data in flight always has a timer that will resend it.
    bool retrans_timer = timer_pending(&tp->icsk_retransmit_timer) && (tp->icsk_pending == ICSK_TIME_RETRANS || tp->icsk_pending == ICSK_TIME_PROBE0);
    bool deferred = sk->sk_tsq_flags & TCP_WRITE_TIMER_DEFERRED;
    if (tp->packets_out) TCHECK(retrans_timer || deferred, "data in flight but no retransmit timer");
    if (!tp->packets_out && !sk->sk_write_queue.q.empty() && !(tp->nonagle & TCP_NAGLE_CORK) &&
        ((1 << sk->sk_state) & (TCPF_ESTABLISHED | TCPF_CLOSE_WAIT)))
        TCHECK(retrans_timer || deferred || sk->sk_lock_owned, "unsent data, nothing in flight, and no probe timer");
    return "";
}

std::string tcp_check(net* n) {
    tcp_net* tn = tcp_net_of(n);
    if (!tn) return "";
    for (auto& [id, s] : n->socks) {
        if (auto* sk = dynamic_cast<tcp_sock*>(s)) {
            std::string bad = tcp_check_sock(sk);
            if (!bad.empty()) return bad;
        }
    }
    for (auto& [key, sk] : tn->hashinfo.ehash) {
        std::ostringstream os;
        if (!n->socks.count(sk->sk_id) || n->socks.at(sk->sk_id) != sk) return "the established hash holds a freed sock";
        if (std::make_tuple(sk->inet_rcv_saddr, sk->inet_num, sk->inet_daddr, sk->inet_dport) != key)
            return "the established hash files sock " + std::to_string(sk->sk_id) + " under another four-tuple";
        if (sk->sk_state == TCP_LISTEN || sk->sk_state == TCP_CLOSE) return "the established hash holds a sock in " + std::string(tcp_state_names[sk->sk_state]);
    }
    for (auto& [port, sk] : tn->hashinfo.lhash) {
        if (!n->socks.count(sk->sk_id)) return "the listening hash holds a freed sock";
        if (sk->sk_state != TCP_LISTEN || sk->inet_num != port) return "the listening hash holds sock " + std::to_string(sk->sk_id) + ", which is not listening on port " + std::to_string(port);
    }
    for (auto& [port, sk] : n->tcp_bhash)
        if (!n->socks.count(sk->sk_id) || sk->inet_num != port) return "the bind table holds a stale sock on port " + std::to_string(port);
    return "";
}

}  // namespace gk
