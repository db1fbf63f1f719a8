// Models net/ipv4/ip_sockglue.c (v6.1): the SOL_IP socket options (IP_TOS, IP_TTL, IP_HDRINCL).
#include "glasskernel/linux.h"
#include "glasskernel/net/ip.h"

namespace gk {

// An int option may come as an int or as one byte; no bytes at all means 0.
static int do_ip_setsockopt(struct sock* sk, int level, int optname, const char __user* optval, unsigned int optlen) {
    (void)level;
    inet_sock* inet = inet_sk(sk);
    int val = 0;
    if (optlen >= sizeof(int)) {
        if (copy_from_user(&val, optval, sizeof val)) return -EFAULT;
    } else if (optlen >= sizeof(char)) {
        unsigned char ucval;
        if (copy_from_user(&ucval, optval, sizeof ucval)) return -EFAULT;
        val = ucval;
    }
    switch (optname) {
    case IP_TOS:  // __ip_sock_set_tos; a stream socket keeps its ECN bits
        if (sk->sk_type == SOCK_STREAM) val = (val & ~INET_ECN_MASK) | (inet->tos & INET_ECN_MASK);
        inet->tos = static_cast<u8>(val);
        return 0;
    case IP_TTL:
        if (optlen < 1) return -EINVAL;
        if (val != -1 && (val < 1 || val > 255)) return -EINVAL;
        inet->uc_ttl = val;
        return 0;
    case IP_HDRINCL:
        if (sk->sk_type != SOCK_RAW) return -ENOPROTOOPT;
        inet->hdrincl = val != 0;
        return 0;
    default:
        return -ENOPROTOOPT;
    }
}

int ip_setsockopt(struct sock* sk, int level, int optname, const char __user* optval, unsigned int optlen) {
    trace_scope ts("ip_setsockopt", "optname=%d", optname);
    if (level != SOL_IP) return ts.ret(-ENOPROTOOPT);
    return ts.ret(do_ip_setsockopt(sk, level, optname, optval, optlen));
}

// A value that fits a byte is returned as one byte when the caller offers less than an int.
static int do_ip_getsockopt(struct sock* sk, int level, int optname, char __user* optval, int __user* optlen) {
    inet_sock* inet = inet_sk(sk);
    if (level != SOL_IP) return -EOPNOTSUPP;
    int len;
    if (get_user(len, optlen)) return -EFAULT;
    if (len < 0) return -EINVAL;
    int val;
    switch (optname) {
    case IP_TOS:
        val = inet->tos;
        break;
    case IP_TTL:
        val = inet->uc_ttl < 0 ? sock_net(sk)->ip_default_ttl : inet->uc_ttl;
        break;
    case IP_HDRINCL:
        val = inet->hdrincl;
        break;
    default:
        return -ENOPROTOOPT;
    }
    if (len < static_cast<int>(sizeof(int)) && len > 0 && val >= 0 && val <= 255) {
        unsigned char ucval = static_cast<unsigned char>(val);
        len = 1;
        if (put_user(len, optlen)) return -EFAULT;
        if (copy_to_user(optval, &ucval, 1)) return -EFAULT;
    } else {
        len = std::min(static_cast<int>(sizeof(int)), len);
        if (put_user(len, optlen)) return -EFAULT;
        if (copy_to_user(optval, &val, static_cast<unsigned long>(len))) return -EFAULT;
    }
    return 0;
}

int ip_getsockopt(struct sock* sk, int level, int optname, char __user* optval, int __user* optlen) {
    trace_scope ts("ip_getsockopt", "optname=%d", optname);
    return ts.ret(do_ip_getsockopt(sk, level, optname, optval, optlen));
}

}  // namespace gk
