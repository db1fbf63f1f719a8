// Models net/socket.c: the BSD socket layer. socket(2) → __sys_socket → sock_create →
// __sock_create → sock_alloc and the family's create (inet_create), then a file and an fd;
// sockfd_lookup for the other calls (EBADF, ENOTSOCK); bind/connect/sendto/recvfrom/
// getsockname/getpeername/setsockopt/getsockopt/shutdown/listen; read and write on a socket
// (sock_read_iter, sock_write_iter); and the close path, sock_close → __sock_release.
#include <cstring>

#include "glasskernel/syscalls.h"
#include "glasskernel/net/ip.h"

namespace gk {

static long sock_read(file* f, std::string* buf, size_t count);
static long sock_write(file* f, const std::string& buf);
static void sock_close(file* f);
static unsigned sock_poll(file* f, poll_table* wait) {
    socket* sock = static_cast<socket*>(f->private_data);
    return sock->ops->poll(f, sock, wait);
}
static const file_operations socket_file_ops = {"socket", sock_read, sock_write, sock_close, sock_poll};

socket* SOCKET_I(file* f) { return f && f->f_op == &socket_file_ops ? static_cast<socket*>(f->private_data) : nullptr; }

static socket* sock_alloc() {
    trace_scope ts("sock_alloc");
    auto* s = new socket();
    s->ino = kernel_net(this_kernel)->next_ino++;
    return s;
}

static void __sock_release(socket* sock) {
    trace_scope ts("__sock_release");
    if (sock->ops) {
        sock->ops->release(sock);
        sock->ops = nullptr;
    }
    sock->file = nullptr;
    delete sock;
}

static void sock_close(file* f) {
    trace_scope ts("sock_close");
    __sock_release(static_cast<socket*>(f->private_data));
    f->private_data = nullptr;
}

static int __sock_create(int family, int type, int protocol, socket** res, int kern) {
    trace_scope ts("__sock_create", "family=%d type=%d protocol=%d", family, type, protocol);
    if (family < 0 || family >= NPROTO) return ts.ret(-EAFNOSUPPORT);
    if (type < 0 || type >= SOCK_MAX) return ts.ret(-EINVAL);
    net* n = kernel_net(this_kernel);
    const net_proto_family* pf = n->net_families[family];
    if (!pf) return ts.ret(-EAFNOSUPPORT);
    socket* sock = sock_alloc();
    sock->type = static_cast<short>(type);
    int err = pf->create(n, sock, protocol, kern);
    if (err < 0) {
        sock->ops = nullptr;  // create failed: nothing below to release
        delete sock;
        return ts.ret(err);
    }
    *res = sock;
    return ts.ret(0);
}

static int sock_create(int family, int type, int protocol, socket** res) {
    trace_scope ts("sock_create");
    return ts.ret(__sock_create(family, type, protocol, res, 0));
}

// sock_map_fd: a file for the socket, installed at the lowest free descriptor.
static long sock_map_fd(socket* sock, int flags) {
    auto f = std::make_shared<file>();
    f->f_op = &socket_file_ops;
    f->f_flags = O_RDWR | (flags & O_NONBLOCK);
    f->private_data = sock;
    f->name = "socket:[" + std::to_string(sock->ino) + "]";
    sock->file = f.get();
    int fd = fd_install_lowest(current->files.get(), f, flags & O_CLOEXEC, task_rlimit(current, RLIMIT_NOFILE));
    // On failure the file's last reference goes here, which releases the socket.
    return fd;
}

static long __sys_socket(int family, int type, int protocol) {
    trace_scope ts("__sys_socket", "family=%d type=%d protocol=%d", family, type, protocol);
    int flags = type & ~SOCK_TYPE_MASK;
    if (flags & ~(SOCK_CLOEXEC | SOCK_NONBLOCK)) return ts.ret(-EINVAL);
    type &= SOCK_TYPE_MASK;
    socket* sock = nullptr;
    int err = sock_create(family, type, protocol, &sock);
    if (err < 0) return ts.ret(err);
    return ts.ret(sock_map_fd(sock, flags));
}

// The file behind fd, with a reference held for the duration of the call (a close from a task
// sharing the table cannot free it under us), and its socket.
struct sock_fd {
    std::shared_ptr<file> f;
    socket* sock = nullptr;
};
static int sockfd_lookup(long fd, sock_fd* out) {
    files_struct* files = current->files.get();
    if (fd < 0 || fd > INT_MAX || !fget(files, static_cast<int>(fd))) return -EBADF;
    out->f = files->fdt[static_cast<size_t>(fd)].f;
    out->sock = SOCKET_I(out->f.get());
    return out->sock ? 0 : -ENOTSOCK;
}

// move_addr_to_kernel: the user's struct sockaddr_in, parsed.
static int move_addr_to_kernel(const std::string& raw, long ulen, sockaddr_in_k* kaddr) {
    if (ulen < 0 || ulen > 128) return -EINVAL;
    if (ulen == 0) return 0;
    if (static_cast<size_t>(ulen) > raw.size()) return -EFAULT;
    const u8* p = reinterpret_cast<const u8*>(raw.data());
    kaddr->family = ulen >= 2 ? (p[0] | (p[1] << 8)) : AF_UNSPEC;
    kaddr->port = ulen >= 4 ? static_cast<u16>((p[2] << 8) | p[3]) : 0;
    kaddr->addr = ulen >= 8 ? (static_cast<u32>(p[4]) << 24 | static_cast<u32>(p[5]) << 16 | static_cast<u32>(p[6]) << 8 | p[7]) : 0;
    return 0;
}

static void put_addr_to_user(const sockaddr_in_k& a, int len) {
    user_out& out = current->thread.uout;
    out.v[0] = len;
    out.v[1] = a.family;
    out.v[2] = a.port;
    out.v[3] = a.addr;
}

int sock_sendmsg(socket* sock, msghdr_k* msg, size_t len) {
    trace_scope ts("sock_sendmsg", "len=%zu", len);
    trace_scope ns("sock_sendmsg_nosec");
    return ts.ret(ns.ret(sock->ops->sendmsg(sock, msg, len)));
}

int sock_recvmsg(socket* sock, msghdr_k* msg, size_t len, int flags) {
    trace_scope ts("sock_recvmsg", "len=%zu flags=%#x", len, flags);
    trace_scope ns("sock_recvmsg_nosec");
    return ts.ret(ns.ret(sock->ops->recvmsg(sock, msg, len, flags)));
}

static long sock_read(file* f, std::string* buf, size_t count) {
    trace_scope ts("sock_read_iter", "count=%zu", count);
    socket* sock = SOCKET_I(f);
    msghdr_k msg;
    msg.iov = buf;
    int flags = (f->f_flags & O_NONBLOCK) ? MSG_DONTWAIT : 0;
    if (!count) return ts.ret(0);
    return ts.ret(sock_recvmsg(sock, &msg, count, flags));
}

static long sock_write(file* f, const std::string& buf) {
    trace_scope ts("sock_write_iter", "count=%zu", buf.size());
    socket* sock = SOCKET_I(f);
    std::string data = buf;
    msghdr_k msg;
    msg.iov = &data;
    msg.flags = (f->f_flags & O_NONBLOCK) ? MSG_DONTWAIT : 0;
    return ts.ret(sock_sendmsg(sock, &msg, data.size()));
}

// In-kernel users of sockets (sock_create_kern, kernel_bind, kernel_sendmsg, kernel_recvmsg).
int sock_create_kern(int family, int type, int protocol, socket** res) { return __sock_create(family, type, protocol, res, 1); }
int kernel_bind(socket* sock, const sockaddr_in_k* addr) { return sock->ops->bind(sock, addr, 16); }
int kernel_sendmsg(socket* sock, msghdr_k* msg, const std::string& data) {
    std::string buf = data;
    msg->iov = &buf;
    return sock_sendmsg(sock, msg, buf.size());
}
int kernel_recvmsg(socket* sock, msghdr_k* msg, std::string* buf, size_t size, int flags) {
    msg->iov = buf;
    return sock_recvmsg(sock, msg, size, flags);
}
void sock_release(socket* sock) { __sock_release(sock); }

// ---- system calls ----

SYSCALL_DEFINE(socket) {
    if (regs.args[0] < INT_MIN || regs.args[0] > INT_MAX) return -EAFNOSUPPORT;
    return __sys_socket(static_cast<int>(regs.args[0]), static_cast<int>(regs.args[1]), static_cast<int>(regs.args[2]));
}

// args: fd, addrlen; the address in the second buffer.
SYSCALL_DEFINE(bind) {
    trace_scope ts("__sys_bind", "fd=%ld", regs.args[0]);
    sock_fd s;
    int err = sockfd_lookup(regs.args[0], &s);
    if (err) return ts.ret(err);
    sockaddr_in_k addr;
    err = move_addr_to_kernel(regs.data2, regs.args[1], &addr);
    if (err) return ts.ret(err);
    return ts.ret(s.sock->ops->bind(s.sock, &addr, static_cast<int>(regs.args[1])));
}

SYSCALL_DEFINE(connect) {
    trace_scope ts("__sys_connect", "fd=%ld", regs.args[0]);
    sock_fd s;
    int err = sockfd_lookup(regs.args[0], &s);
    if (err) return ts.ret(err);
    sockaddr_in_k addr;
    err = move_addr_to_kernel(regs.data2, regs.args[1], &addr);
    if (err) return ts.ret(err);
    return ts.ret(s.sock->ops->connect(s.sock, &addr, static_cast<int>(regs.args[1]), static_cast<int>(s.f->f_flags)));
}

SYSCALL_DEFINE(listen) {
    sock_fd s;
    int err = sockfd_lookup(regs.args[0], &s);
    if (err) return err;
    return s.sock->ops->listen(s.sock, static_cast<int>(regs.args[1]));
}

// args: fd, flags, addrlen; data the payload, data2 the destination (if addrlen > 0).
SYSCALL_DEFINE(sendto) {
    trace_scope ts("__sys_sendto", "fd=%ld len=%zu", regs.args[0], regs.data.size());
    sock_fd s;
    int err = sockfd_lookup(regs.args[0], &s);
    if (err) return ts.ret(err);
    std::string data = regs.data;
    msghdr_k msg;
    msg.iov = &data;
    if (regs.args[2]) {
        err = move_addr_to_kernel(regs.data2, regs.args[2], &msg.name);
        if (err) return ts.ret(err);
        msg.has_name = true;
    }
    msg.flags = static_cast<int>(regs.args[1]);
    if (s.f->f_flags & O_NONBLOCK) msg.flags |= MSG_DONTWAIT;
    return ts.ret(sock_sendmsg(s.sock, &msg, data.size()));
}

// args: fd, size, flags. The bytes land in the user buffer, the sender's address in v[0..3].
SYSCALL_DEFINE(recvfrom) {
    trace_scope ts("__sys_recvfrom", "fd=%ld size=%ld", regs.args[0], regs.args[1]);
    sock_fd s;
    int err = sockfd_lookup(regs.args[0], &s);
    if (err) return ts.ret(err);
    if (regs.args[1] < 0) return ts.ret(-EINVAL);
    int flags = static_cast<int>(regs.args[2]);
    if (s.f->f_flags & O_NONBLOCK) flags |= MSG_DONTWAIT;
    std::string* buf = &current->thread.uout.data;
    buf->clear();
    msghdr_k msg;
    msg.iov = buf;
    long r = sock_recvmsg(s.sock, &msg, static_cast<size_t>(regs.args[1]), flags);
    if (r >= 0) put_addr_to_user(msg.name, msg.has_name ? 16 : 0);
    current->thread.uout.v[4] = msg.flags;
    return ts.ret(r);
}

static long do_getname(const syscall_regs& regs, int peer) {
    sock_fd s;
    int err = sockfd_lookup(regs.args[0], &s);
    if (err) return err;
    sockaddr_in_k a;
    int len = s.sock->ops->getname(s.sock, &a, peer);
    if (len < 0) return len;
    put_addr_to_user(a, len);
    return 0;
}

SYSCALL_DEFINE(getsockname) { return do_getname(regs, 0); }
SYSCALL_DEFINE(getpeername) { return do_getname(regs, 1); }

// args: fd, level, optname, value (an int option).
SYSCALL_DEFINE(setsockopt) {
    trace_scope ts("__sys_setsockopt", "level=%ld optname=%ld", regs.args[1], regs.args[2]);
    sock_fd s;
    int err = sockfd_lookup(regs.args[0], &s);
    if (err) return ts.ret(err);
    return ts.ret(sock_setsockopt(s.sock, static_cast<int>(regs.args[1]), static_cast<int>(regs.args[2]), regs.args[3]));
}

SYSCALL_DEFINE(getsockopt) {
    sock_fd s;
    int err = sockfd_lookup(regs.args[0], &s);
    if (err) return err;
    long v = 0;
    err = sock_getsockopt(s.sock, static_cast<int>(regs.args[1]), static_cast<int>(regs.args[2]), &v);
    if (err) return err;
    current->thread.uout.v[0] = v;
    return 0;
}

SYSCALL_DEFINE(shutdown) {
    trace_scope ts("__sys_shutdown", "how=%ld", regs.args[1]);
    sock_fd s;
    int err = sockfd_lookup(regs.args[0], &s);
    if (err) return ts.ret(err);
    return ts.ret(s.sock->ops->shutdown(s.sock, static_cast<int>(regs.args[1])));
}

}  // namespace gk
