// Models include/linux/net.h and include/net/sock.h, inet_sock.h, protocol.h (v6.1): the BSD socket
// (struct socket with its proto_ops) and the network-layer sock (struct sock with its proto), the
// address families (net_proto_family), inet's protocol switch (inet_protosw) and the receive-side
// protocol table (net_protocol).
#pragma once
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "glasskernel/fs.h"
#include "glasskernel/net/skbuff.h"
#include "glasskernel/uapi/socket.h"
#include "glasskernel/uio.h"
#include "glasskernel/wait.h"

namespace gk {

struct socket;
struct sock;
struct file;
struct net;

constexpr int AF_UNSPEC = 0, AF_UNIX = 1, AF_INET = 2, AF_INET6 = 10, AF_PACKET = 17, NPROTO = 46;
constexpr int SOCK_STREAM = 1, SOCK_DGRAM = 2, SOCK_RAW = 3, SOCK_SEQPACKET = 5, SOCK_MAX = 11, SOCK_TYPE_MASK = 0xf;
constexpr int SOCK_NONBLOCK = 04000, SOCK_CLOEXEC = 02000000;
constexpr int IPPROTO_IP = 0, IPPROTO_ICMP = 1, IPPROTO_TCP = 6, IPPROTO_UDP = 17, IPPROTO_RAW = 255, IPPROTO_MPTCP = 262,
              IPPROTO_MAX = 263;
constexpr int MSG_OOB = 1, MSG_PEEK = 2, MSG_DONTROUTE = 4, MSG_CTRUNC = 8, MSG_TRUNC = 0x20, MSG_DONTWAIT = 0x40,
              MSG_EOR = 0x80, MSG_WAITALL = 0x100, MSG_NOSIGNAL = 0x4000, MSG_MORE = 0x8000, MSG_CMSG_CLOEXEC = 0x40000000;
constexpr int SOL_SOCKET = 1, SO_REUSEADDR = 2, SO_TYPE = 3, SO_ERROR = 4, SO_BROADCAST = 6, SO_SNDBUF = 7, SO_RCVBUF = 8,
              SO_KEEPALIVE = 9, SO_LINGER = 13, SO_REUSEPORT = 15, SO_RCVLOWAT = 18, SO_RCVTIMEO_OLD = 20,
              SO_SNDTIMEO_OLD = 21, SO_ACCEPTCONN = 30, SO_PROTOCOL = 38, SO_DOMAIN = 39;
constexpr int SOL_TCP = 6, TCP_NODELAY = 1, TCP_MAXSEG = 2, TCP_CORK = 3, TCP_KEEPIDLE = 4, TCP_KEEPINTVL = 5,
              TCP_KEEPCNT = 6, TCP_INFO = 11, TCP_QUICKACK = 12, TCP_CONGESTION = 13;
constexpr int SOL_IP = 0, IP_TOS = 1, IP_TTL = 2, IP_HDRINCL = 3;
constexpr int SOL_UDP = 17, SOL_UDPLITE = 136;
constexpr int INET_ECN_MASK = 3;
constexpr int SHUT_RD = 0, SHUT_WR = 1, SHUT_RDWR = 2;
constexpr int RCV_SHUTDOWN = 1, SEND_SHUTDOWN = 2;
constexpr int SOCK_BINDADDR_LOCK = 4, SOCK_BINDPORT_LOCK = 8;
constexpr int SK_MEM_DEFAULT = 212992, SOCK_MIN_RCVBUF = 2304, SOCK_MIN_SNDBUF = 4608, SYSCTL_MEM_MAX = 212992;

enum socket_state { SS_FREE = 0, SS_UNCONNECTED, SS_CONNECTING, SS_CONNECTED, SS_DISCONNECTING };
// sk_state uses TCP's numbers for every protocol (include/net/tcp_states.h).
enum {
    TCP_ESTABLISHED = 1, TCP_SYN_SENT, TCP_SYN_RECV, TCP_FIN_WAIT1, TCP_FIN_WAIT2, TCP_TIME_WAIT, TCP_CLOSE,
    TCP_CLOSE_WAIT, TCP_LAST_ACK, TCP_LISTEN, TCP_CLOSING, TCP_NEW_SYN_RECV, TCP_MAX_STATES
};
enum {
    TCPF_ESTABLISHED = 1 << TCP_ESTABLISHED, TCPF_SYN_SENT = 1 << TCP_SYN_SENT, TCPF_SYN_RECV = 1 << TCP_SYN_RECV,
    TCPF_FIN_WAIT1 = 1 << TCP_FIN_WAIT1, TCPF_FIN_WAIT2 = 1 << TCP_FIN_WAIT2, TCPF_TIME_WAIT = 1 << TCP_TIME_WAIT,
    TCPF_CLOSE = 1 << TCP_CLOSE, TCPF_CLOSE_WAIT = 1 << TCP_CLOSE_WAIT, TCPF_LAST_ACK = 1 << TCP_LAST_ACK,
    TCPF_LISTEN = 1 << TCP_LISTEN, TCPF_CLOSING = 1 << TCP_CLOSING,
};
extern const char* const tcp_state_names[TCP_MAX_STATES];

// include/linux/socket.h: what a send or receive carries through the layers. msg_name points at
// a kernel copy of the address (move_addr_to_kernel); msg_iter over the data.
struct msghdr {
    void* msg_name = nullptr;
    int msg_namelen = 0;
    iov_iter msg_iter;
    unsigned int msg_flags = 0;
};
inline size_t msg_data_left(const msghdr* msg) { return iov_iter_count(&msg->msg_iter); }

// The user's struct msghdr (include/linux/socket.h's user_msghdr).
struct user_msghdr {
    void __user* msg_name;
    int msg_namelen;
    iovec __user* msg_iov;
    size_t msg_iovlen;
    void __user* msg_control;
    size_t msg_controllen;
    unsigned int msg_flags;
};

struct proto_ops {
    int family;
    const char* name;
    int (*release)(socket* sock);
    int (*bind)(socket* sock, struct sockaddr* uaddr, int addr_len);
    int (*connect)(socket* sock, struct sockaddr* uaddr, int addr_len, int flags);
    int (*getname)(socket* sock, struct sockaddr* uaddr, int peer);  // the address's length, or -errno
    unsigned (*poll)(::gk::file* f, socket* sock, poll_table* wait);
    int (*listen)(socket* sock, int backlog);
    int (*shutdown)(socket* sock, int how);
    int (*setsockopt)(socket* sock, int level, int optname, const char __user* optval, unsigned int optlen);
    int (*getsockopt)(socket* sock, int level, int optname, char __user* optval, int __user* optlen);
    int (*sendmsg)(socket* sock, msghdr* m, size_t total_len);
    int (*recvmsg)(socket* sock, msghdr* m, size_t total_len, int flags);
    int (*accept)(socket* sock, socket* newsock, int flags, bool kern) = nullptr;  // nullptr: EOPNOTSUPP
};

struct proto {
    void (*close)(struct sock* sk, long timeout);
    int (*connect)(struct sock* sk, struct sockaddr* uaddr, int addr_len);
    int (*disconnect)(struct sock* sk, int flags);
    int (*setsockopt)(struct sock* sk, int level, int optname, const char __user* optval, unsigned int optlen);
    int (*getsockopt)(struct sock* sk, int level, int optname, char __user* optval, int __user* option);
    int (*sendmsg)(struct sock* sk, msghdr* msg, size_t len);
    int (*recvmsg)(struct sock* sk, msghdr* msg, size_t len, int flags, int* addr_len);
    int (*bind)(struct sock* sk, struct sockaddr* addr, int addr_len);  // raw only
    int (*hash)(struct sock* sk);
    void (*unhash)(struct sock* sk);
    int (*get_port)(struct sock* sk, unsigned short snum);
    bool no_autobind;
    const char* name;
    struct sock* (*accept)(struct sock* sk, int flags, int* err, bool kern) = nullptr;
    void (*shutdown)(struct sock* sk, int how) = nullptr;
    struct sock* (*sk_prot_alloc)() = nullptr;  // the protocol's own sock (tcp_sock); else an inet_sock
    void (*init)(struct sock* sk) = nullptr;     // after sock_init_data (tcp_v4_init_sock)
};

struct net_proto_family {
    int family;
    int (*create)(net* net, socket* sock, int protocol, int kern);
};

enum : unsigned { INET_PROTOSW_REUSE = 0x01, INET_PROTOSW_PERMANENT = 0x02, INET_PROTOSW_ICSK = 0x04 };
struct inet_protosw {
    int type;
    int protocol;
    proto* prot;
    const proto_ops* ops;
    unsigned flags;
};

struct net_protocol {
    const char* name;
    int (*handler)(sk_buff* skb);
    int (*err_handler)(sk_buff* skb, u32 info);
};

struct socket_wq {
    wait_queue_head wait{"sk_wq"};
};

// The BSD layer: what a file descriptor names.
struct socket {
    socket_state state = SS_UNCONNECTED;
    short type = 0;
    unsigned long flags = 0;
    ::gk::file* file = nullptr;
    struct sock* sk = nullptr;
    const proto_ops* ops = nullptr;
    socket_wq wq;
    unsigned long ino = 0;   // sock_alloc's inode number, shown as socket:[ino]
};

struct sock {
    virtual ~sock() = default;
    // sock_common
    int skc_family = AF_INET;
    int sk_state = TCP_CLOSE;
    bool sk_reuse = false;
    bool sk_reuseport = false;
    int sk_bound_dev_if = 0;
    // sock
    int sk_type = 0;
    int sk_protocol = 0;
    proto* sk_prot = nullptr;
    net* sk_net = nullptr;
    int sk_refcnt = 1;                  // sock_hold / sock_put
    int sk_wmem_alloc = 1;              // bytes of sent skbs still alive, + 1 while the sock lives
    int sk_rmem_alloc = 0;              // bytes queued for reading
    int sk_rcvbuf = SK_MEM_DEFAULT, sk_sndbuf = SK_MEM_DEFAULT;
    int sk_err = 0;                     // a pending error (ECONNREFUSED from ICMP)
    int sk_shutdown = 0;
    long sk_rcvtimeo = LONG_MAX, sk_sndtimeo = LONG_MAX;  // in jiffies; MAX_SCHEDULE_TIMEOUT: none
    int sk_rcvlowat = 1;
    int sk_wmem_queued = 0;             // bytes in the write queue (TCP)
    unsigned sk_ack_backlog = 0, sk_max_ack_backlog = 0;
    bool sk_keepopen = false;           // SO_KEEPALIVE (SOCK_KEEPOPEN)
    bool sk_done = false;               // SOCK_DONE: the peer has closed (FIN or RST seen)
    bool sk_linger = false;             // SO_LINGER
    int sk_lingertime = 0;              // in seconds
    int sk_write_pending = 0;           // writers waiting for memory or the connection
    sk_buff_head sk_write_queue;
    // The socket lock's "owned by user" half (sk_lock.owned): a process in a socket call holds it,
    // and segments the softirq receives meanwhile wait on sk_backlog until release_sock.
    bool sk_lock_owned = false;
    wait_queue_head sk_lock_wq{"sk_lock.wq"};
    sk_buff_head sk_backlog;
    int sk_backlog_len = 0;
    int (*sk_backlog_rcv)(struct sock* sk, sk_buff* skb) = nullptr;
    void (*sk_release_cb)(struct sock* sk) = nullptr;  // work deferred while owned (tcp_release_cb)
    unsigned long sk_tsq_flags = 0;
    int sk_userlocks = 0;               // SOCK_BINDADDR_LOCK / SOCK_BINDPORT_LOCK: bind() chose them
    u64 sk_drops = 0;
    bool sk_dead = false;               // SOCK_DEAD: orphaned, no socket above it
    sk_buff_head sk_receive_queue;
    socket* sk_socket = nullptr;
    socket_wq* sk_wq = nullptr;
    void (*sk_data_ready)(struct sock* sk) = nullptr;
    void (*sk_state_change)(struct sock* sk) = nullptr;
    void (*sk_error_report)(struct sock* sk) = nullptr;
    void (*sk_write_space)(struct sock* sk) = nullptr;
    u64 sk_id = 0;                      // for views
    unsigned long ino = 0;
    u32 uid = 0;
    bool hashed = false;
};

// inet_sock: what every AF_INET sock adds. Addresses and ports in host order.
struct inet_sock : sock {
    u32 inet_saddr = 0, inet_rcv_saddr = 0, inet_daddr = 0;
    u16 inet_num = 0, inet_sport = 0, inet_dport = 0;
    int uc_ttl = -1;
    u8 tos = 0;  // IP_TOS: the TOS byte of what this socket sends
    bool hdrincl = false;
    bool recverr = false;
    u16 inet_id = 0;
    bool bcast = false;
    // UDP's counters and the raw socket's ICMP filter are kept here too.
    u64 rx_datagrams = 0, tx_datagrams = 0;
};
inline inet_sock* inet_sk(struct sock* sk) { return static_cast<inet_sock*>(sk); }

socket* SOCKET_I(file* f);
void sock_init_data(socket* sock, struct sock* sk);
struct sock* sk_alloc(net* net, int family, proto* prot, int kern);
void sk_free(struct sock* sk);
int sock_queue_rcv_skb(struct sock* sk, sk_buff* skb);
inline void sock_hold(struct sock* sk) { sk->sk_refcnt++; }
void sock_put(struct sock* sk);
void sock_orphan(struct sock* sk);
void sk_common_release(struct sock* sk);
void sock_def_readable(struct sock* sk);
int sock_error(struct sock* sk);
void skb_set_owner_r(sk_buff* skb, struct sock* sk);
void skb_set_owner_w(sk_buff* skb, struct sock* sk);
long sock_rcvtimeo(const struct sock* sk, bool noblock);
int sock_intr_errno(long timeo);
unsigned datagram_poll(::gk::file* f, socket* sock, poll_table* wait);
sk_buff* __skb_recv_datagram(struct sock* sk, sk_buff_head* queue, int flags, int* off, int* err);
int sock_register(net* net, const net_proto_family* ops);
int sock_sendmsg(socket* sock, msghdr* msg);
int sock_recvmsg(socket* sock, msghdr* msg, int flags);
int sock_setsockopt(socket* sock, int level, int optname, const char __user* optval, unsigned int optlen);
int sock_getsockopt(socket* sock, int level, int optname, char __user* optval, int __user* optlen);
int sock_common_setsockopt(socket* sock, int level, int optname, const char __user* optval, unsigned int optlen);
int sock_common_getsockopt(socket* sock, int level, int optname, char __user* optval, int __user* optlen);
int sock_create_kern(int family, int type, int protocol, socket** res);
int kernel_bind(socket* sock, struct sockaddr* addr, int addrlen);
int kernel_sendmsg(socket* sock, msghdr* msg, void* data, size_t len);
int kernel_recvmsg(socket* sock, msghdr* msg, void* buf, size_t size, int flags);
void sock_release(socket* sock);
void lock_sock(struct sock* sk);
void release_sock(struct sock* sk);
inline bool sock_owned_by_user(const struct sock* sk) { return sk->sk_lock_owned; }
bool sk_add_backlog(struct sock* sk, sk_buff* skb, unsigned limit);
int proto_register(net* net, proto* prot);

}  // namespace gk
