// The simulator's Python binding. Python access to the network stack: the protocol tables, devices with their queues and
// statistics, routes and neighbours, every sock with its queue and sleepers, the SNMP counters,
// sysctls, netfilter hooks written in Python, packet captures, links between machines (with
// their NICs) and the lock-step run of several machines.
#include "bindings/net_views.h"
#include "engine/errors.h"
#include "engine/host_callback.h"
#include "engine/network.h"
#include "glasskernel/eventpoll.h"
#include "glasskernel/net/tcp.h"

namespace gk {

static net* net_of(Kernel& k) { return kernel_net(&k); }


static u32 parse_ip(const std::string& s) {
    u32 a;
    if (!ip_parse(s, &a)) throw py::value_error("not an IPv4 address: '" + s + "'");
    return a;
}

// A netfilter hook in Python: fn(hook, packet bytes from the IP header, in, out) -> verdict.
struct py_nf_hook_fn : host_fn {
    py::object fn;
    explicit py_nf_hook_fn(py::object f) : fn(std::move(f)) {}
    long call(Kernel&, const host_call& c, std::vector<host_request>*) override {
        sk_buff* skb = c.skb;
        py::bytes data(reinterpret_cast<const char*>(skb_network_header(skb)), skb->tail - static_cast<unsigned>(skb->network_header));
        py::object r = fn(c.state->hook, data, c.state->in ? c.state->in->name : "", c.state->out ? c.state->out->name : "");
        return r.cast<long>();
    }
};

static py::object run_network(std::vector<std::shared_ptr<Kernel>> ks, long long until_ns, long long lookahead, bool check) {
    if (lookahead < 1000) throw py::value_error("lookahead must be at least 1000 ns");
    std::vector<Kernel*> raw;
    for (auto& k : ks) raw.push_back(k.get());
    std::function<void(Kernel&)> after_step;
    if (check)
        after_step = [](Kernel& k) {
            std::string e = k.check();
            if (!e.empty()) throw kernel_inconsistency(e);
        };
    int which = run_machines(raw, until_ns < 0 ? KTIME_MAX : static_cast<u64>(until_ns), static_cast<u64>(lookahead), after_step);
    return which < 0 ? py::none() : py::object(py::int_(which));
}

void bind_net(py::module_& m, py::class_<Kernel, std::shared_ptr<Kernel>>& cls) {
    m.def("_run_network", &run_network);
    bind_net_views(m);
    cls.def("_net_devices", [](std::shared_ptr<Kernel> k) {
           py::list out;
           for (auto& d : net_of(*k)->devices) out.append(NetDeviceView{k, d.get()});
           return out;
       })
        .def("_net_routes", [](Kernel& k) {
            py::list out;
            for (auto& r : net_of(k)->fib) out.append(route_view(r));
            return out;
        })
        .def("_net_neigh", [](Kernel& k) {
            py::list out;
            for (auto& e : net_of(k)->neigh) out.append(neighbour_view(*e));
            return out;
        })
        .def("_net_socks", [](std::shared_ptr<Kernel> k) {
            py::list out;
            for (auto& [id, sk] : net_of(*k)->socks) out.append(sock_view(k, sk));
            return out;
        })
        .def("_sock_of_fd", [](std::shared_ptr<Kernel> k, int pid, int fd) -> py::object {
            task_struct* t = find_task_by_vpid_in(k.get(), pid);
            if (!t || !t->files) throw py::value_error("no process " + std::to_string(pid));
            std::shared_ptr<file> fp = fd < 0 ? nullptr : fget(t->files.get(), static_cast<unsigned>(fd));
            file* f = fp.get();
            if (!f) throw py::value_error("pid " + std::to_string(pid) + " has no fd " + std::to_string(fd));
            socket* s = SOCKET_I(f);
            if (!s) throw py::value_error("fd " + std::to_string(fd) + " of pid " + std::to_string(pid) + " is not a socket");
            SocketView sv{static_cast<int>(s->state), s->type, s->ops ? s->ops->name : "", s->ino, f->name};
            if (!s->sk) return py::cast(sv);
            SockView v = sock_view(k, s->sk);
            v.socket = py::cast(sv);
            return py::cast(v);
        })
        .def("_epoll_of_fd", [](std::shared_ptr<Kernel> k, int pid, int fd) {
            task_struct* t = find_task_by_vpid_in(k.get(), pid);
            if (!t || !t->files) throw py::value_error("no process " + std::to_string(pid));
            std::shared_ptr<file> fp = fd < 0 ? nullptr : fget(t->files.get(), static_cast<unsigned>(fd));
            file* f = fp.get();
            if (!f) throw py::value_error("pid " + std::to_string(pid) + " has no fd " + std::to_string(fd));
            eventpoll* ep = eventpoll_of(f);
            if (!ep) throw py::value_error("fd " + std::to_string(fd) + " of pid " + std::to_string(pid) + " is not an epoll fd");
            return eventpoll_view(k, ep);
        })
        .def("_net_protocols", [](Kernel& k) {
            net* n = net_of(k);
            ProtocolsView d;
            py::list fam;
            for (int i = 0; i < NPROTO; i++)
                if (n->net_families[i]) fam.append(i);
            d.net_families = fam;
            py::list sw;
            for (int t = 0; t < SOCK_MAX; t++)
                for (auto& a : n->inetsw[t]) sw.append(InetProtoswView{a.type, a.protocol, a.prot->name, a.ops->name, a.flags});
            d.inetsw = sw;
            py::dict protos;
            for (int i = 0; i < IPPROTO_MAX; i++)
                if (n->inet_protos[i]) protos[py::int_(i)] = n->inet_protos[i]->name;
            d.inet_protos = protos;
            py::dict pl;  // /proc/net/protocols: each registered proto and how many socks use it
            for (proto* p : n->proto_list) {
                long count = 0;
                for (auto& [id, sk] : n->socks) count += sk->sk_prot == p;
                pl[py::str(p->name)] = count;
            }
            d.proto_list = pl;
            return d;
        })
        .def("_net_snmp", [](Kernel& k) {
            net* n = net_of(k);
            py::dict d;
            const ip_mib& ip = n->ip;
            d["Ip"] = py::dict(py::arg("InReceives") = ip.InReceives, py::arg("InHdrErrors") = ip.InHdrErrors,
                               py::arg("InAddrErrors") = ip.InAddrErrors, py::arg("ForwDatagrams") = ip.ForwDatagrams,
                               py::arg("InUnknownProtos") = ip.InUnknownProtos, py::arg("InDelivers") = ip.InDelivers,
                               py::arg("OutRequests") = ip.OutRequests, py::arg("OutNoRoutes") = ip.OutNoRoutes,
                               py::arg("ReasmReqds") = ip.ReasmReqds, py::arg("ReasmOKs") = ip.ReasmOKs,
                               py::arg("ReasmFails") = ip.ReasmFails, py::arg("FragOKs") = ip.FragOKs,
                               py::arg("FragCreates") = ip.FragCreates, py::arg("FragFails") = ip.FragFails);
            const udp_mib& u = n->udp;
            d["Udp"] = py::dict(py::arg("InDatagrams") = u.InDatagrams, py::arg("NoPorts") = u.NoPorts, py::arg("InErrors") = u.InErrors,
                                py::arg("OutDatagrams") = u.OutDatagrams, py::arg("RcvbufErrors") = u.RcvbufErrors,
                                py::arg("SndbufErrors") = u.SndbufErrors, py::arg("InCsumErrors") = u.InCsumErrors);
            const icmp_mib& c = n->icmp;
            d["Icmp"] = py::dict(py::arg("InMsgs") = c.InMsgs, py::arg("InDestUnreachs") = c.InDestUnreachs,
                                 py::arg("InEchos") = c.InEchos, py::arg("InEchoReps") = c.InEchoReps,
                                 py::arg("InTimeExcds") = c.InTimeExcds, py::arg("OutMsgs") = c.OutMsgs,
                                 py::arg("OutDestUnreachs") = c.OutDestUnreachs, py::arg("OutEchoReps") = c.OutEchoReps,
                                 py::arg("OutTimeExcds") = c.OutTimeExcds);
            const tcp_mib& t = tcp_net_of(n)->mib;
            d["Tcp"] = py::dict(py::arg("ActiveOpens") = t.ActiveOpens, py::arg("PassiveOpens") = t.PassiveOpens,
                                py::arg("AttemptFails") = t.AttemptFails, py::arg("EstabResets") = t.EstabResets,
                                py::arg("InSegs") = t.InSegs, py::arg("OutSegs") = t.OutSegs, py::arg("RetransSegs") = t.RetransSegs,
                                py::arg("InErrs") = t.InErrs, py::arg("OutRsts") = t.OutRsts, py::arg("InCsumErrors") = t.InCsumErrors);
            d["TcpExt"] = py::dict(py::arg("ListenOverflows") = t.ListenOverflows, py::arg("ListenDrops") = t.ListenDrops,
                                   py::arg("TCPTimeouts") = t.TCPTimeouts, py::arg("TCPFastRetrans") = t.TCPFastRetrans,
                                   py::arg("DelayedACKs") = t.DelayedACKs, py::arg("TCPOFOQueue") = t.TCPOFOQueue,
                                   py::arg("TCPAbortOnData") = t.TCPAbortOnData, py::arg("TCPAbortOnClose") = t.TCPAbortOnClose, py::arg("TW") = t.TW);
            d["live_skbs"] = n->live_skbs;
            return d;
        })
        .def("_sysctl", [](Kernel& k, const std::string& name, py::object value) -> py::object {
            net* n = net_of(k);
            tcp_net* tn = tcp_net_of(n);
            if (name == "net.ipv4.tcp_congestion_control") {
                if (!value.is_none()) {
                    const tcp_congestion_ops* ca = tcp_ca_find(value.cast<std::string>());
                    if (!ca) throw py::value_error("no congestion control '" + value.cast<std::string>() + "' (cubic, reno)");
                    tn->default_ca = ca;
                }
                return py::str(tn->default_ca->name);
            }
            if (name == "glasskernel.tcp_timewait_len_ms") {
                // Not a Linux sysctl: TCP_TIMEWAIT_LEN is a constant (60 s). Lessons may shorten it.
                if (!value.is_none()) {
                    long v = value.cast<long>();
                    if (v < 0) throw py::value_error(name + " must be >= 0");
                    tn->tcp_timewait_len_ns = static_cast<u64>(v) * 1000000ULL;
                }
                return py::int_(tn->tcp_timewait_len_ns / 1000000ULL);
            }
            int* iv = nullptr;
            bool* bv = nullptr;
            if (name == "net.ipv4.tcp_fin_timeout") iv = &tn->tcp_fin_timeout;
            else if (name == "net.ipv4.tcp_keepalive_time") iv = &tn->tcp_keepalive_time;
            else if (name == "net.ipv4.tcp_keepalive_intvl") iv = &tn->tcp_keepalive_intvl;
            else if (name == "net.ipv4.tcp_keepalive_probes") iv = &tn->tcp_keepalive_probes;
            else if (name == "net.ipv4.tcp_syn_retries") iv = &tn->tcp_syn_retries;
            else if (name == "net.ipv4.tcp_synack_retries") iv = &tn->tcp_synack_retries;
            else if (name == "net.ipv4.tcp_retries2") iv = &tn->tcp_retries2;
            else if (name == "net.ipv4.tcp_window_scaling") bv = &tn->tcp_window_scaling;
            else if (name == "net.core.somaxconn") iv = &n->somaxconn;
            else if (name == "net.ipv4.ip_forward") bv = &n->ip_forward;
            else if (name == "net.ipv4.ip_default_ttl") iv = &n->ip_default_ttl;
            else if (name == "net.ipv4.ip_unprivileged_port_start") iv = &n->ip_unprivileged_port_start;
            else if (name == "net.core.rmem_max") iv = &n->rmem_max;
            else if (name == "net.core.wmem_max") iv = &n->wmem_max;
            else throw py::key_error("unknown sysctl '" + name + "' (net.ipv4.ip_forward, net.ipv4.ip_default_ttl, "
                                     "net.ipv4.ip_unprivileged_port_start, net.core.rmem_max, net.core.wmem_max, net.core.somaxconn, "
                                     "net.ipv4.tcp_congestion_control, net.ipv4.tcp_fin_timeout, net.ipv4.tcp_keepalive_time, "
                                     "net.ipv4.tcp_keepalive_intvl, net.ipv4.tcp_keepalive_probes, net.ipv4.tcp_syn_retries, "
                                     "net.ipv4.tcp_synack_retries, net.ipv4.tcp_retries2, net.ipv4.tcp_window_scaling, "
                                     "glasskernel.tcp_timewait_len_ms)");
            if (!value.is_none()) {
                long v = value.cast<long>();
                if (bv) {
                    if (v != 0 && v != 1) throw py::value_error(name + " is 0 or 1");
                    *bv = v;
                } else {
                    if (name == "net.ipv4.ip_default_ttl" && (v < 1 || v > 255)) throw py::value_error("ip_default_ttl is 1..255");
                    if (v < 0 || v > INT_MAX) throw py::value_error(name + " must be >= 0");
                    *iv = static_cast<int>(v);
                }
            }
            return bv ? py::int_(*bv ? 1 : 0) : py::int_(*iv);
        })
        .def("_ip_route_add", [](Kernel& k, const std::string& dst, int prefix, py::object via, const std::string& dev) {
            refuse_while_running(k, "adding a route");
            net* n = net_of(k);
            if (prefix < 0 || prefix > 32) throw py::value_error("a prefix length is 0..32");
            fib_route r;
            r.dst = parse_ip(dst);
            r.prefix_len = prefix;
            if (!via.is_none()) r.gateway = parse_ip(via.cast<std::string>());
            r.dev = dev.empty() ? nullptr : dev_get_by_name(&k, dev);
            if (!dev.empty() && !r.dev) throw py::value_error("no device " + dev);
            if (!r.dev && r.gateway) {
                // the device that reaches the gateway
                rtable rt;
                kernel_context ctx(&k);
                if (ip_route_output(n, r.gateway, 0, &rt) || rt.rt_type != RTN_UNICAST)
                    throw py::value_error("gateway " + ip_str(r.gateway) + " is not reachable on any link");
                r.dev = rt.dev;
            }
            if (!r.dev) throw py::value_error("a route needs a gateway (via=) or a device (dev=)");
            fib_add_route(n, r);
        })
        .def("_nf_register", [](Kernel& k, int hooknum, py::object fn, int priority, const std::string& name) {
            refuse_while_running(k, "nf_register_net_hook()");
            if (hooknum < 0 || hooknum >= NF_INET_NUMHOOKS) throw py::value_error("hook numbers are 0..4 (NF_INET_PRE_ROUTING .. NF_INET_POST_ROUTING)");
            net* n = net_of(k);
            auto ops = host_nf_hook_new(hooknum, priority, name, std::make_shared<py_nf_hook_fn>(fn));
            ops->id = n->nf_next_id++;
            int id = ops->id;
            kernel_context ctx(&k);
            nf_register_net_hook(n, ops);
            return id;
        })
        .def("_nf_unregister", [](Kernel& k, int id) {
            refuse_while_running(k, "nf_unregister_net_hook()");
            net* n = net_of(k);
            for (auto& e : n->nf_hooks)
                if (e)
                    for (auto& o : *e)
                        if (o->id == id) {
                            kernel_context ctx(&k);
                            nf_unregister_net_hook(n, o.get());
                            return;
                        }
            throw py::value_error("no such netfilter hook");
        })
        .def("_nf_hook_stats", [](Kernel& k, int id) {
            for (auto& e : net_of(k)->nf_hooks)
                if (e)
                    for (auto& o : *e)
                        if (o->id == id) return py::make_tuple(o->accepted, o->dropped);
            throw py::value_error("no such netfilter hook");
        })
        .def("_capture_start", [](Kernel& k, const std::string& dev) {
            net* n = net_of(k);
            net_device* d = dev_get_by_name(&k, dev);
            if (!d) throw py::value_error("no device '" + dev + "'");
            auto c = std::make_unique<net::capture>();
            c->id = static_cast<int>(n->captures.size());
            c->dev = d;
            net::capture* raw = c.get();
            Kernel* kp = &k;
            d->taps.push_back([raw, kp](const sk_buff* skb, bool) {
                if (!raw->active) return;
                raw->frames.emplace_back(kp->now(), std::string(reinterpret_cast<const char*>(skb->head->data() + skb->data), skb->len));
            });
            n->captures.push_back(std::move(c));
            return raw->id;
        })
        .def("_capture_frames", [](Kernel& k, int id) {
            net* n = net_of(k);
            if (id < 0 || static_cast<size_t>(id) >= n->captures.size()) throw py::value_error("no such capture");
            py::list out;
            for (auto& [ts, data] : n->captures[id]->frames) out.append(py::make_tuple(ts, py::bytes(data)));
            return out;
        })
        .def("_capture_stop", [](Kernel& k, int id) {
            net* n = net_of(k);
            if (id < 0 || static_cast<size_t>(id) >= n->captures.size()) throw py::value_error("no such capture");
            n->captures[id]->active = false;
        });
    m.def("_link", [](std::shared_ptr<Kernel> a, std::shared_ptr<Kernel> b, const std::string& ip_a, const std::string& ip_b,
                      int prefix, unsigned long long latency_ns, unsigned long long bandwidth_bps, double loss, unsigned long long seed,
                      int irq_a, int irq_b, unsigned mtu, unsigned mac_serial, bool arp, unsigned long long jitter_ns) {
        link_params p;
        p.ip_a = parse_ip(ip_a);
        p.ip_b = parse_ip(ip_b);
        p.prefix = prefix;
        p.latency_ns = latency_ns;
        p.bandwidth_bps = bandwidth_bps;
        p.loss = loss;
        p.seed = seed;
        p.irq_a = irq_a;
        p.irq_b = irq_b;
        p.mtu = mtu;
        p.mac_serial = mac_serial;
        p.arp = arp;
        p.jitter_ns = jitter_ns;
        auto names = link_machines(a.get(), b.get(), p);
        return py::make_tuple(names.first, names.second);
    });
}

}  // namespace gk
