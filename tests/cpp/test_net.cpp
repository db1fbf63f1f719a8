// The network stack through the C++ API: two kernel sockets exchange a datagram over lo, every
// buffer is freed afterwards, and a released sock leaves the tables.
#include <gtest/gtest.h>

#include "glasskernel/linux.h"
#include "glasskernel/net/ip.h"

using namespace gk;

namespace {
struct udp_result {
    int sent = 0, received = 0;
    std::string data;
    sockaddr_in_k from;
};

int udp_pair(void* p) {
    auto* r = static_cast<udp_result*>(p);
    socket *srv = nullptr, *cli = nullptr;
    EXPECT_EQ(sock_create_kern(AF_INET, SOCK_DGRAM, 0, &srv), 0);
    EXPECT_EQ(sock_create_kern(AF_INET, SOCK_DGRAM, 0, &cli), 0);
    sockaddr_in_k addr;
    addr.family = AF_INET;
    addr.addr = 0x7f000001;
    addr.port = 7777;
    EXPECT_EQ(kernel_bind(srv, &addr), 0);
    msghdr_k out;
    out.name = addr;
    out.has_name = true;
    r->sent = kernel_sendmsg(cli, &out, "datagram");
    msghdr_k in;
    r->received = kernel_recvmsg(srv, &in, &r->data, 100, 0);
    r->from = in.name;
    sock_release(srv);
    sock_release(cli);
    return 0;
}
}  // namespace

TEST(Net, LoopbackDatagramBetweenKernelSockets) {
    Kernel k;
    udp_result r;
    {
        kernel_context ctx(&k);
        kthread_create_from_host(&k, udp_pair, &r, "udp_pair");
    }
    k.run(KTIME_MAX, nullptr);
    EXPECT_EQ(r.sent, 8);
    EXPECT_EQ(r.received, 8);
    EXPECT_EQ(r.data, "datagram");
    EXPECT_EQ(r.from.addr, 0x7f000001u);
    EXPECT_GE(r.from.port, 32768);
    net* n = kernel_net(&k);
    EXPECT_EQ(n->live_skbs, 0);
    EXPECT_TRUE(n->socks.empty());
    EXPECT_TRUE(n->udp_table.empty());
    EXPECT_EQ(n->udp.InDatagrams, 1u);
    EXPECT_EQ(k.check(), "");
}
