// Models net/ipv4/route.c and fib_*.c in miniature (v6.1): one table of routes searched by longest
// prefix (local addresses first, as the local table is), giving a packet its output device and next
// hop; and the neighbour table, which here holds static entries only (no ARP): linking two NICs
// installs each side's address and MAC on the other, as `ip neigh add` would.
#include <cstdio>

#include "glasskernel/linux.h"
#include "glasskernel/net/ip.h"

namespace gk {

std::string ip_str(u32 a) {
    char b[16];
    char* p = b;
    for (int shift = 24; shift >= 0; shift -= 8) {
        unsigned o = (a >> shift) & 255;
        if (o >= 100) *p++ = static_cast<char>('0' + o / 100);
        if (o >= 10) *p++ = static_cast<char>('0' + o / 10 % 10);
        *p++ = static_cast<char>('0' + o % 10);
        if (shift) *p++ = '.';
    }
    return std::string(b, static_cast<size_t>(p - b));
}

// Dotted-quad text to a host-order address (what in4_pton does for the kernel's own parsers).
bool ip_parse(const std::string& s, u32* out) {
    u32 addr = 0;
    size_t i = 0;
    for (int part = 0; part < 4; part++) {
        if (part && (i >= s.size() || s[i++] != '.')) return false;
        unsigned v = 0, digits = 0;
        while (i < s.size() && s[i] >= '0' && s[i] <= '9' && digits < 4) v = v * 10 + static_cast<unsigned>(s[i++] - '0'), digits++;
        if (!digits || v > 255) return false;
        addr = addr << 8 | v;
    }
    if (i != s.size()) return false;
    *out = addr;
    return true;
}

static u32 prefix_mask(int len) { return len == 0 ? 0 : ~0u << (32 - len); }

void fib_add_route(net* n, const fib_route& r) {
    n->fib.push_back(r);
    n->fib.back().dst &= prefix_mask(r.prefix_len);
}

// fib_lookup: the local table first (our own addresses), then the longest matching prefix.
static const fib_route* fib_lookup(net* n, u32 daddr) {
    const fib_route* best = nullptr;
    for (const fib_route& r : n->fib) {
        if ((daddr & prefix_mask(r.prefix_len)) != r.dst) continue;
        bool local = r.table == "local";
        bool best_local = best && best->table == "local";
        if (!best || (local && !best_local) || (local == best_local && r.prefix_len > best->prefix_len)) best = &r;
    }
    return best;
}

// The device whose subnet's broadcast address this is (10.0.0.255 on 10.0.0.0/24, 127.255.255.255
// on lo), if any: fib_add_ifaddr puts a broadcast route for it in the local table.
static net_device* directed_broadcast_dev(net* n, u32 addr) {
    for (auto& d : n->devices)
        if (d->prefix_len > 0 && d->prefix_len < 31 && d->ip_addr &&
            addr == (d->ip_addr | ~prefix_mask(d->prefix_len)))
            return d.get();
    return nullptr;
}

int inet_addr_type(net* n, u32 addr) {
    if (addr == 0xffffffff || directed_broadcast_dev(n, addr)) return RTN_BROADCAST;
    for (auto& d : n->devices)
        if (d->ip_addr == addr) return RTN_LOCAL;
    if ((addr >> 24) == 127) return RTN_LOCAL;
    return RTN_UNICAST;
}

int ip_route_output_flow(net* n, u32 daddr, u32 saddr, rtable* rt) {
    trace_scope ts("ip_route_output_flow", "daddr=%s", ip_str(daddr).c_str());
    rt->dst = daddr;
    if (!daddr) {
        // ip_route_output_key_hash_rcu: no destination means this host -- the source address
        // if there is one, else 127.0.0.1 -- through lo.
        rt->dst = saddr ? saddr : 0x7f000001;
        rt->rt_type = RTN_LOCAL;
        rt->dev = n->devices.front().get();
        rt->gateway = rt->dst;
        rt->src = saddr ? saddr : 0x7f000001;
        return ts.ret(0);
    }
    net_device* bdev = directed_broadcast_dev(n, daddr);
    if (daddr == 0xffffffff && !bdev)
        for (auto& d : n->devices)
            if (!(d->flags & IFF_LOOPBACK) && (d->flags & IFF_BROADCAST) && d->ip_addr) {
                bdev = d.get();  // the limited broadcast leaves by the first Ethernet device
                break;
            }
    if (bdev) {
        rt->rt_type = RTN_BROADCAST;
        rt->dev = bdev;
        rt->gateway = daddr;
        rt->src = bdev->ip_addr;
        return ts.ret(0);
    }
    const fib_route* r = fib_lookup(n, daddr);
    if (!r) return ts.ret(-ENETUNREACH);
    rt->rt_type = r->type;
    if (r->type == RTN_LOCAL) {
        // Packets to ourselves go out through lo.
        rt->dev = n->devices.front().get();
        rt->gateway = daddr;
        rt->src = (daddr >> 24) == 127 ? 0x7f000001 : daddr;
        return ts.ret(0);
    }
    rt->dev = r->dev;
    rt->gateway = r->gateway ? r->gateway : daddr;
    rt->src = r->prefsrc ? r->prefsrc : r->dev->ip_addr;
    return ts.ret(0);
}

int ip_route_input_noref(sk_buff* skb, u32 daddr, u32 saddr, net_device* dev, rtable* rt) {
    trace_scope ts("ip_route_input_noref", "daddr=%s", ip_str(daddr).c_str());
    (void)skb;
    (void)saddr;
    net* n = kernel_net(dev->kernel);
    int type = inet_addr_type(n, daddr);
    if (type == RTN_BROADCAST || type == RTN_LOCAL) {
        rt->rt_type = static_cast<rtn_type>(type);
        rt->dev = dev;
        return ts.ret(0);
    }
    // Not for us: forwarded if this host routes, else dropped.
    const fib_route* r = fib_lookup(n, daddr);
    if (!r) return ts.ret(-ENETUNREACH);
    rt->rt_type = RTN_UNICAST;
    rt->dev = r->dev;
    rt->gateway = r->gateway ? r->gateway : daddr;
    rt->src = r->dev ? r->dev->ip_addr : 0;
    return ts.ret(0);
}

neighbour* neigh_lookup(net* n, u32 ip, net_device* dev) {
    for (auto& e : n->neigh)
        if (e->ip == ip && e->dev == dev) return e.get();
    return nullptr;
}

}  // namespace gk
