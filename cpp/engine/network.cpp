// The simulator's network of machines (see network.h): making a cable and the lock-step run.
#include "engine/network.h"

#include "engine/errors.h"

#include <algorithm>
#include <cstring>
#include <stdexcept>

#include "glasskernel/linux.h"
#include "glasskernel/net/ip.h"

namespace gk {

net_device* gknic_probe(Kernel* k, int irq);  // drivers/net/gknic.cpp

std::pair<std::string, std::string> link_machines(Kernel* a, Kernel* b, const link_params& p) {
    if (a == b) throw std::invalid_argument("a link joins two different machines");
    refuse_while_running(*a, "linking machines");
    refuse_while_running(*b, "linking machines");
    if (p.latency_ns < 1000) throw std::invalid_argument("latency must be at least 1000 ns (the machines run in lock-step by it)");
    if (p.bandwidth_bps < 1000) throw std::invalid_argument("bandwidth must be at least 1000 bit/s");
    if (!(p.loss >= 0.0 && p.loss < 1.0)) throw std::invalid_argument("loss is a probability in [0, 1)");
    if (p.prefix < 1 || p.prefix > 30) throw std::invalid_argument("the link's prefix length is 1..30");
    if (p.mtu < 576 || p.mtu > 9000) throw std::invalid_argument("mtu must be 576..9000");
    u32 mask = ~0u << (32 - p.prefix);
    if ((p.ip_a & mask) != (p.ip_b & mask)) throw std::invalid_argument("both ends of a link must be in the same subnet");
    if (p.ip_a == p.ip_b) throw std::invalid_argument("the two ends of a link need different addresses");
    for (int irq : {p.irq_a, p.irq_b})
        if (irq < 0 || irq >= NR_IRQS)
            throw std::invalid_argument("irq " + std::to_string(irq) + " is not a line of this machine (0.." + std::to_string(NR_IRQS - 1) + ")");
    for (u32 ip : {p.ip_a, p.ip_b})
        if ((ip & ~mask) == 0 || (ip & ~mask) == ~mask)
            throw std::invalid_argument(ip_str(ip) + " is the subnet's network or broadcast address, not a host's");
    net_device* da;
    {
        kernel_context ctx(a);
        da = gknic_probe(a, p.irq_a);
    }
    if (!da) throw std::invalid_argument("irq " + std::to_string(p.irq_a) + " is taken on the first machine");
    net_device* db;
    {
        kernel_context ctx(b);
        db = gknic_probe(b, p.irq_b);
    }
    if (!db) {
        // Leave the first machine as it was: no half-made link.
        kernel_context ctx(a);
        free_irq(p.irq_a, da);
        kernel_net(a)->devices.pop_back();
        throw std::invalid_argument("irq " + std::to_string(p.irq_b) + " is taken on the second machine");
    }
    auto l = std::make_shared<gk_link>();
    l->end[0] = da;
    l->end[1] = db;
    l->latency_ns = p.latency_ns;
    l->jitter_ns = p.jitter_ns;
    l->bandwidth_bps = p.bandwidth_bps;
    l->loss = p.loss;
    l->rng = p.seed * 0x9E3779B97F4A7C15ULL + 1;
    l->arp = p.arp;
    std::pair<net_device*, u32> ends[2] = {{da, p.ip_a}, {db, p.ip_b}};
    for (int e = 0; e < 2; e++) {
        net_device* d = ends[e].first;
        d->link = l.get();
        d->link_end = e;
        d->mtu = p.mtu;
        d->ip_addr = ends[e].second;
        d->prefix_len = p.prefix;
        u32 serial = p.mac_serial + static_cast<u32>(e);  // locally administered, per network
        u8 mac[ETH_ALEN] = {0x02, 0x00, static_cast<u8>(serial >> 24), static_cast<u8>(serial >> 16), static_cast<u8>(serial >> 8),
                            static_cast<u8>(serial)};
        memcpy(d->dev_addr, mac, ETH_ALEN);
        net* n = kernel_net(d->kernel);
        n->links.push_back(l);
        // As `ip addr add` does: a local route for the address, a connected one for the subnet.
        fib_route local;
        local.dst = ends[e].second;
        local.prefix_len = 32;
        local.dev = d;
        local.type = RTN_LOCAL;
        local.prefsrc = ends[e].second;
        local.table = "local";
        fib_add_route(n, local);
        fib_route r;
        r.dst = ends[e].second & mask;
        r.prefix_len = p.prefix;
        r.dev = d;
        r.prefsrc = ends[e].second;
        fib_add_route(n, r);
    }
    if (!p.arp)
        for (int e = 0; e < 2; e++)
            neigh_add_permanent(kernel_net(ends[e].first->kernel), ends[1 - e].second, ends[1 - e].first->dev_addr, ends[e].first);
    return {da->name, db->name};
}

// Always advance the machine that is furthest behind, never beyond the others' time plus the
// smallest link latency, so a frame sent by one always reaches the other before the other's
// clock passes its arrival.
int run_machines(const std::vector<Kernel*>& ks, u64 until_ns, u64 lookahead, const std::function<void(Kernel&)>& after_step) {
    for (size_t i = 0; i < ks.size(); i++) {
        for (size_t j = 0; j < i; j++)
            if (ks[i] == ks[j]) throw std::invalid_argument("a machine appears twice in the network");
        if (ks[i]->in_run || ks[i]->in_network_run || ks[i]->running)
            throw std::runtime_error("the network is already running (called from a program or callback inside its run); "
                                     "return from it instead");
        throw_if_panicked(*ks[i]);
    }
    // Every machine belongs to this run until it returns: host code called from one machine's
    // program may not run or change another between its steps either.
    struct ownership {
        const std::vector<Kernel*>& ks;
        explicit ownership(const std::vector<Kernel*>& v) : ks(v) {
            for (Kernel* k : ks) k->in_network_run = true;
        }
        ~ownership() {
            for (Kernel* k : ks) {
                k->in_network_run = false;
                k->horizon = KTIME_MAX;
                k->lockstep = false;
            }
        }
    } own(ks);
    for (;;) {
        int best = -1;
        u64 best_key = KTIME_MAX;
        for (size_t i = 0; i < ks.size(); i++) {
            u64 key = ks[i]->next_key();
            if (key < best_key) {
                best_key = key;
                best = static_cast<int>(i);
            }
        }
        if (best < 0 || (until_ns != KTIME_MAX && best_key >= until_ns)) {  // all quiet, or the time is up
            if (until_ns != KTIME_MAX)
                for (Kernel* k : ks) k->advance_idle_clocks(until_ns);
            return -1;
        }
        u64 horizon = until_ns;
        for (size_t i = 0; i < ks.size(); i++)
            if (static_cast<int>(i) != best) {
                u64 key = ks[i]->next_key();
                if (key != KTIME_MAX) horizon = std::min(horizon, key > KTIME_MAX - lookahead ? KTIME_MAX : key + lookahead);
            }
        horizon = std::max(horizon, best_key + 1);
        Kernel& k = *ks[best];
        k.horizon = horizon;
        k.lockstep = true;
        std::function<bool()> pred;
        if (after_step)
            pred = [&k, &after_step]() -> bool {
                after_step(k);
                return false;
            };
        run_result r = k.run(horizon, pred);
        k.horizon = KTIME_MAX;
        k.lockstep = false;
        throw_if_panicked(k);
        if (r.stopped) return best;
    }
}

}  // namespace gk
