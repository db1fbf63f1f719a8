// Models net/socket.c (v6.1): the BSD socket layer. socket(2) → __sys_socket → sock_create →
// __sock_create → sock_alloc and the family's create (inet_create), then a file and an fd;
// sockfd_lookup for the other calls (EBADF, ENOTSOCK); bind/connect/sendto/recvfrom/
// getsockname/getpeername/setsockopt/getsockopt/shutdown/listen; read and write on a socket
// (sock_read_iter, sock_write_iter); and the close path, sock_close → __sock_release.
#include <cstring>

#include "glasskernel/net/ip.h"
#include "glasskernel/syscalls.h"

namespace gk {

static long sock_read_iter(kiocb* iocb, iov_iter* to);
static long sock_write_iter(kiocb* iocb, iov_iter* from);
static void sock_close(file* f);
static unsigned sock_poll(file* f, poll_table* wait) {
    socket* sock = static_cast<socket*>(f->private_data);
    return sock->ops->poll(f, sock, wait);
}
static int sock_fasync(int fd, file* filp, int on) { return fasync_helper(fd, filp, on); }
static const file_operations socket_file_ops = {
    .name = "socket",
    .read_iter = sock_read_iter,
    .write_iter = sock_write_iter,
    .release = sock_close,
    .poll = sock_poll,
    .llseek = nullptr,
    .fasync = sock_fasync,
};

socket* SOCKET_I(file* f) { return f && f->f_op == &socket_file_ops ? static_cast<socket*>(f->private_data) : nullptr; }

static socket* sock_alloc() {
    trace_scope ts("sock_alloc");
    auto* s = new socket();
    s->ino = get_next_ino();
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
static int sockfd_lookup_light(int fd, sock_fd* out) {
    trace_scope ts("sockfd_lookup_light", "fd=%d", fd);
    out->f = fd < 0 ? nullptr : fget(current->files.get(), static_cast<unsigned>(fd));
    if (!out->f) return ts.ret(-EBADF);
    out->sock = SOCKET_I(out->f.get());
    return ts.ret(out->sock ? 0 : -ENOTSOCK);
}

// The user's address, copied into kernel memory; a length beyond sockaddr_storage is EINVAL.
static int move_addr_to_kernel(void __user* uaddr, int ulen, sockaddr_storage* kaddr) {
    if (ulen < 0 || static_cast<size_t>(ulen) > sizeof(sockaddr_storage)) return -EINVAL;
    if (ulen == 0) return 0;
    if (copy_from_user(kaddr, uaddr, static_cast<unsigned long>(ulen))) return -EFAULT;
    return 0;
}

// Give user memory the address, cut to the room *ulen says it has; *ulen gets the full length
// ("fromlen shall refer to the value before truncation", POSIX.1g).
static int move_addr_to_user(const sockaddr_storage* kaddr, int klen, void __user* uaddr, int __user* ulen) {
    int len;
    if (get_user(len, ulen)) return -EFAULT;
    if (len > klen) len = klen;
    if (len < 0) return -EINVAL;
    if (len && copy_to_user(uaddr, kaddr, static_cast<unsigned long>(len))) return -EFAULT;
    return put_user(klen, ulen);
}

// The _nosec halves skip the LSM hook (security_socket_sendmsg/recvmsg), of which the model has
// none, and call the protocol family's operation.
static int sock_sendmsg_nosec(socket* sock, msghdr* msg) {
    trace_scope ts("sock_sendmsg_nosec");
    return ts.ret(sock->ops->sendmsg(sock, msg, msg_data_left(msg)));
}

int sock_sendmsg(socket* sock, msghdr* msg) {
    trace_scope ts("sock_sendmsg", "len=%zu", msg_data_left(msg));
    return ts.ret(sock_sendmsg_nosec(sock, msg));
}

static int sock_recvmsg_nosec(socket* sock, msghdr* msg, int flags) {
    trace_scope ts("sock_recvmsg_nosec");
    return ts.ret(sock->ops->recvmsg(sock, msg, msg_data_left(msg), flags));
}

int sock_recvmsg(socket* sock, msghdr* msg, int flags) {
    trace_scope ts("sock_recvmsg", "len=%zu flags=%#x", msg_data_left(msg), flags);
    return ts.ret(sock_recvmsg_nosec(sock, msg, flags));
}

static long sock_read_iter(kiocb* iocb, iov_iter* to) {
    trace_scope ts("sock_read_iter", "count=%zu", iov_iter_count(to));
    file* f = iocb->ki_filp;
    socket* sock = SOCKET_I(f);
    if (!iov_iter_count(to)) return ts.ret(0);  // match SYS5 behaviour
    msghdr msg;
    msg.msg_iter = *to;
    int res = sock_recvmsg(sock, &msg, (f->f_flags & O_NONBLOCK) ? MSG_DONTWAIT : 0);
    *to = msg.msg_iter;
    return ts.ret(res);
}

static long sock_write_iter(kiocb* iocb, iov_iter* from) {
    trace_scope ts("sock_write_iter", "count=%zu", iov_iter_count(from));
    file* f = iocb->ki_filp;
    socket* sock = SOCKET_I(f);
    msghdr msg;
    msg.msg_iter = *from;
    if (f->f_flags & O_NONBLOCK) msg.msg_flags = MSG_DONTWAIT;
    int res = sock_sendmsg(sock, &msg);
    *from = msg.msg_iter;
    return ts.ret(res);
}

// In-kernel users of sockets (sock_create_kern, kernel_bind, kernel_sendmsg, kernel_recvmsg):
// the data is in kernel memory (ITER_KVEC).
int sock_create_kern(int family, int type, int protocol, socket** res) { return __sock_create(family, type, protocol, res, 1); }
int kernel_bind(socket* sock, struct sockaddr* addr, int addrlen) { return sock->ops->bind(sock, addr, addrlen); }
int kernel_sendmsg(socket* sock, msghdr* msg, void* data, size_t len) {
    iov_iter_kvec(&msg->msg_iter, ITER_SOURCE, data, len);
    return sock_sendmsg(sock, msg);
}
int kernel_recvmsg(socket* sock, msghdr* msg, void* buf, size_t size, int flags) {
    iov_iter_kvec(&msg->msg_iter, ITER_DEST, buf, size);
    return sock_recvmsg(sock, msg, flags);
}
void sock_release(socket* sock) { __sock_release(sock); }

// ---- system calls ----

SYSCALL_DEFINE3(socket, int, family, int, type, int, protocol) { return __sys_socket(family, type, protocol); }

int __sys_bind(int fd, struct sockaddr __user* umyaddr, int addrlen) {
    trace_scope ts("__sys_bind", "fd=%d", fd);
    sock_fd s;
    int err = sockfd_lookup_light(fd, &s);
    if (err) return ts.ret(err);
    sockaddr_storage address{};
    err = move_addr_to_kernel(umyaddr, addrlen, &address);
    if (err) return ts.ret(err);
    return ts.ret(s.sock->ops->bind(s.sock, reinterpret_cast<struct sockaddr*>(&address), addrlen));
}

SYSCALL_DEFINE3(bind, int, fd, struct sockaddr __user *, umyaddr, int, addrlen) { return __sys_bind(fd, umyaddr, addrlen); }

// The address is already in kernel memory (io_uring calls this directly in Linux).
static int __sys_connect_file(file* f, sockaddr_storage* address, int addrlen, int file_flags) {
    trace_scope ts("__sys_connect_file");
    socket* sock = SOCKET_I(f);
    if (!sock) return ts.ret(-ENOTSOCK);
    return ts.ret(sock->ops->connect(sock, reinterpret_cast<struct sockaddr*>(address), addrlen, file_flags));
}

// connect looks the descriptor up as a file first: a bad address is EFAULT even on a file that
// is not a socket (ENOTSOCK comes after).
int __sys_connect(int fd, struct sockaddr __user* uservaddr, int addrlen) {
    trace_scope ts("__sys_connect", "fd=%d", fd);
    std::shared_ptr<file> f = fd < 0 ? nullptr : fget(current->files.get(), static_cast<unsigned>(fd));
    if (!f) return ts.ret(-EBADF);
    sockaddr_storage address{};
    int err = move_addr_to_kernel(uservaddr, addrlen, &address);
    if (err) return ts.ret(err);
    return ts.ret(__sys_connect_file(f.get(), &address, addrlen, static_cast<int>(f->f_flags)));
}

SYSCALL_DEFINE3(connect, int, fd, struct sockaddr __user *, uservaddr, int, addrlen) { return __sys_connect(fd, uservaddr, addrlen); }

// A backlog beyond net.core.somaxconn is cut to it.
int __sys_listen(int fd, int backlog) {
    trace_scope ts("__sys_listen", "fd=%d backlog=%d", fd, backlog);
    sock_fd s;
    int err = sockfd_lookup_light(fd, &s);
    if (err) return ts.ret(err);
    int somaxconn = sock_net(s.sock->sk)->somaxconn;
    if (static_cast<unsigned>(backlog) > static_cast<unsigned>(somaxconn)) backlog = somaxconn;
    return ts.ret(s.sock->ops->listen(s.sock, backlog));
}

SYSCALL_DEFINE2(listen, int, fd, int, backlog) { return __sys_listen(fd, backlog); }

// accept4(2) (__sys_accept4 → do_accept): the descriptor is looked up before the flags are
// checked; the new descriptor is reserved before anything else (EMFILE wins over ENOTSOCK), the protocol waits for a connection (inet_accept), the peer's
// address goes to user memory, and only then is the descriptor installed. The listener's
// O_NONBLOCK decides whether accept waits; the new file gets only SOCK_NONBLOCK/SOCK_CLOEXEC.
int __sys_accept4(int fd, struct sockaddr __user* upeer_sockaddr, int __user* upeer_addrlen, int flags) {
    trace_scope ts("__sys_accept4", "fd=%d flags=%#x", fd, flags);
    std::shared_ptr<file> f = fd < 0 ? nullptr : fget(current->files.get(), static_cast<unsigned>(fd));
    if (!f) return ts.ret(-EBADF);
    if (flags & ~(SOCK_CLOEXEC | SOCK_NONBLOCK)) return ts.ret(-EINVAL);
    files_struct* files = current->files.get();
    int newfd = get_unused_fd(files, task_rlimit(current, RLIMIT_NOFILE));
    if (newfd < 0) return ts.ret(newfd);
    // put_unused_fd on every way out but the last.
    struct unused_fd {
        files_struct* files;
        int fd;
        ~unused_fd() {
            if (fd >= 0) put_unused_fd(files, static_cast<unsigned>(fd));
        }
    } reserved{files, newfd};
    socket* sock = SOCKET_I(f.get());
    if (!sock) return ts.ret(-ENOTSOCK);
    if (!sock->ops->accept) return ts.ret(-EOPNOTSUPP);  // sock_no_accept
    socket* newsock = sock_alloc();
    newsock->type = sock->type;
    newsock->ops = sock->ops;
    auto newfile = std::make_shared<file>();
    newfile->f_op = &socket_file_ops;
    newfile->f_flags = O_RDWR | (flags & O_NONBLOCK);
    newfile->private_data = newsock;
    newfile->name = "socket:[" + std::to_string(newsock->ino) + "]";
    newsock->file = newfile.get();
    int err = sock->ops->accept(sock, newsock, static_cast<int>(f->f_flags), false);
    if (err < 0) return ts.ret(err);  // the new file's last reference releases the new socket
    if (upeer_sockaddr) {
        sockaddr_storage address{};
        int len = newsock->ops->getname(newsock, reinterpret_cast<struct sockaddr*>(&address), 2);
        if (len < 0) return ts.ret(-ECONNABORTED);
        err = move_addr_to_user(&address, len, upeer_sockaddr, upeer_addrlen);
        if (err < 0) return ts.ret(err);
    }
    reserved.fd = -1;
    fd_install(files, static_cast<unsigned>(newfd), std::move(newfile), flags & SOCK_CLOEXEC);
    return ts.ret(newfd);
}

SYSCALL_DEFINE4(accept4, int, fd, struct sockaddr __user *, upeer_sockaddr, int __user *, upeer_addrlen, int, flags) {
    return __sys_accept4(fd, upeer_sockaddr, upeer_addrlen, flags);
}

SYSCALL_DEFINE3(accept, int, fd, struct sockaddr __user *, upeer_sockaddr, int __user *, upeer_addrlen) {
    return __sys_accept4(fd, upeer_sockaddr, upeer_addrlen, 0);
}

// The buffer is checked before the descriptor: a bad buffer is EFAULT even on a bad fd.
int __sys_sendto(int fd, void __user* buff, size_t len, unsigned int flags, struct sockaddr __user* addr, int addr_len) {
    trace_scope ts("__sys_sendto", "fd=%d len=%zu", fd, len);
    msghdr msg;
    int err = import_single_range(ITER_SOURCE, buff, len, &msg.msg_iter);
    if (err) return ts.ret(err);
    sock_fd s;
    err = sockfd_lookup_light(fd, &s);
    if (err) return ts.ret(err);
    sockaddr_storage address{};
    if (addr) {
        err = move_addr_to_kernel(addr, addr_len, &address);
        if (err < 0) return ts.ret(err);
        msg.msg_name = &address;
        msg.msg_namelen = addr_len;
    }
    if (s.f->f_flags & O_NONBLOCK) flags |= MSG_DONTWAIT;
    msg.msg_flags = flags;
    return ts.ret(sock_sendmsg(s.sock, &msg));
}

SYSCALL_DEFINE6(sendto, int, fd, void __user *, buff, size_t, len, unsigned int, flags, struct sockaddr __user *, addr,
                int, addr_len) {
    return __sys_sendto(fd, buff, len, flags, addr, addr_len);
}

int __sys_recvfrom(int fd, void __user* ubuf, size_t size, unsigned int flags, struct sockaddr __user* addr, int __user* addr_len) {
    trace_scope ts("__sys_recvfrom", "fd=%d size=%zu", fd, size);
    msghdr msg;
    int err = import_single_range(ITER_DEST, ubuf, size, &msg.msg_iter);
    if (err) return ts.ret(err);
    sock_fd s;
    err = sockfd_lookup_light(fd, &s);
    if (err) return ts.ret(err);
    sockaddr_storage address{};
    msg.msg_name = addr ? &address : nullptr;  // the address is only copied when asked for
    msg.msg_namelen = 0;
    if (s.f->f_flags & O_NONBLOCK) flags |= MSG_DONTWAIT;
    err = sock_recvmsg(s.sock, &msg, static_cast<int>(flags));
    if (err >= 0 && addr) {
        int err2 = move_addr_to_user(&address, msg.msg_namelen, addr, addr_len);
        if (err2 < 0) err = err2;
    }
    return ts.ret(err);
}

SYSCALL_DEFINE6(recvfrom, int, fd, void __user *, ubuf, size_t, size, unsigned int, flags, struct sockaddr __user *, addr,
                int __user *, addr_len) {
    return __sys_recvfrom(fd, ubuf, size, flags, addr, addr_len);
}

// The user's msghdr and its iovec array, copied in (copy_msghdr_from_user, import_iovec).
static int copy_msghdr_from_user(msghdr* kmsg, user_msghdr __user* umsg, struct sockaddr __user** save_addr,
                                 std::vector<iovec>* iov, unsigned direction) {
    user_msghdr msg;
    if (copy_from_user(&msg, umsg, sizeof msg)) return -EFAULT;
    kmsg->msg_namelen = msg.msg_namelen;
    if (!msg.msg_name) kmsg->msg_namelen = 0;
    if (kmsg->msg_namelen < 0) return -EINVAL;
    if (static_cast<size_t>(kmsg->msg_namelen) > sizeof(sockaddr_storage)) kmsg->msg_namelen = sizeof(sockaddr_storage);
    if (save_addr) *save_addr = static_cast<struct sockaddr __user*>(msg.msg_name);
    kmsg->msg_flags = 0;
    if (msg.msg_iovlen > static_cast<size_t>(UIO_MAXIOV)) return -EMSGSIZE;
    iov->resize(msg.msg_iovlen);
    if (msg.msg_iovlen && copy_from_user(iov->data(), msg.msg_iov, msg.msg_iovlen * sizeof(iovec))) return -EFAULT;
    size_t total = 0;
    for (iovec& v : *iov) {
        if (static_cast<long>(v.iov_len) < 0) return -EINVAL;
        if (v.iov_len > MAX_RW_COUNT - total) v.iov_len = MAX_RW_COUNT - total;
        if (!access_ok(v.iov_base, v.iov_len)) return -EFAULT;
        total += v.iov_len;
    }
    iov_iter_init(&kmsg->msg_iter, direction, iov->data(), iov->size(), total);
    return 0;
}

long __sys_sendmsg(int fd, user_msghdr __user* msg, unsigned int flags) {
    trace_scope ts("__sys_sendmsg", "fd=%d", fd);
    sock_fd s;
    int err = sockfd_lookup_light(fd, &s);
    if (err) return ts.ret(err);
    msghdr msg_sys;
    std::vector<iovec> iov;
    struct sockaddr __user* uaddr = nullptr;
    err = copy_msghdr_from_user(&msg_sys, msg, &uaddr, &iov, ITER_SOURCE);
    if (err) return ts.ret(err);
    sockaddr_storage address{};
    if (uaddr && msg_sys.msg_namelen) {
        err = move_addr_to_kernel(uaddr, msg_sys.msg_namelen, &address);
        if (err) return ts.ret(err);
        msg_sys.msg_name = &address;
    }
    if (s.f->f_flags & O_NONBLOCK) flags |= MSG_DONTWAIT;
    msg_sys.msg_flags = flags;
    return ts.ret(sock_sendmsg(s.sock, &msg_sys));
}

SYSCALL_DEFINE3(sendmsg, int, fd, struct user_msghdr __user *, msg, unsigned int, flags) { return __sys_sendmsg(fd, msg, flags); }

// After the data: the sender's address (into msg_name, msg_namelen updated), msg_flags
// (MSG_TRUNC when a datagram was cut), and msg_controllen (no control data here: 0).
long __sys_recvmsg(int fd, user_msghdr __user* msg, unsigned int flags) {
    trace_scope ts("__sys_recvmsg", "fd=%d", fd);
    sock_fd s;
    int err = sockfd_lookup_light(fd, &s);
    if (err) return ts.ret(err);
    msghdr msg_sys;
    std::vector<iovec> iov;
    struct sockaddr __user* uaddr = nullptr;
    err = copy_msghdr_from_user(&msg_sys, msg, &uaddr, &iov, ITER_DEST);
    if (err) return ts.ret(err);
    sockaddr_storage address{};
    msg_sys.msg_name = &address;
    msg_sys.msg_namelen = 0;
    msg_sys.msg_flags = flags & MSG_CMSG_CLOEXEC;
    if (s.f->f_flags & O_NONBLOCK) flags |= MSG_DONTWAIT;
    err = sock_recvmsg(s.sock, &msg_sys, static_cast<int>(flags));
    if (err < 0) return ts.ret(err);
    int len = err;
    if (uaddr) {
        err = move_addr_to_user(&address, msg_sys.msg_namelen, uaddr, &msg->msg_namelen);
        if (err < 0) return ts.ret(err);
    }
    if (put_user(msg_sys.msg_flags, &msg->msg_flags)) return ts.ret(-EFAULT);
    if (put_user(0UL, &msg->msg_controllen)) return ts.ret(-EFAULT);
    return ts.ret(len);
}

SYSCALL_DEFINE3(recvmsg, int, fd, struct user_msghdr __user *, msg, unsigned int, flags) { return __sys_recvmsg(fd, msg, flags); }

static int do_getname(int fd, struct sockaddr __user* usockaddr, int __user* usockaddr_len, int peer) {
    sock_fd s;
    int err = sockfd_lookup_light(fd, &s);
    if (err) return err;
    sockaddr_storage address{};
    int len = s.sock->ops->getname(s.sock, reinterpret_cast<struct sockaddr*>(&address), peer);
    if (len < 0) return len;
    return move_addr_to_user(&address, len, usockaddr, usockaddr_len);
}

int __sys_getsockname(int fd, struct sockaddr __user* usockaddr, int __user* usockaddr_len) {
    trace_scope ts("__sys_getsockname", "fd=%d", fd);
    return ts.ret(do_getname(fd, usockaddr, usockaddr_len, 0));
}

int __sys_getpeername(int fd, struct sockaddr __user* usockaddr, int __user* usockaddr_len) {
    trace_scope ts("__sys_getpeername", "fd=%d", fd);
    return ts.ret(do_getname(fd, usockaddr, usockaddr_len, 1));
}

SYSCALL_DEFINE3(getsockname, int, fd, struct sockaddr __user *, usockaddr, int __user *, usockaddr_len) {
    return __sys_getsockname(fd, usockaddr, usockaddr_len);
}

SYSCALL_DEFINE3(getpeername, int, fd, struct sockaddr __user *, usockaddr, int __user *, usockaddr_len) {
    return __sys_getpeername(fd, usockaddr, usockaddr_len);
}

// SOL_SOCKET options go to the socket layer; the others to the protocol (ip_setsockopt).
int __sys_setsockopt(int fd, int level, int optname, char __user* optval, int optlen) {
    trace_scope ts("__sys_setsockopt", "fd=%d level=%d optname=%d", fd, level, optname);
    if (optlen < 0) return ts.ret(-EINVAL);
    sock_fd s;
    int err = sockfd_lookup_light(fd, &s);
    if (err) return ts.ret(err);
    if (level == SOL_SOCKET) return ts.ret(sock_setsockopt(s.sock, level, optname, optval, static_cast<unsigned>(optlen)));
    if (!s.sock->ops->setsockopt) return ts.ret(-EOPNOTSUPP);
    return ts.ret(s.sock->ops->setsockopt(s.sock, level, optname, optval, static_cast<unsigned>(optlen)));
}

SYSCALL_DEFINE5(setsockopt, int, fd, int, level, int, optname, char __user *, optval, int, optlen) {
    return __sys_setsockopt(fd, level, optname, optval, optlen);
}

int __sys_getsockopt(int fd, int level, int optname, char __user* optval, int __user* optlen) {
    trace_scope ts("__sys_getsockopt", "fd=%d level=%d optname=%d", fd, level, optname);
    sock_fd s;
    int err = sockfd_lookup_light(fd, &s);
    if (err) return ts.ret(err);
    if (level == SOL_SOCKET) return ts.ret(sock_getsockopt(s.sock, level, optname, optval, optlen));
    if (!s.sock->ops->getsockopt) return ts.ret(-EOPNOTSUPP);
    return ts.ret(s.sock->ops->getsockopt(s.sock, level, optname, optval, optlen));
}

SYSCALL_DEFINE5(getsockopt, int, fd, int, level, int, optname, char __user *, optval, int __user *, optlen) {
    return __sys_getsockopt(fd, level, optname, optval, optlen);
}

int __sys_shutdown(int fd, int how) {
    trace_scope ts("__sys_shutdown", "fd=%d how=%d", fd, how);
    sock_fd s;
    int err = sockfd_lookup_light(fd, &s);
    if (err) return ts.ret(err);
    return ts.ret(s.sock->ops->shutdown(s.sock, how));
}

SYSCALL_DEFINE2(shutdown, int, fd, int, how) { return __sys_shutdown(fd, how); }

}  // namespace gk
