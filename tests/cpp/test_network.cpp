// Two machines joined by a cable, through the engine's C++ API: a datagram sent on one arrives on
// the other after the link's latency, the lock-step run keeps both clocks within it, and a machine
// of a running network refuses to be run or changed from inside that run.
#include <gtest/gtest.h>

#include <stdexcept>

#include "engine/network.h"
#include "glasskernel/linux.h"
#include "glasskernel/net/ip.h"

using namespace gk;

namespace {
constexpr u32 IP_A = 0x0a000001, IP_B = 0x0a000002;  // 10.0.0.1, 10.0.0.2
constexpr u64 LATENCY = 50000;

struct exchange {
    int sent = 0, received = 0;
    std::string data;
    sockaddr_in from{};
    u64 sent_at = 0, received_at = 0;
    std::string inner_error;  // what running the network from inside it said
    std::vector<Kernel*> machines;
};

sockaddr_in addr_of(u32 ip, u16 port) {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(ip);
    a.sin_port = htons(port);
    return a;
}

int receiver(void* p) {
    auto* x = static_cast<exchange*>(p);
    socket* s = nullptr;
    EXPECT_EQ(sock_create_kern(AF_INET, SOCK_DGRAM, 0, &s), 0);
    sockaddr_in me = addr_of(IP_B, 9000);
    EXPECT_EQ(kernel_bind(s, reinterpret_cast<struct sockaddr*>(&me), sizeof me), 0);
    msghdr in;
    in.msg_name = &x->from;
    char buf[100];
    x->received = kernel_recvmsg(s, &in, buf, sizeof buf, 0);
    x->received_at = ktime_get();
    if (x->received > 0) x->data.assign(buf, static_cast<size_t>(x->received));
    sock_release(s);
    return 0;
}

int sender(void* p) {
    auto* x = static_cast<exchange*>(p);
    // Host code reached from inside the run may not run the network again.
    try {
        run_machines(x->machines, KTIME_MAX, LATENCY, nullptr);
    } catch (const std::runtime_error& e) {
        x->inner_error = e.what();
    }
    msleep(1);  // let the receiver bind first
    socket* s = nullptr;
    EXPECT_EQ(sock_create_kern(AF_INET, SOCK_DGRAM, 0, &s), 0);
    sockaddr_in to = addr_of(IP_B, 9000);
    msghdr out;
    out.msg_name = &to;
    out.msg_namelen = sizeof to;
    char payload[] = "over the wire";
    x->sent_at = ktime_get();
    x->sent = kernel_sendmsg(s, &out, payload, sizeof payload - 1);
    sock_release(s);
    return 0;
}
}  // namespace

TEST(Network, DatagramCrossesTheLinkAfterItsLatency) {
    Kernel a, b;
    link_params p;
    p.ip_a = IP_A;
    p.ip_b = IP_B;
    p.latency_ns = LATENCY;
    auto names = link_machines(&a, &b, p);
    EXPECT_EQ(names.first, "eth0");
    EXPECT_EQ(names.second, "eth0");
    exchange x;
    x.machines = {&a, &b};
    {
        kernel_context ctx(&b);
        ASSERT_NE(kthread_create_from_host(&b, receiver, &x, "receiver"), nullptr);
    }
    {
        kernel_context ctx(&a);
        ASSERT_NE(kthread_create_from_host(&a, sender, &x, "sender"), nullptr);
    }
    EXPECT_EQ(run_machines(x.machines, KTIME_MAX, LATENCY, [](Kernel& k) { ASSERT_EQ(k.check(), ""); }), -1);
    EXPECT_EQ(x.sent, 13);
    EXPECT_EQ(x.received, 13);
    EXPECT_EQ(x.data, "over the wire");
    EXPECT_EQ(ntohl(x.from.sin_addr.s_addr), IP_A);
    // The frame spends at least the link's latency on the wire (plus serialization at 1 Gbit/s).
    EXPECT_GE(x.received_at, x.sent_at + LATENCY);
    EXPECT_NE(x.inner_error.find("already running"), std::string::npos) << x.inner_error;
    EXPECT_FALSE(a.in_network_run || b.in_network_run || a.in_run || b.in_run);
    EXPECT_EQ(kernel_net(&a)->live_skbs, 0);
    EXPECT_EQ(kernel_net(&b)->live_skbs, 0);
    EXPECT_EQ(a.check(), "");
    EXPECT_EQ(b.check(), "");
}

TEST(Network, BadLinksAreRefusedAndLeaveBothMachinesAsTheyWere) {
    Kernel a, b;
    link_params p;
    p.ip_a = IP_A;
    p.ip_b = IP_A;
    EXPECT_THROW(link_machines(&a, &b, p), std::invalid_argument);  // the same address twice
    p.ip_b = 0x0a000102;
    EXPECT_THROW(link_machines(&a, &b, p), std::invalid_argument);  // different /24s
    p.ip_b = IP_B;
    EXPECT_THROW(link_machines(&a, &a, p), std::invalid_argument);
    auto first = link_machines(&a, &b, p);
    EXPECT_EQ(first.first, "eth0");
    // A second cable whose line on b is taken: a's new NIC is taken away again.
    p.ip_a = 0x0a000101;
    p.ip_b = 0x0a000102;
    p.irq_a = 12;
    size_t before_a = kernel_net(&a)->devices.size(), before_b = kernel_net(&b)->devices.size();
    EXPECT_THROW(link_machines(&a, &b, p), std::invalid_argument);
    EXPECT_EQ(kernel_net(&a)->devices.size(), before_a);
    EXPECT_EQ(kernel_net(&b)->devices.size(), before_b);
    EXPECT_EQ(kernel_net(&a)->links.size(), 1u);
    EXPECT_EQ(a.check(), "");
    EXPECT_EQ(b.check(), "");
}
