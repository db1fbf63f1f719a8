// The simulator's network of machines: a cable between two Kernels (a gknic on each end, with
// addresses and routes as `ip addr add` makes them) and the lock-step run that lets frames cross
// it in virtual time.
#pragma once
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "glasskernel/kernel.h"

namespace gk {

struct link_params {
    u32 ip_a = 0, ip_b = 0;  // host byte order
    int prefix = 24;
    u64 latency_ns = 10000;
    u64 bandwidth_bps = 1000000000ULL;
    double loss = 0.0;
    u64 seed = 0;
    int irq_a = 11, irq_b = 11;
    unsigned mtu = 1500;
    u32 mac_serial = 1;  // the two ends get 02:00:<serial> and 02:00:<serial + 1>
    bool arp = false;    // resolve neighbours with ARP; else each end knows the other's MAC
    u64 jitter_ns = 0;   // extra seeded delay per frame, up to this: frames may overtake each other
};

// Joins a and b; returns the two new devices' names. Throws std::invalid_argument for a bad
// parameter (a taken irq, different subnets, ...), leaving both machines as they were, and
// std::runtime_error while either machine runs.
std::pair<std::string, std::string> link_machines(Kernel* a, Kernel* b, const link_params& p);

// Runs the machines in lock-step until all are quiet or every clock passes until_ns. Returns the
// index of a machine that stopped (breakpoint, step), or -1. lookahead is the smallest latency
// of the links between them. after_step, if set, runs after every engine step of every machine
// (the self-check). Throws std::runtime_error when one of the machines is already running, when
// a machine panics (kernel_panic, engine/errors.h), or what a host callback or after_step raised.
int run_machines(const std::vector<Kernel*>& ks, u64 until_ns, u64 lookahead, const std::function<void(Kernel&)>& after_step);

}  // namespace gk
