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
    sockaddr_in from{};
};

int udp_pair(void* p) {
    auto* r = static_cast<udp_result*>(p);
    socket *srv = nullptr, *cli = nullptr;
    EXPECT_EQ(sock_create_kern(AF_INET, SOCK_DGRAM, 0, &srv), 0);
    EXPECT_EQ(sock_create_kern(AF_INET, SOCK_DGRAM, 0, &cli), 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(0x7f000001);
    addr.sin_port = htons(7777);
    EXPECT_EQ(kernel_bind(srv, reinterpret_cast<struct sockaddr*>(&addr), sizeof addr), 0);
    msghdr out;
    out.msg_name = &addr;
    out.msg_namelen = sizeof addr;
    char payload[] = "datagram";
    r->sent = kernel_sendmsg(cli, &out, payload, 8);
    msghdr in;
    in.msg_name = &r->from;
    char buf[100];
    r->received = kernel_recvmsg(srv, &in, buf, sizeof buf, 0);
    if (r->received > 0) r->data.assign(buf, static_cast<size_t>(r->received));
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
    EXPECT_EQ(ntohl(r.from.sin_addr.s_addr), 0x7f000001u);
    EXPECT_GE(ntohs(r.from.sin_port), 32768);
    net* n = kernel_net(&k);
    EXPECT_EQ(n->live_skbs, 0);
    EXPECT_TRUE(n->socks.empty());
    EXPECT_TRUE(n->udp_table.empty());
    EXPECT_EQ(n->udp.InDatagrams, 1u);
    EXPECT_EQ(k.check(), "");
}
