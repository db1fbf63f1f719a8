// Models net/ipv4/tcp.c (v6.1): the socket side of TCP -- tcp_sendmsg cutting the caller's bytes
// into MSS-sized segments on the write queue (and sleeping in sk_stream_wait_memory when the send
// buffer is full), tcp_recvmsg copying from the receive queue (and sleeping in sk_wait_data),
// tcp_poll, close and shutdown with their state changes (tcp_close_state), tcp_disconnect, the
// SOL_TCP options and TCP_INFO. Linux holds the socket lock in these paths and defers packets
// that arrive meanwhile to the backlog; here no softirq runs inside them until they sleep, so
// lock_sock has nothing to exclude.
#include <cstring>

#include "glasskernel/eventpoll.h"
#include "glasskernel/linux.h"
#include "glasskernel/net/tcp.h"

namespace gk {

const char* const tcp_state_names[TCP_MAX_STATES] = {
    "", "ESTABLISHED", "SYN_SENT", "SYN_RECV", "FIN_WAIT1", "FIN_WAIT2", "TIME_WAIT",
    "CLOSE", "CLOSE_WAIT", "LAST_ACK", "LISTEN", "CLOSING", "NEW_SYN_RECV",
};

tcp_sock::tcp_sock() {
    out_of_order_queue.name = "out_of_order_queue";
    tcp_rtx_queue.name = "tcp_rtx_queue";
    icsk_retransmit_timer.name = "tcp_write_timer";
    icsk_delack_timer.name = "tcp_delack_timer";
    sk_timer.name = "tcp_keepalive_timer";
}

static struct sock* tcp_sk_alloc() { return new tcp_sock(); }

bool sk_is_tcp(const struct sock* sk) { return dynamic_cast<const tcp_sock*>(sk) != nullptr; }

void tcp_set_state(struct sock* sk, int state) {
    int oldstate = sk->sk_state;
    trace_point("inet_sock_set_state", "sport=%u dport=%u oldstate=%s newstate=%s", inet_sk(sk)->inet_sport,
                inet_sk(sk)->inet_dport, tcp_state_names[oldstate], tcp_state_names[state]);
    tcp_net* tn = tcp_net_of(sock_net(sk));
    if (state == TCP_CLOSE && (oldstate == TCP_CLOSE_WAIT || oldstate == TCP_ESTABLISHED)) tn->mib.EstabResets++;
    sk->sk_state = state;
    if (state == TCP_CLOSE && oldstate != TCP_CLOSE) {
        // A closed connection leaves the lookup tables at once, and its port too unless bind()
        // chose it.
        sk->sk_prot->unhash(sk);
        if (!(sk->sk_userlocks & SOCK_BINDPORT_LOCK)) inet_put_port(sk);
    }
}

// A timer that holds a reference on its sock while pending (sk_reset_timer / sk_stop_timer).
void sk_reset_timer(struct sock* sk, timer_list* timer, unsigned long expires) {
    if (!mod_timer(timer, expires)) sock_hold(sk);
}

void sk_stop_timer(struct sock* sk, timer_list* timer) {
    if (del_timer(timer)) sock_put(sk);
}

void tcp_sock_init_callbacks(struct sock* sk);

void tcp_init_sock(struct sock* sk) {
    tcp_sock* tp = tcp_sk(sk);
    net* n = sock_net(sk);
    tcp_net* tn = tcp_net_of(n);
    tcp_init_xmit_timers(sk);
    tcp_sock_init_callbacks(sk);
    tp->icsk_rto = static_cast<u32>(TCP_TIMEOUT_INIT());
    tp->mdev_us = 1000000;  // jiffies_to_usecs(TCP_TIMEOUT_INIT)
    tp->snd_cwnd = TCP_INIT_CWND;
    tp->snd_ssthresh = 0x7fffffff;  // TCP_INFINITE_SSTHRESH
    tp->mss_cache = TCP_MSS_DEFAULT;
    tp->icsk_ca_ops = tn->default_ca;
    sk->sk_sndbuf = tn->tcp_wmem[1];
    sk->sk_rcvbuf = tn->tcp_rmem[1];
    sk->sk_write_queue.name = "sk_write_queue";
}

// The states a close or shutdown(SHUT_WR) moves through (new_state[] in Linux): a FIN is due from
// ESTABLISHED, SYN_RECV and CLOSE_WAIT. Returns whether to send it.
int tcp_close_state(struct sock* sk) {
    int next = sk->sk_state, fin = 0;
    switch (sk->sk_state) {
    case TCP_ESTABLISHED: case TCP_SYN_RECV: next = TCP_FIN_WAIT1; fin = 1; break;
    case TCP_CLOSE_WAIT: next = TCP_LAST_ACK; fin = 1; break;
    case TCP_SYN_SENT: case TCP_TIME_WAIT: case TCP_LISTEN: case TCP_CLOSE: case TCP_NEW_SYN_RECV: next = TCP_CLOSE; break;
    default: break;  // FIN_WAIT1/2, LAST_ACK, CLOSING: already on the way
    }
    tcp_set_state(sk, next);
    return fin;
}

// The connection is over: no more timers, both directions shut, and the owner told -- or, with
// nobody left to tell, the sock destroyed.
void tcp_done(struct sock* sk) {
    trace_scope ts("tcp_done");
    if (sk->sk_state == TCP_SYN_SENT || sk->sk_state == TCP_SYN_RECV) tcp_net_of(sock_net(sk))->mib.AttemptFails++;
    tcp_set_state(sk, TCP_CLOSE);
    tcp_clear_xmit_timers(sk);
    sk->sk_shutdown = RCV_SHUTDOWN | SEND_SHUTDOWN;
    if (!sk->sk_dead)
        sk->sk_state_change(sk);
    else
        inet_csk_destroy_sock(sk);
}

void tcp_write_queue_purge(struct sock* sk) {
    tcp_sock* tp = tcp_sk(sk);
    skb_queue_purge(&sk->sk_write_queue);
    skb_queue_purge(&tp->tcp_rtx_queue);
    sk->sk_wmem_queued = 0;
    tp->packets_out = tp->retrans_out = tp->lost_out = 0;
}

// ---- waiting ----

static bool sk_stream_memory_free(const struct sock* sk) { return sk->sk_wmem_queued < sk->sk_sndbuf; }
static int sk_stream_wspace(const struct sock* sk) { return sk->sk_sndbuf - sk->sk_wmem_queued; }
static int sk_stream_min_wspace(const struct sock* sk) { return sk->sk_wmem_queued >> 1; }
static bool __sk_stream_is_writeable(const struct sock* sk) {
    return sk_stream_wspace(sk) >= sk_stream_min_wspace(sk) && sk_stream_memory_free(sk);
}

// Room in the send buffer again: wake the writers (and pollers waiting for EPOLLOUT).
void sk_stream_write_space(struct sock* sk) {
    trace_scope ts("sk_stream_write_space");
    if (__sk_stream_is_writeable(sk) && sk->sk_socket && sk->sk_wq && waitqueue_active(&sk->sk_wq->wait))
        __wake_up(&sk->sk_wq->wait, 1, 1, reinterpret_cast<void*>(static_cast<unsigned long>(EPOLLOUT | EPOLLWRNORM | EPOLLWRBAND)));
}

// sk_wait_event: sleep on the socket's queue, woken by woken_wake_function, until cond() holds,
// a signal, or the time-out. Returns cond().
// The socket is released for the sleep: what arrived meanwhile is processed first (the backlog),
// which may already satisfy the condition.
template <class Cond>
static bool sk_wait_event(struct sock* sk, long* timeo, Cond cond, wait_queue_entry* wait) {
    release_sock(sk);
    if (!cond()) *timeo = wait_woken(wait, TASK_INTERRUPTIBLE, *timeo);
    lock_sock(sk);
    return cond();
}

// sk_wait_data (net/core/sock.c): the reader's sleep until the receive queue's tail changes.
static int sk_wait_data(struct sock* sk, long* timeo, const sk_buff* last) {
    trace_scope ts("sk_wait_data");
    wait_queue_entry wait;
    init_wait_entry(&wait, 0);
    wait.func = woken_wake_function;
    add_wait_queue(&sk->sk_wq->wait, &wait);
    auto tail = [sk]() -> const sk_buff* { return sk->sk_receive_queue.q.empty() ? nullptr : &sk->sk_receive_queue.q.back(); };
    bool rc = sk_wait_event(sk, timeo, [&] { return tail() != last || sk->sk_err || (sk->sk_shutdown & RCV_SHUTDOWN); }, &wait);
    remove_wait_queue(&sk->sk_wq->wait, &wait);
    return ts.ret(rc);
}

// Wait for a connect in progress to finish before sending (sk_stream_wait_connect).
static int sk_stream_wait_connect(struct sock* sk, long* timeo_p) {
    trace_scope ts("sk_stream_wait_connect");
    for (;;) {
        int err = sock_error(sk);
        if (err) return ts.ret(err);
        if ((1 << sk->sk_state) & ~(TCPF_SYN_SENT | TCPF_SYN_RECV)) return ts.ret(-EPIPE);
        if (!*timeo_p) return ts.ret(-EAGAIN);
        if (signal_pending(current)) return ts.ret(sock_intr_errno(*timeo_p));
        wait_queue_entry wait;
        init_wait_entry(&wait, 0);
        wait.func = woken_wake_function;
        add_wait_queue(&sk->sk_wq->wait, &wait);
        sk->sk_write_pending++;
        bool done = sk_wait_event(sk, timeo_p, [sk] {
            return sk->sk_err || !((1 << sk->sk_state) & ~(TCPF_ESTABLISHED | TCPF_CLOSE_WAIT));
        }, &wait);
        remove_wait_queue(&sk->sk_wq->wait, &wait);
        sk->sk_write_pending--;
        if (done) return ts.ret(0);
    }
}

// Wait for room in the send buffer (sk_stream_wait_memory).
static int sk_stream_wait_memory(struct sock* sk, long* timeo_p) {
    trace_scope ts("sk_stream_wait_memory");
    wait_queue_entry wait;
    init_wait_entry(&wait, 0);
    wait.func = woken_wake_function;
    add_wait_queue(&sk->sk_wq->wait, &wait);
    int err = 0;
    for (;;) {
        if (sk->sk_err || (sk->sk_shutdown & SEND_SHUTDOWN)) { err = -EPIPE; break; }
        if (!*timeo_p) { err = -EAGAIN; break; }
        if (signal_pending(current)) { err = sock_intr_errno(*timeo_p); break; }
        if (sk_stream_memory_free(sk)) break;
        sk->sk_write_pending++;
        sk_wait_event(sk, timeo_p, [sk] {
            return sk->sk_err || (sk->sk_shutdown & SEND_SHUTDOWN) || sk_stream_memory_free(sk);
        }, &wait);
        sk->sk_write_pending--;
    }
    remove_wait_queue(&sk->sk_wq->wait, &wait);
    return ts.ret(err);
}

// An error from the stream calls: EPIPE is the pending error if there is one, and raises
// SIGPIPE unless the caller said MSG_NOSIGNAL.
static int sk_stream_error(struct sock* sk, int flags, int err) {
    if (err == -EPIPE) {
        int e = sock_error(sk);
        err = e ? e : -EPIPE;
    }
    if (err == -EPIPE && !(flags & MSG_NOSIGNAL)) send_sig(SIGPIPE, current, 0);
    return err;
}

// ---- sending ----

// Room for the headers, and capacity for `size` bytes of data that are charged (truesize) only
// as they are copied in, as Linux's page fragments are.
sk_buff* tcp_stream_alloc_skb(struct sock* sk, unsigned size) {
    sk_buff* skb = alloc_skb(MAX_TCP_HEADER);
    skb->head->reserve(MAX_TCP_HEADER + size);
    skb_reserve(skb, MAX_TCP_HEADER);
    skb->sk = sk;  // charged through sk_wmem_queued, not sk_wmem_alloc, while queued
    std::memset(skb->cb, 0, sizeof skb->cb);
    return skb;
}

// A new segment at the tail of the write queue (tcp_skb_entail).
static void tcp_skb_entail(struct sock* sk, sk_buff* skb) {
    tcp_sock* tp = tcp_sk(sk);
    tcp_skb_cb* tcb = TCP_SKB_CB(skb);
    tcb->seq = tcb->end_seq = tp->write_seq;
    tcb->tcp_flags = TCPHDR_ACK;
    skb_queue_tail(&sk->sk_write_queue, skb);
    sk->sk_wmem_queued += static_cast<int>(skb->truesize);
}

static int tcp_sendmsg_locked(struct sock* sk, msghdr* msg, size_t size) {
    tcp_sock* tp = tcp_sk(sk);
    int flags = static_cast<int>(msg->msg_flags);
    long timeo = flags & MSG_DONTWAIT ? 0 : sk->sk_sndtimeo;
    int copied = 0, err = 0;
    (void)size;
    // Wait for a connection to finish.
    if ((1 << sk->sk_state) & ~(TCPF_ESTABLISHED | TCPF_CLOSE_WAIT)) {
        err = sk_stream_wait_connect(sk, &timeo);
        if (err) return sk_stream_error(sk, flags, err);
    }
    u32 mss_now = tcp_current_mss(sk);
    u32 size_goal = mss_now;
    err = -EPIPE;
    if (sk->sk_err || (sk->sk_shutdown & SEND_SHUTDOWN)) goto do_error;
    while (msg_data_left(msg)) {
        {
            sk_buff* skb = sk->sk_write_queue.q.empty() ? nullptr : &sk->sk_write_queue.q.back();
            long copy = skb ? static_cast<long>(size_goal) - static_cast<long>(skb->len) : 0;
            if (copy <= 0 || (TCP_SKB_CB(skb)->tcp_flags & TCPHDR_FIN)) {
                if (!sk_stream_memory_free(sk)) goto wait_for_space;
                skb = tcp_stream_alloc_skb(sk, size_goal);
                tcp_skb_entail(sk, skb);
                copy = size_goal;
            }
            copy = std::min<long>(copy, static_cast<long>(msg_data_left(msg)));
            size_t before_len = skb->len;
            u8* to = skb_put(skb, static_cast<unsigned>(copy));
            if (copy_from_iter(to, static_cast<size_t>(copy), &msg->msg_iter) != static_cast<size_t>(copy)) {
                skb_trim(skb, static_cast<unsigned>(before_len));
                err = -EFAULT;
                goto do_error;
            }
            skb->truesize += static_cast<unsigned>(copy);
            sk->sk_wmem_queued += static_cast<int>(copy);
            if (!copied) TCP_SKB_CB(skb)->tcp_flags &= static_cast<u8>(~TCPHDR_PSH);
            tp->write_seq += static_cast<u32>(copy);
            TCP_SKB_CB(skb)->end_seq += static_cast<u32>(copy);
            copied += static_cast<int>(copy);
            if (!msg_data_left(msg)) goto out;
            if (skb->len < size_goal) continue;
            // A full segment: send what the windows allow now.
            __tcp_push_pending_frames(sk, mss_now, TCP_NAGLE_PUSH);
            continue;
        }
    wait_for_space:
        if (copied) tcp_push(sk, flags & ~MSG_MORE, mss_now, TCP_NAGLE_PUSH);
        err = sk_stream_wait_memory(sk, &timeo);
        if (err) goto do_error;
        mss_now = tcp_current_mss(sk);
        size_goal = mss_now;
    }
out:
    if (copied) tcp_push(sk, flags, mss_now, tp->nonagle);
    return copied;
do_error:
    if (copied) goto out;
    return sk_stream_error(sk, flags, err);
}

static int tcp_sendmsg(struct sock* sk, msghdr* msg, size_t size) {
    trace_scope ts("tcp_sendmsg", "size=%zu", size);
    lock_sock(sk);
    int ret = tcp_sendmsg_locked(sk, msg, size);
    release_sock(sk);
    return ts.ret(ret);
}

// ---- receiving ----

static void tcp_eat_recv_skb(struct sock* sk, sk_buff* skb) {
    (void)sk;
    kfree_skb_reason(skb, "TCP_CONSUMED");  // leaves the queue; sock_rfree gives the memory back
}

// The window we advertise may grow now that the reader made room: tell the sender when it
// doubled (or a delayed ACK is due).
void tcp_cleanup_rbuf(struct sock* sk, int copied) {
    tcp_sock* tp = tcp_sk(sk);
    bool time_to_ack = false;
    if (tp->icsk_ack.pending & ICSK_ACK_SCHED) {
        if (tp->rcv_nxt - tp->rcv_wup > tp->icsk_ack.rcv_mss ||
            (copied > 0 &&
             ((tp->icsk_ack.pending & ICSK_ACK_PUSHED2) || ((tp->icsk_ack.pending & ICSK_ACK_PUSHED) && !tp->icsk_ack.pingpong)) &&
             !sk->sk_rmem_alloc))
            time_to_ack = true;
    }
    if (copied > 0 && !time_to_ack && !(sk->sk_shutdown & RCV_SHUTDOWN)) {
        u32 rcv_window_now = tp->rcv_wup + tp->rcv_wnd - tp->rcv_nxt;  // tcp_receive_window
        if (static_cast<int32_t>(rcv_window_now) < 0) rcv_window_now = 0;
        if (2 * rcv_window_now <= tp->window_clamp) {
            u32 new_window = __tcp_select_window(sk);
            if (new_window && new_window >= 2 * rcv_window_now) time_to_ack = true;
        }
    }
    if (time_to_ack) tcp_send_ack(sk);
}

static int tcp_recvmsg_locked(struct sock* sk, msghdr* msg, size_t len, int flags) {
    trace_scope ts("tcp_recvmsg_locked", "len=%zu", len);
    tcp_sock* tp = tcp_sk(sk);
    int copied = 0;
    if (sk->sk_state == TCP_LISTEN) return ts.ret(-ENOTCONN);
    long timeo = sock_rcvtimeo(sk, flags & MSG_DONTWAIT);
    if (flags & MSG_OOB) return ts.ret(-EINVAL);  // no urgent data here
    u32 peek_seq = tp->copied_seq;
    u32* seq = flags & MSG_PEEK ? &peek_seq : &tp->copied_seq;
    int target = flags & MSG_WAITALL ? static_cast<int>(std::min<size_t>(len, INT_MAX))
                                     : std::min(sk->sk_rcvlowat, static_cast<int>(std::min<size_t>(len, INT_MAX)));
    if (!target) target = 1;
    do {
        sk_buff* found = nullptr;
        bool fin = false;
        u32 offset = 0;
        const sk_buff* last = sk->sk_receive_queue.q.empty() ? nullptr : &sk->sk_receive_queue.q.back();
        for (sk_buff& skb : sk->sk_receive_queue.q) {
            offset = *seq - TCP_SKB_CB(&skb)->seq;
            if (offset < skb.len) { found = &skb; break; }
            if (TCP_SKB_CB(&skb)->tcp_flags & TCPHDR_FIN) { found = &skb; fin = true; break; }
        }
        if (found && !fin) {
            size_t used = std::min<size_t>(found->len - offset, len);
            if (!(flags & MSG_TRUNC)) {
                if (skb_copy_datagram_msg(found, static_cast<int>(offset), msg, static_cast<int>(used))) {
                    if (!copied) copied = -EFAULT;
                    break;
                }
            }
            *seq += static_cast<u32>(used);
            copied += static_cast<int>(used);
            len -= used;
            if (used + offset < found->len) continue;
            if (TCP_SKB_CB(found)->tcp_flags & TCPHDR_FIN) {
                fin = true;
            } else {
                if (!(flags & MSG_PEEK)) tcp_eat_recv_skb(sk, found);
                continue;
            }
        }
        if (fin) {
            ++*seq;  // the FIN takes a sequence number
            if (!(flags & MSG_PEEK)) tcp_eat_recv_skb(sk, found);
            break;
        }
        if (copied >= target) break;
        if (copied) {
            if (!timeo || sk->sk_err || sk->sk_state == TCP_CLOSE || (sk->sk_shutdown & RCV_SHUTDOWN) || signal_pending(current))
                break;
        } else {
            if (sk->sk_done) break;
            if (sk->sk_err) { copied = sock_error(sk); break; }
            if (sk->sk_shutdown & RCV_SHUTDOWN) break;
            if (sk->sk_state == TCP_CLOSE) { copied = -ENOTCONN; break; }  // never connected
            if (!timeo) { copied = -EAGAIN; break; }
            if (signal_pending(current)) { copied = sock_intr_errno(timeo); break; }
        }
        tcp_cleanup_rbuf(sk, copied);
        sk_wait_data(sk, &timeo, last);
    } while (len > 0);
    tcp_cleanup_rbuf(sk, copied);
    return ts.ret(copied);
}

static int tcp_recvmsg(struct sock* sk, msghdr* msg, size_t len, int flags, int* addr_len) {
    trace_scope ts("tcp_recvmsg", "len=%zu flags=%#x", len, flags);
    (void)addr_len;
    lock_sock(sk);
    int ret = tcp_recvmsg_locked(sk, msg, len, flags);
    release_sock(sk);
    return ts.ret(ret);
}

// ---- poll ----

static bool tcp_stream_is_readable(const tcp_sock* tp, int target) {
    return static_cast<int>(tp->rcv_nxt - tp->copied_seq) >= target;
}

unsigned tcp_poll(file* f, socket* sock, poll_table* wait) {
    struct sock* sk = sock->sk;
    tcp_sock* tp = tcp_sk(sk);
    poll_wait(f, &sk->sk_wq->wait, wait);
    int state = sk->sk_state;
    if (state == TCP_LISTEN) return tp->accept_queue.empty() ? 0 : (EPOLLIN | EPOLLRDNORM);  // inet_csk_listen_poll
    unsigned mask = 0;
    if (sk->sk_shutdown == (RCV_SHUTDOWN | SEND_SHUTDOWN) || state == TCP_CLOSE) mask |= EPOLLHUP;
    if (sk->sk_shutdown & RCV_SHUTDOWN) mask |= EPOLLIN | EPOLLRDNORM | EPOLLRDHUP;
    if (state != TCP_SYN_SENT && state != TCP_SYN_RECV) {
        if (tcp_stream_is_readable(tp, std::max(sk->sk_rcvlowat, 1))) mask |= EPOLLIN | EPOLLRDNORM;
        if (!(sk->sk_shutdown & SEND_SHUTDOWN)) {
            if (__sk_stream_is_writeable(sk)) mask |= EPOLLOUT | EPOLLWRNORM;
        } else {
            mask |= EPOLLOUT | EPOLLWRNORM;
        }
    }
    if (sk->sk_err) mask |= EPOLLERR;
    return mask;
}

// ---- close, shutdown, disconnect ----

// sk_stream_wait_close: with SO_LINGER, close() sleeps until the FIN is acknowledged (the state
// leaves FIN_WAIT1, CLOSING and LAST_ACK), a signal, or the linger time runs out.
static void sk_stream_wait_close(struct sock* sk, long timeout) {
    if (!timeout || !sk->sk_wq) return;
    trace_scope ts("sk_stream_wait_close");
    auto closing = [sk] { return (1 << sk->sk_state) & (TCPF_FIN_WAIT1 | TCPF_CLOSING | TCPF_LAST_ACK); };
    wait_queue_entry wait;
    init_wait_entry(&wait, 0);
    wait.func = woken_wake_function;
    add_wait_queue(&sk->sk_wq->wait, &wait);
    do {
        if (sk_wait_event(sk, &timeout, [&] { return !closing(); }, &wait)) break;
    } while (!signal_pending(current) && timeout);
    remove_wait_queue(&sk->sk_wq->wait, &wait);
}

static void tcp_close(struct sock* sk, long timeout) {
    trace_scope ts("tcp_close");
    tcp_sock* tp = tcp_sk(sk);
    if (this_kernel->tearing_down) {
        // The machine is going away: no segment may leave (the link's other end may be gone
        // already), and a lock held by a task whose stack was unwound is never released. The
        // network's teardown frees the sock.
        sock_orphan(sk);
        return;
    }
    lock_sock(sk);
    sk->sk_shutdown = RCV_SHUTDOWN | SEND_SHUTDOWN;
    if (sk->sk_state == TCP_LISTEN) {
        tcp_set_state(sk, TCP_CLOSE);
        inet_csk_listen_stop(sk);
    } else {
        bool data_was_unread = false;
        while (sk_buff* skb = skb_dequeue(&sk->sk_receive_queue)) {
            u32 end_seq = TCP_SKB_CB(skb)->end_seq;
            if (TCP_SKB_CB(skb)->tcp_flags & TCPHDR_FIN) end_seq--;
            if (after(end_seq, tp->copied_seq)) data_was_unread = true;
            kfree_skb(skb);
        }
        if (sk->sk_state == TCP_CLOSE) {
            // reset already (tcp_reset)
        } else if (data_was_unread) {
            // RFC 2525 2.17: unread data was thrown away, so the peer must not think it arrived.
            tcp_net_of(sock_net(sk))->mib.TCPAbortOnClose++;
            tcp_set_state(sk, TCP_CLOSE);
            tcp_send_active_reset(sk);
        } else if (sk->sk_linger && !sk->sk_lingertime) {
            tcp_disconnect(sk, 0);  // SO_LINGER with 0: abort with RST
        } else if (tcp_close_state(sk)) {
            tcp_send_fin(sk);
        }
        sk_stream_wait_close(sk, timeout);
    }
    int state = sk->sk_state;
    sock_hold(sk);
    sock_orphan(sk);
    bool replaced = false;
    if (!(state != TCP_CLOSE && sk->sk_state == TCP_CLOSE)) {
        if (sk->sk_state == TCP_FIN_WAIT2) {
            // An orphan in FIN_WAIT2 waits tcp_fin_timeout for the peer's FIN, in a timewait sock;
            // tcp_time_wait's tcp_done has destroyed this one already (Linux: goto out).
            tcp_net* tn = tcp_net_of(sock_net(sk));
            if (tp->linger2 < 0) {
                tcp_set_state(sk, TCP_CLOSE);
                tcp_send_active_reset(sk);
            } else {
                u64 tmo = (tp->linger2 ? static_cast<u64>(tp->linger2) : static_cast<u64>(tn->tcp_fin_timeout)) * NSEC_PER_SEC;
                tcp_time_wait(sk, TCP_FIN_WAIT2, tmo);
                replaced = true;
            }
        }
        if (!replaced && sk->sk_state == TCP_CLOSE) inet_csk_destroy_sock(sk);
    }
    release_sock(sk);
    sock_put(sk);  // the reference taken above; the sock's own goes when the connection is destroyed
}

static void tcp_shutdown(struct sock* sk, int how) {
    trace_scope ts("tcp_shutdown", "how=%d", how);
    if (!(how & SEND_SHUTDOWN)) return;
    if ((1 << sk->sk_state) & (TCPF_ESTABLISHED | TCPF_SYN_SENT | TCPF_SYN_RECV | TCPF_CLOSE_WAIT))
        if (tcp_close_state(sk)) tcp_send_fin(sk);
}

static bool tcp_need_reset(int state) {
    return (1 << state) & (TCPF_ESTABLISHED | TCPF_CLOSE_WAIT | TCPF_FIN_WAIT1 | TCPF_FIN_WAIT2 | TCPF_SYN_RECV);
}

// connect(AF_UNSPEC), SO_LINGER 0, shutdown of a connect in progress: abort whatever there was
// (RST if the peer knows of the connection) and return to CLOSE, unbound from the peer.
int tcp_disconnect(struct sock* sk, int flags) {
    trace_scope ts("tcp_disconnect");
    (void)flags;
    tcp_sock* tp = tcp_sk(sk);
    int old_state = sk->sk_state;
    if (old_state != TCP_CLOSE) tcp_set_state(sk, TCP_CLOSE);
    if (old_state == TCP_LISTEN) {
        inet_csk_listen_stop(sk);
    } else if (tcp_need_reset(old_state) || (tp->snd_nxt != tp->write_seq && (1 << old_state) & (TCPF_CLOSING | TCPF_LAST_ACK))) {
        tcp_send_active_reset(sk);
        sk->sk_err = ECONNRESET;
    } else if (old_state == TCP_SYN_SENT) {
        sk->sk_err = ECONNRESET;
    }
    tcp_clear_xmit_timers(sk);
    skb_queue_purge(&sk->sk_receive_queue);
    tcp_write_queue_purge(sk);
    skb_queue_purge(&tp->out_of_order_queue);
    inet_unhash_established(sk);
    inet_sock* inet = inet_sk(sk);
    inet->inet_dport = 0;
    inet->inet_daddr = 0;
    if (!(sk->sk_userlocks & SOCK_BINDADDR_LOCK)) inet->inet_rcv_saddr = inet->inet_saddr = 0;
    // The port was let go when the state became CLOSE (unless bind() chose it); inet_sport keeps
    // its old value, which getsockname still shows, as in Linux.
    sk->sk_shutdown = 0;
    sk->sk_done = false;
    tp->srtt_us = 0;
    tp->mdev_us = 1000000;
    tp->write_seq += tp->max_window + 2;
    if (!tp->write_seq) tp->write_seq = 1;
    tp->snd_cwnd = TCP_INIT_CWND;
    tp->snd_ssthresh = 0x7fffffff;
    tp->icsk_backoff = tp->icsk_probes_out = tp->icsk_retransmits = 0;
    tp->icsk_rto = static_cast<u32>(TCP_TIMEOUT_INIT());
    tp->icsk_ca_state = TCP_CA_Open;
    tp->dupacks = 0;
    sk->sk_error_report(sk);
    return ts.ret(0);
}

// ---- options ----

struct tcp_info {
    u8 tcpi_state, tcpi_ca_state, tcpi_retransmits, tcpi_probes, tcpi_backoff, tcpi_options, tcpi_snd_rcv_wscale, tcpi_flags;
    u32 tcpi_rto, tcpi_ato, tcpi_snd_mss, tcpi_rcv_mss;
    u32 tcpi_unacked, tcpi_sacked, tcpi_lost, tcpi_retrans, tcpi_fackets;
    u32 tcpi_last_data_sent, tcpi_last_ack_sent, tcpi_last_data_recv, tcpi_last_ack_recv;
    u32 tcpi_pmtu, tcpi_rcv_ssthresh, tcpi_rtt, tcpi_rttvar, tcpi_snd_ssthresh, tcpi_snd_cwnd, tcpi_advmss, tcpi_reordering;
    u32 tcpi_rcv_rtt, tcpi_rcv_space;
    u32 tcpi_total_retrans;
    u64 tcpi_pacing_rate, tcpi_max_pacing_rate, tcpi_bytes_acked, tcpi_bytes_received;
    u32 tcpi_segs_out, tcpi_segs_in;
    u32 tcpi_notsent_bytes, tcpi_min_rtt, tcpi_data_segs_in, tcpi_data_segs_out;
    u64 tcpi_delivery_rate, tcpi_busy_time, tcpi_rwnd_limited, tcpi_sndbuf_limited;
    u32 tcpi_delivered, tcpi_delivered_ce;
    u64 tcpi_bytes_sent, tcpi_bytes_retrans;
    u32 tcpi_dsack_dups, tcpi_reord_seen, tcpi_rcv_ooopack, tcpi_snd_wnd;
};
enum : u8 { TCPI_OPT_WSCALE = 4 };

static void tcp_get_info(struct sock* sk, tcp_info* info) {
    std::memset(info, 0, sizeof *info);
    info->tcpi_state = static_cast<u8>(sk->sk_state);
    if (!sk_is_tcp(sk)) return;
    tcp_sock* tp = tcp_sk(sk);
    unsigned hz = static_cast<unsigned>(this_kernel->cfg.hz);
    auto jiffies_to_usecs = [hz](u64 j) { return static_cast<u32>(j * 1000000 / hz); };
    info->tcpi_ca_state = tp->icsk_ca_state;
    info->tcpi_retransmits = tp->icsk_retransmits;
    info->tcpi_probes = tp->icsk_probes_out;
    info->tcpi_backoff = tp->icsk_backoff;
    if (tp->wscale_ok) {
        info->tcpi_options |= TCPI_OPT_WSCALE;
        info->tcpi_snd_rcv_wscale = static_cast<u8>(tp->snd_wscale | tp->rcv_wscale << 4);
    }
    info->tcpi_rto = jiffies_to_usecs(tp->icsk_rto);
    info->tcpi_ato = jiffies_to_usecs(tp->icsk_ack.ato);
    info->tcpi_snd_mss = tp->mss_cache;
    info->tcpi_rcv_mss = tp->icsk_ack.rcv_mss;
    info->tcpi_unacked = tp->packets_out;
    info->tcpi_lost = tp->lost_out;
    info->tcpi_retrans = tp->retrans_out;
    info->tcpi_pmtu = tp->mss_cache + 40;
    info->tcpi_rcv_ssthresh = tp->rcv_ssthresh;
    info->tcpi_rtt = tp->srtt_us >> 3;
    info->tcpi_rttvar = tp->mdev_us >> 2;
    info->tcpi_snd_ssthresh = tp->snd_ssthresh;
    info->tcpi_snd_cwnd = tp->snd_cwnd;
    info->tcpi_advmss = tp->advmss;
    info->tcpi_reordering = 3;
    info->tcpi_rcv_space = tp->rcv_wnd;
    info->tcpi_total_retrans = tp->total_retrans;
    info->tcpi_bytes_acked = tp->bytes_acked;
    info->tcpi_bytes_received = tp->bytes_received;
    info->tcpi_segs_out = static_cast<u32>(tp->segs_out);
    info->tcpi_segs_in = static_cast<u32>(tp->segs_in);
    info->tcpi_notsent_bytes = tp->write_seq - tp->snd_nxt;
    info->tcpi_data_segs_in = static_cast<u32>(tp->data_segs_in);
    info->tcpi_data_segs_out = static_cast<u32>(tp->data_segs_out);
    info->tcpi_delivered = tp->delivered;
    info->tcpi_snd_wnd = tp->snd_wnd;
}

static int do_tcp_setsockopt(struct sock* sk, int optname, const char __user* optval, unsigned int optlen);

static int tcp_setsockopt(struct sock* sk, int level, int optname, const char __user* optval, unsigned int optlen) {
    trace_scope ts("tcp_setsockopt", "optname=%d", optname);
    if (level != SOL_TCP) return ts.ret(ip_setsockopt(sk, level, optname, optval, optlen));
    lock_sock(sk);
    int err = do_tcp_setsockopt(sk, optname, optval, optlen);
    release_sock(sk);
    return ts.ret(err);
}

static int do_tcp_setsockopt(struct sock* sk, int optname, const char __user* optval, unsigned int optlen) {
    trace_scope ts("do_tcp_setsockopt", "optname=%d", optname);
    tcp_sock* tp = tcp_sk(sk);
    if (optname == TCP_CONGESTION) {
        char name[16] = {};
        if (optlen < 1) return ts.ret(-EINVAL);
        if (copy_from_user(name, optval, std::min<unsigned>(optlen, sizeof name - 1))) return ts.ret(-EFAULT);
        return ts.ret(tcp_set_congestion_control(sk, name));
    }
    if (optlen < sizeof(int)) return ts.ret(-EINVAL);
    int val;
    if (copy_from_user(&val, optval, sizeof val)) return ts.ret(-EFAULT);
    switch (optname) {
    case TCP_NODELAY:
        if (val) {
            tp->nonagle |= TCP_NAGLE_OFF | TCP_NAGLE_PUSH;
            __tcp_push_pending_frames(sk, tcp_current_mss(sk), tp->nonagle);  // tcp_push_pending_frames
        } else {
            tp->nonagle &= static_cast<u8>(~TCP_NAGLE_OFF);
        }
        return ts.ret(0);
    case TCP_CORK:
        if (val) {
            tp->nonagle |= TCP_NAGLE_CORK;
        } else {
            tp->nonagle &= static_cast<u8>(~TCP_NAGLE_CORK);
            if (tp->nonagle & TCP_NAGLE_OFF) tp->nonagle |= TCP_NAGLE_PUSH;
            __tcp_push_pending_frames(sk, tcp_current_mss(sk), tp->nonagle);
        }
        return ts.ret(0);
    case TCP_MAXSEG:
        if (val && (val < 88 || val > 32767)) return ts.ret(-EINVAL);  // TCP_MIN_MSS .. MAX_TCP_WINDOW
        tp->user_mss = static_cast<u16>(val);
        return ts.ret(0);
    case TCP_KEEPIDLE:
        if (val < 1 || val > 32767) return ts.ret(-EINVAL);
        tp->keepalive_time = static_cast<u32>(val) * static_cast<u32>(this_kernel->cfg.hz);
        if (sk->sk_keepopen && !((1 << sk->sk_state) & (TCPF_CLOSE | TCPF_LISTEN))) tcp_reset_keepalive_timer(sk, tp->keepalive_time);
        return ts.ret(0);
    case TCP_KEEPINTVL:
        if (val < 1 || val > 32767) return ts.ret(-EINVAL);
        tp->keepalive_intvl = static_cast<u32>(val) * static_cast<u32>(this_kernel->cfg.hz);
        return ts.ret(0);
    case TCP_KEEPCNT:
        if (val < 1 || val > 127) return ts.ret(-EINVAL);
        tp->keepalive_probes = static_cast<u8>(val);
        return ts.ret(0);
    case TCP_QUICKACK:
        if (val) {
            tp->icsk_ack.pingpong = false;
            if (tp->icsk_ack.pending & ICSK_ACK_SCHED) tcp_send_ack(sk);
        } else {
            tp->icsk_ack.pingpong = true;
        }
        return ts.ret(0);
    default:
        return ts.ret(-ENOPROTOOPT);
    }
}

static int tcp_getsockopt(struct sock* sk, int level, int optname, char __user* optval, int __user* optlen) {
    trace_scope ts("tcp_getsockopt", "optname=%d", optname);
    if (level != SOL_TCP) return ts.ret(ip_getsockopt(sk, level, optname, optval, optlen));
    tcp_sock* tp = tcp_sk(sk);  // read without the socket lock, as Linux reads most of these
    int len;
    if (get_user(len, optlen)) return ts.ret(-EFAULT);
    if (len < 0) return ts.ret(-EINVAL);
    if (optname == TCP_INFO) {
        tcp_info info;
        tcp_get_info(sk, &info);
        len = std::min<int>(len, sizeof info);
        if (put_user(len, optlen)) return ts.ret(-EFAULT);
        if (copy_to_user(optval, &info, static_cast<unsigned long>(len))) return ts.ret(-EFAULT);
        return ts.ret(0);
    }
    if (optname == TCP_CONGESTION) {
        char name[16] = {};
        std::strncpy(name, tp->icsk_ca_ops ? tp->icsk_ca_ops->name : "", sizeof name - 1);
        len = std::min<int>(len, sizeof name);
        if (put_user(len, optlen)) return ts.ret(-EFAULT);
        if (copy_to_user(optval, name, static_cast<unsigned long>(len))) return ts.ret(-EFAULT);
        return ts.ret(0);
    }
    unsigned hz = static_cast<unsigned>(this_kernel->cfg.hz);
    tcp_net* tn = tcp_net_of(sock_net(sk));
    int val;
    switch (optname) {
    case TCP_NODELAY: val = !!(tp->nonagle & TCP_NAGLE_OFF); break;
    case TCP_CORK: val = !!(tp->nonagle & TCP_NAGLE_CORK); break;
    case TCP_MAXSEG:
        val = static_cast<int>(tp->mss_cache);
        if (tp->user_mss && ((1 << sk->sk_state) & (TCPF_CLOSE | TCPF_LISTEN))) val = tp->user_mss;
        break;
    case TCP_KEEPIDLE: val = static_cast<int>((tp->keepalive_time ? tp->keepalive_time : tn->tcp_keepalive_time * hz) / hz); break;
    case TCP_KEEPINTVL: val = static_cast<int>((tp->keepalive_intvl ? tp->keepalive_intvl : tn->tcp_keepalive_intvl * hz) / hz); break;
    case TCP_KEEPCNT: val = tp->keepalive_probes ? tp->keepalive_probes : tn->tcp_keepalive_probes; break;
    case TCP_QUICKACK: val = !tp->icsk_ack.pingpong; break;
    default: return ts.ret(-ENOPROTOOPT);
    }
    len = std::min<int>(len, sizeof(int));
    if (put_user(len, optlen)) return ts.ret(-EFAULT);
    if (copy_to_user(optval, &val, static_cast<unsigned long>(len))) return ts.ret(-EFAULT);
    return ts.ret(0);
}

static int tcp_hash(struct sock* sk) { return inet_hash(sk); }

void tcp_write_timer_handler(struct sock* sk);
void tcp_delack_timer_handler(struct sock* sk);

// Timers that fired while a process held the socket did nothing but leave a flag; their work is
// done here, at release_sock (tcp_release_cb).
static void tcp_release_cb(struct sock* sk) {
    unsigned long flags = sk->sk_tsq_flags;
    if (!flags) return;
    sk->sk_tsq_flags = 0;
    if (flags & TCP_WRITE_TIMER_DEFERRED) {
        tcp_write_timer_handler(sk);
        sock_put(sk);
    }
    if (flags & TCP_DELACK_TIMER_DEFERRED) {
        tcp_delack_timer_handler(sk);
        sock_put(sk);
    }
}

static void tcp_v4_init_sock(struct sock* sk) {
    tcp_init_sock(sk);
    sk->sk_write_space = sk_stream_write_space;
}

void tcp_sock_init_callbacks(struct sock* sk) {
    sk->sk_backlog_rcv = tcp_v4_do_rcv;
    sk->sk_release_cb = tcp_release_cb;
}

proto tcp_prot = {
    .close = tcp_close,
    .connect = tcp_v4_connect,
    .disconnect = tcp_disconnect,
    .setsockopt = tcp_setsockopt,
    .getsockopt = tcp_getsockopt,
    .sendmsg = tcp_sendmsg,
    .recvmsg = tcp_recvmsg,
    .bind = nullptr,
    .hash = tcp_hash,
    .unhash = inet_unhash,
    .get_port = inet_csk_get_port,
    .no_autobind = true,  // sending on an unconnected stream socket is EPIPE, not an autobind
    .name = "TCP",
    .accept = inet_csk_accept,
    .shutdown = tcp_shutdown,
    .sk_prot_alloc = tcp_sk_alloc,
    .init = tcp_v4_init_sock,
};

}  // namespace gk
