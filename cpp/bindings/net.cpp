// The simulator's Python binding. Python access to the network stack: the protocol tables, devices with their queues and
// statistics, routes and neighbours, every sock with its queue and sleepers, the SNMP counters,
// sysctls, netfilter hooks written in Python, packet captures, links between machines (with
// their NICs) and the lock-step run of several machines.
#include "bindings/views.h"
#include "engine/errors.h"
#include "engine/host_callback.h"
#include "engine/network.h"
#include "glasskernel/eventpoll.h"
#include "glasskernel/net/ip.h"

namespace gk {

static std::string mac_str(const u8* a) {
    char b[24];
    snprintf(b, sizeof b, "%02x:%02x:%02x:%02x:%02x:%02x", a[0], a[1], a[2], a[3], a[4], a[5]);
    return b;
}

static py::list skb_list(const sk_buff_head& q) {
    py::list l;
    for (const sk_buff& s : q.q) {
        py::dict d;
        d["id"] = s.id;
        d["len"] = s.len;
        d["truesize"] = s.truesize;
        d["arrival"] = s.arrival;
        // The buffer's layout: offsets from head, as skb->data - skb->head etc. would give them.
        d["data_off"] = s.data;
        d["tail"] = s.tail;
        d["end"] = s.end;
        d["mac_header"] = s.mac_header;
        d["network_header"] = s.network_header;
        d["transport_header"] = s.transport_header;
        d["protocol"] = s.protocol;
        d["cloned"] = s.cloned;
        d["data"] = py::bytes(reinterpret_cast<const char*>(s.head->data() + s.data), s.len);
        l.append(d);
    }
    return l;
}

static py::dict sock_dict(const std::shared_ptr<Kernel>& k, sock* sk) {
    inet_sock* in = inet_sk(sk);
    py::dict d;
    d["id"] = sk->sk_id;
    d["family"] = sk->skc_family;
    d["type"] = sk->sk_type;
    d["protocol"] = sk->sk_protocol;
    d["prot"] = sk->sk_prot->name;
    d["state"] = sk->sk_state;
    d["local"] = py::make_tuple(ip_str(in->inet_rcv_saddr), in->inet_num);
    d["remote"] = py::make_tuple(ip_str(in->inet_daddr), in->inet_dport);
    d["refcnt"] = sk->sk_refcnt;
    d["wmem_alloc"] = sk->sk_wmem_alloc;
    d["rmem_alloc"] = sk->sk_rmem_alloc;
    d["rcvbuf"] = sk->sk_rcvbuf;
    d["sndbuf"] = sk->sk_sndbuf;
    d["drops"] = sk->sk_drops;
    d["err"] = sk->sk_err;
    d["shutdown"] = sk->sk_shutdown;
    d["dead"] = sk->sk_dead;
    d["hashed"] = sk->hashed;
    d["reuseaddr"] = sk->sk_reuse;
    d["reuseport"] = sk->sk_reuseport;
    d["ino"] = sk->ino;
    d["uid"] = sk->uid;
    d["sk_data_ready"] = sk->sk_data_ready == sock_def_readable ? "sock_def_readable" : "?";
    d["receive_queue"] = skb_list(sk->sk_receive_queue);
    py::list waiters;
    if (sk->sk_wq)
        for (auto& w : sk->sk_wq->wait.head)
            if (w.private_) waiters.append(task_or_none(k, w.private_));
    d["waiters"] = waiters;
    d["socket_state"] = sk->sk_socket ? static_cast<int>(sk->sk_socket->state) : -1;
    d["ops"] = sk->sk_socket && sk->sk_socket->ops ? sk->sk_socket->ops->name : "";
    return d;
}

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
    cls.def("_net_devices", [](Kernel& k) {
           py::list out;
           for (auto& d : net_of(k)->devices) {
               py::dict x;
               x["name"] = d->name;
               x["ifindex"] = d->ifindex;
               x["flags"] = d->flags;
               x["mtu"] = d->mtu;
               x["mac"] = mac_str(d->dev_addr);
               x["ip"] = ip_str(d->ip_addr);
               x["prefix_len"] = d->prefix_len;
               x["irq"] = d->irq;
               const net_device_stats& s = d->stats;
               x["stats"] = py::dict(py::arg("rx_packets") = s.rx_packets, py::arg("tx_packets") = s.tx_packets,
                                     py::arg("rx_bytes") = s.rx_bytes, py::arg("tx_bytes") = s.tx_bytes,
                                     py::arg("rx_dropped") = s.rx_dropped, py::arg("tx_dropped") = s.tx_dropped);
               x["qdisc"] = py::dict(py::arg("kind") = "pfifo_fast", py::arg("qlen") = d->qdisc.qlen(),
                                     py::arg("drops") = d->qdisc.drops, py::arg("enqueued") = d->qdisc.enqueued);
               x["queue_stopped"] = d->queue_stopped;
               x["rx_ring"] = skb_list(d->rx_ring);
               x["tx_ring"] = skb_list(d->tx_ring);
               x["napi"] = py::dict(py::arg("scheduled") = (d->napi.state & NAPI_STATE_SCHED) != 0, py::arg("polls") = d->napi.polls,
                                    py::arg("weight") = d->napi.weight);
               if (d->link) {
                   gk_link* l = d->link;
                   x["link"] = py::dict(py::arg("latency_ns") = l->latency_ns, py::arg("bandwidth_bps") = l->bandwidth_bps,
                                        py::arg("loss") = l->loss, py::arg("frames") = l->frames[d->link_end],
                                        py::arg("lost") = l->lost[d->link_end]);
               }
               out.append(x);
           }
           return out;
       })
        .def("_net_routes", [](Kernel& k) {
            py::list out;
            for (auto& r : net_of(k)->fib)
                out.append(py::dict(py::arg("dst") = ip_str(r.dst), py::arg("prefix_len") = r.prefix_len,
                                    py::arg("gateway") = r.gateway ? py::object(py::str(ip_str(r.gateway))) : py::object(py::none()),
                                    py::arg("dev") = r.dev ? r.dev->name : "lo", py::arg("table") = r.table,
                                    py::arg("type") = r.type == RTN_LOCAL ? "local" : "unicast"));
            return out;
        })
        .def("_net_neigh", [](Kernel& k) {
            py::list out;
            for (auto& e : net_of(k)->neigh) {
                const char* st = e->nud_state == NUD_PERMANENT ? "PERMANENT" : e->nud_state == NUD_REACHABLE ? "REACHABLE"
                               : e->nud_state == NUD_INCOMPLETE ? "INCOMPLETE" : e->nud_state == NUD_FAILED ? "FAILED" : "NONE";
                out.append(py::make_tuple(ip_str(e->ip), mac_str(e->ha), e->dev->name, st));
            }
            return out;
        })
        .def("_net_socks", [](std::shared_ptr<Kernel> k) {
            py::list out;
            for (auto& [id, sk] : net_of(*k)->socks) out.append(sock_dict(k, sk));
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
            py::dict d = s->sk ? sock_dict(k, s->sk) : py::dict();
            d["socket"] = py::dict(py::arg("state") = static_cast<int>(s->state), py::arg("type") = s->type,
                                   py::arg("ops") = s->ops ? s->ops->name : "", py::arg("ino") = s->ino, py::arg("file") = f->name);
            return d;
        })
        .def("_epoll_of_fd", [](std::shared_ptr<Kernel> k, int pid, int fd) {
            task_struct* t = find_task_by_vpid_in(k.get(), pid);
            if (!t || !t->files) throw py::value_error("no process " + std::to_string(pid));
            std::shared_ptr<file> fp = fd < 0 ? nullptr : fget(t->files.get(), static_cast<unsigned>(fd));
            file* f = fp.get();
            if (!f) throw py::value_error("pid " + std::to_string(pid) + " has no fd " + std::to_string(fd));
            eventpoll* ep = eventpoll_of(f);
            if (!ep) throw py::value_error("fd " + std::to_string(fd) + " of pid " + std::to_string(pid) + " is not an epoll fd");
            py::dict d;
            py::list items;
            for (auto& [key, epi] : ep->rbr)
                items.append(py::dict(py::arg("fd") = epi->ffd_fd, py::arg("file") = epi->ffd_file->name,
                                      py::arg("events") = static_cast<unsigned>(epi->event.events), py::arg("data") = static_cast<u64>(epi->event.data),
                                      py::arg("ready") = epi->on_rdllist, py::arg("wakeups") = epi->wakeups,
                                      py::arg("wait_queues") = epi->pwqlist.size()));
            d["items"] = items;
            py::list ready;
            for (epitem* epi : ep->rdllist) ready.append(epi->ffd_fd);
            d["rdllist"] = ready;
            py::list waiters;
            for (auto& w : ep->wq.head)
                if (w.private_) waiters.append(task_or_none(k, w.private_));
            d["waiters"] = waiters;
            return d;
        })
        .def("_net_protocols", [](Kernel& k) {
            net* n = net_of(k);
            py::dict d;
            py::list fam;
            for (int i = 0; i < NPROTO; i++)
                if (n->net_families[i]) fam.append(i);
            d["net_families"] = fam;
            py::list sw;
            for (int t = 0; t < SOCK_MAX; t++)
                for (auto& a : n->inetsw[t]) sw.append(py::make_tuple(a.type, a.protocol, a.prot->name, a.ops->name, a.flags));
            d["inetsw"] = sw;
            py::dict protos;
            for (int i = 0; i < IPPROTO_MAX; i++)
                if (n->inet_protos[i]) protos[py::int_(i)] = n->inet_protos[i]->name;
            d["inet_protos"] = protos;
            py::list pl;
            for (proto* p : n->proto_list) {
                long count = 0;
                for (auto& [id, sk] : n->socks) count += sk->sk_prot == p;
                pl.append(py::make_tuple(p->name, count));
            }
            d["proto_list"] = pl;
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
            d["live_skbs"] = n->live_skbs;
            return d;
        })
        .def("_sysctl", [](Kernel& k, const std::string& name, py::object value) -> py::object {
            net* n = net_of(k);
            int* iv = nullptr;
            bool* bv = nullptr;
            if (name == "net.ipv4.ip_forward") bv = &n->ip_forward;
            else if (name == "net.ipv4.ip_default_ttl") iv = &n->ip_default_ttl;
            else if (name == "net.ipv4.ip_unprivileged_port_start") iv = &n->ip_unprivileged_port_start;
            else if (name == "net.core.rmem_max") iv = &n->rmem_max;
            else if (name == "net.core.wmem_max") iv = &n->wmem_max;
            else throw py::key_error("unknown sysctl '" + name + "' (net.ipv4.ip_forward, net.ipv4.ip_default_ttl, "
                                     "net.ipv4.ip_unprivileged_port_start, net.core.rmem_max, net.core.wmem_max)");
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
                      int irq_a, int irq_b, unsigned mtu, unsigned mac_serial, bool arp) {
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
        auto names = link_machines(a.get(), b.get(), p);
        return py::make_tuple(names.first, names.second);
    });
}

}  // namespace gk
