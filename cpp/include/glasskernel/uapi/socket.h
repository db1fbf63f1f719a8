// Models include/uapi/linux/socket.h and in.h (v6.1): struct sockaddr, sockaddr_in (port and
// address in network byte order) and the storage move_addr_to_kernel copies a user's address into.
#pragma once
#include "glasskernel/types.h"

namespace gk {

using sa_family_t = unsigned short;
using __be16 = u16;
using __be32 = u32;

struct sockaddr {
    sa_family_t sa_family;
    char sa_data[14];
};

struct in_addr {
    __be32 s_addr;
};

struct sockaddr_in {
    sa_family_t sin_family;
    __be16 sin_port;
    in_addr sin_addr;
    unsigned char __pad[8];
};
static_assert(sizeof(sockaddr_in) == 16);

constexpr int _K_SS_MAXSIZE = 128;
struct __kernel_sockaddr_storage {
    sa_family_t ss_family;
    char __data[_K_SS_MAXSIZE - sizeof(unsigned short)];
} __attribute__((aligned(8)));
using sockaddr_storage = __kernel_sockaddr_storage;

}  // namespace gk
