// Models include/uapi/linux/eventpoll.h (v6.1): struct epoll_event, packed on x86_64 (12 bytes).
#pragma once
#include "glasskernel/types.h"

namespace gk {

struct epoll_event {
    u32 events;
    u64 data;
} __attribute__((packed));
static_assert(sizeof(epoll_event) == 12);

}  // namespace gk
