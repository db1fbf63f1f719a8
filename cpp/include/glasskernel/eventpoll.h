// Models include/uapi/linux/eventpoll.h and the structures of fs/eventpoll.c (v6.1): an eventpoll
// (the epoll instance behind an epoll fd) holds one epitem per watched (file, fd) in a red-black
// tree, hangs an eppoll_entry on each wait queue the file may be woken through, and keeps a ready
// list that ep_poll_callback fills when one of those queues is woken.
#pragma once
#include "glasskernel/uapi/eventpoll.h"
#include <map>
#include <memory>
#include <vector>

#include "glasskernel/fs.h"
#include "glasskernel/wait.h"

namespace gk {

enum : unsigned {
    EPOLLIN = 0x001, EPOLLPRI = 0x002, EPOLLOUT = 0x004, EPOLLERR = 0x008, EPOLLHUP = 0x010, EPOLLNVAL = 0x020,
    EPOLLRDNORM = 0x040, EPOLLRDBAND = 0x080, EPOLLWRNORM = 0x100, EPOLLWRBAND = 0x200, EPOLLRDHUP = 0x2000,
    EPOLLEXCLUSIVE = 1u << 28, EPOLLWAKEUP = 1u << 29, EPOLLONESHOT = 1u << 30, EPOLLET = 1u << 31,
};
constexpr unsigned EP_PRIVATE_BITS = EPOLLWAKEUP | EPOLLONESHOT | EPOLLET | EPOLLEXCLUSIVE;
constexpr unsigned EPOLLEXCLUSIVE_OK_BITS = EPOLLIN | EPOLLOUT | EPOLLERR | EPOLLHUP | EPOLLWAKEUP | EPOLLET | EPOLLEXCLUSIVE;
enum { EPOLL_CTL_ADD = 1, EPOLL_CTL_DEL = 2, EPOLL_CTL_MOD = 3 };
constexpr int EP_MAX_EVENTS = INT_MAX / 12;  // INT_MAX / sizeof(struct epoll_event)

struct eventpoll;
struct epitem;

struct eppoll_entry {
    wait_queue_entry wait;  // on the watched file's wait queue; func = ep_poll_callback
    wait_queue_head* whead = nullptr;
    epitem* base = nullptr;
};

struct epitem {
    file* ffd_file = nullptr;
    int ffd_fd = -1;
    eventpoll* ep = nullptr;
    struct epoll_event event{};
    std::vector<std::unique_ptr<eppoll_entry>> pwqlist;
    bool on_rdllist = false;
    u64 wakeups = 0;  // how often ep_poll_callback queued it
};

struct eventpoll {
    wait_queue_head wq{"eventpoll.wq"};  // tasks sleeping in epoll_wait
    std::vector<epitem*> rdllist;        // ready items, in the order they became ready
    // The "red-black tree": Linux orders it by (file address, fd); creation order keeps runs
    // repeatable here.
    std::map<std::pair<u64, int>, std::unique_ptr<epitem>> rbr;
    file* self = nullptr;
};

eventpoll* eventpoll_of(file* f);  // nullptr if f is not an epoll file

}  // namespace gk
