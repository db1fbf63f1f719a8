// Models net/ipv4/inet_connection_sock.c and inet_hashtables.c (v6.1): the bind table (which
// ports are taken, and when SO_REUSEADDR / SO_REUSEPORT let two sockets share one), the
// listening and established hashes, listen (inet_csk_listen_start), the accept queue and
// accept(2)'s wait (inet_csk_accept), and the end of a connection socket (inet_csk_destroy_sock).
#include "glasskernel/eventpoll.h"
#include "glasskernel/linux.h"
#include "glasskernel/net/tcp.h"

namespace gk {

// inet_bind_conflict + inet_rcv_saddr_equal: two sockets on one port clash unless their local
// addresses differ (0 matches everything), both set SO_REUSEADDR and the other is not listening,
// or both set SO_REUSEPORT and the other is in TIME_WAIT or belongs to the same user.
static bool inet_bind_conflict(struct sock* sk, inet_sock* sk2) {
    if (sk == sk2) return false;
    u32 a = inet_sk(sk)->inet_rcv_saddr, b = sk2->inet_rcv_saddr;
    if (a && b && a != b) return false;
    if (sk->sk_reuse && sk2->sk_reuse && sk2->sk_state != TCP_LISTEN) return false;
    if (sk->sk_reuseport && sk2->sk_reuseport && (sk2->sk_state == TCP_TIME_WAIT || sk->uid == sk2->uid)) return false;
    return true;
}

void inet_bind_hash(struct sock* sk, u16 port) {
    inet_sk(sk)->inet_num = port;
    sock_net(sk)->tcp_bhash.emplace(port, inet_sk(sk));
    sock_hold(sk);
}

// A port for bind() or, with snum 0, an ephemeral one (the first free in ip_local_port_range).
int inet_csk_get_port(struct sock* sk, unsigned short snum) {
    trace_scope ts("inet_csk_get_port", "snum=%u", snum);
    net* n = sock_net(sk);
    auto owners = [&](u16 port, bool any) {
        auto r = n->tcp_bhash.equal_range(port);
        for (auto it = r.first; it != r.second; ++it)
            if (it->second != sk && (any || inet_bind_conflict(sk, it->second))) return true;
        return false;
    };
    // Listening after bind() asks for the same port again: the check is made anew (a second
    // SO_REUSEADDR socket may not listen where one already listens), but the bucket is kept.
    bool rebind = sk->hashed && snum && snum == inet_sk(sk)->inet_num;
    if (!snum) {
        for (int p = n->ip_local_port_range[0]; p <= n->ip_local_port_range[1]; p++)
            if (!owners(static_cast<u16>(p), true)) {
                snum = static_cast<u16>(p);
                break;
            }
        if (!snum) return ts.ret(1);
    } else if (owners(snum, false)) {
        return ts.ret(1);
    }
    if (rebind) return ts.ret(0);
    inet_bind_hash(sk, snum);
    sk->hashed = true;
    return ts.ret(0);
}

// The bind bucket lets the port go (inet_put_port).
void inet_put_port(struct sock* sk) {
    if (!sk->hashed) return;
    net* n = sock_net(sk);
    auto r = n->tcp_bhash.equal_range(inet_sk(sk)->inet_num);
    for (auto it = r.first; it != r.second; ++it)
        if (it->second == sk) {
            n->tcp_bhash.erase(it);
            break;
        }
    sk->hashed = false;
    inet_sk(sk)->inet_num = 0;  // __inet_put_port: inet_sport is left as it was
    sock_put(sk);
}

// The listening hash: where a SYN finds its listener.
int inet_hash(struct sock* sk) {
    trace_scope ts("inet_hash");
    if (sk->sk_state == TCP_LISTEN) {
        tcp_net_of(sock_net(sk))->hashinfo.lhash.emplace(inet_sk(sk)->inet_num, tcp_sk(sk));
        sock_hold(sk);
    }
    return ts.ret(0);
}

void inet_unhash(struct sock* sk) {
    trace_scope ts("inet_unhash");
    tcp_hashinfo& h = tcp_net_of(sock_net(sk))->hashinfo;
    auto r = h.lhash.equal_range(inet_sk(sk)->inet_num);
    for (auto it = r.first; it != r.second; ++it)
        if (it->second == sk) {
            h.lhash.erase(it);
            sock_put(sk);
            return;
        }
    inet_unhash_established(sk);
}

int inet_csk_listen_start(struct sock* sk) {
    trace_scope ts("inet_csk_listen_start");
    inet_sock* inet = inet_sk(sk);
    sk->sk_ack_backlog = 0;
    tcp_set_state(sk, TCP_LISTEN);
    if (!sk->sk_prot->get_port(sk, inet->inet_num)) {
        inet->inet_sport = inet->inet_num;
        return ts.ret(sk->sk_prot->hash(sk));
    }
    tcp_set_state(sk, TCP_CLOSE);
    return ts.ret(-EADDRINUSE);
}

void inet_csk_reqsk_queue_drop(tcp_sock* listener, request_sock* req) {
    del_timer(&req->rsk_timer);
    for (auto it = listener->syn_queue.begin(); it != listener->syn_queue.end(); ++it)
        if (it->get() == req) {
            listener->syn_queue.erase(it);
            return;
        }
}

// Closing a listener: half-open requests are dropped; children nobody accepted are reset and
// closed, as if their own socket had been (inet_child_forget).
void inet_csk_listen_stop(struct sock* sk) {
    trace_scope ts("inet_csk_listen_stop");
    tcp_sock* tp = tcp_sk(sk);
    while (!tp->accept_queue.empty()) {
        request_sock* req = tp->accept_queue.front();
        tp->accept_queue.pop_front();
        struct sock* child = req->sk;
        sk->sk_ack_backlog--;
        inet_csk_reqsk_queue_drop(tp, req);  // frees req
        sock_orphan(child);
        if (child->sk_state != TCP_CLOSE) {
            tcp_send_active_reset(child);
            tcp_set_state(child, TCP_CLOSE);
        }
        inet_csk_destroy_sock(child);
    }
    while (!tp->syn_queue.empty()) inet_csk_reqsk_queue_drop(tp, tp->syn_queue.front().get());
}

// inet_csk_wait_for_connect: one exclusive sleeper per connection, so that a burst of
// connections wakes accept()ors one at a time.
static int inet_csk_wait_for_connect(struct sock* sk, long timeo) {
    trace_scope ts("inet_csk_wait_for_connect");
    tcp_sock* tp = tcp_sk(sk);
    int err;
    for (;;) {
        wait_queue_entry wait;
        init_wait_entry(&wait, 0);
        prepare_to_wait_exclusive(&sk->sk_wq->wait, &wait, TASK_INTERRUPTIBLE);
        release_sock(sk);
        if (tp->accept_queue.empty()) timeo = schedule_timeout(timeo);
        lock_sock(sk);
        finish_wait(&sk->sk_wq->wait, &wait);
        err = 0;
        if (!tp->accept_queue.empty()) break;
        err = -EINVAL;
        if (sk->sk_state != TCP_LISTEN) break;
        err = sock_intr_errno(timeo);
        if (signal_pending(current)) break;
        err = -EAGAIN;
        if (!timeo) break;
    }
    return ts.ret(err);
}

struct sock* inet_csk_accept(struct sock* sk, int flags, int* err, bool kern) {
    trace_scope ts("inet_csk_accept");
    (void)kern;
    tcp_sock* tp = tcp_sk(sk);
    lock_sock(sk);
    *err = -EINVAL;
    if (sk->sk_state != TCP_LISTEN) {
        release_sock(sk);
        return nullptr;
    }
    if (tp->accept_queue.empty()) {
        long timeo = sock_rcvtimeo(sk, flags & O_NONBLOCK);
        *err = -EAGAIN;
        if (timeo) *err = inet_csk_wait_for_connect(sk, timeo);
        if (*err) {
            release_sock(sk);
            return nullptr;
        }
    }
    request_sock* req = tp->accept_queue.front();  // reqsk_queue_remove
    tp->accept_queue.pop_front();
    sk->sk_ack_backlog--;
    struct sock* newsk = req->sk;
    inet_csk_reqsk_queue_drop(tp, req);
    release_sock(sk);
    *err = 0;
    return newsk;
}

// The socket is gone and so is the connection: stop its timers, free its queues, leave the
// tables. The last reference then frees it.
void inet_csk_destroy_sock(struct sock* sk) {
    trace_scope ts("inet_csk_destroy_sock");
    tcp_clear_xmit_timers(sk);
    sk_stop_timer(sk, &tcp_sk(sk)->sk_timer);
    tcp_write_queue_purge(sk);
    skb_queue_purge(&tcp_sk(sk)->out_of_order_queue);
    skb_queue_purge(&sk->sk_receive_queue);
    sk->sk_prot->unhash(sk);
    inet_put_port(sk);
    sock_put(sk);  // the sock's own reference, which sk_alloc gave the connection
}

}  // namespace gk
