"""Networking from Python (net/, drivers/net/): several machines joined by links, the views of
devices, routes, neighbours, sockets and their queues, /proc/net-like tables, netfilter hooks
written in Python, and packet captures written as pcap files that tshark or scapy can read."""
from __future__ import annotations

import html
import struct
from typing import Any, Callable

from . import _core
from ._util import check_int, check_ns

NF_INET_PRE_ROUTING, NF_INET_LOCAL_IN, NF_INET_FORWARD, NF_INET_LOCAL_OUT, NF_INET_POST_ROUTING = range(5)
NF_DROP, NF_ACCEPT = 0, 1
TCP_STATES = {1: "ESTABLISHED", 7: "CLOSE"}


def _ip_hex(addr: str) -> str:
    a, b, c, d = (int(x) for x in addr.split("."))
    return f"{d:02X}{c:02X}{b:02X}{a:02X}"  # /proc/net shows the address as a little-endian word


class Capture:
    """Frames seen on one device (both directions), as tcpdump -i DEV would record them."""

    def __init__(self, k, dev: str):
        self._k = k
        self.dev = dev
        self._id = k._k._capture_start(dev)

    @property
    def frames(self) -> list[tuple[int, bytes]]:
        """(virtual ns, Ethernet frame) for every frame so far."""
        return self._k._k._capture_frames(self._id)

    def stop(self) -> None:
        self._k._k._capture_stop(self._id)

    def write_pcap(self, path: str) -> int:
        """Write a pcap file (nanosecond timestamps, Ethernet link type); returns the frame count."""
        frames = self.frames
        with open(path, "wb") as f:
            f.write(struct.pack("<IHHiIII", 0xA1B23C4D, 2, 4, 0, 0, 262144, 1))
            for ts, data in frames:
                f.write(struct.pack("<IIII", ts // 1_000_000_000, ts % 1_000_000_000, len(data), len(data)))
                f.write(data)
        return len(frames)


class NfHook:
    """A netfilter hook written in Python: fn(hook, packet_bytes, in_dev, out_dev) -> NF_ACCEPT/NF_DROP."""

    def __init__(self, k, hooknum: int, fn: Callable, priority: int, name: str):
        self._k = k
        self.hooknum = hooknum
        self.name = name

        def call(hook, data, indev, outdev):
            v = fn(hook, data, indev, outdev)
            if v is None or v is True:
                return NF_ACCEPT
            if v is False:
                return NF_DROP
            if v not in (NF_ACCEPT, NF_DROP):
                raise ValueError(f"a netfilter hook returns NF_ACCEPT or NF_DROP, not {v!r}")
            return v

        self._id = k._k._nf_register(hooknum, call, priority, name)

    @property
    def accepted(self) -> int:
        return self._k._k._nf_hook_stats(self._id)[0]

    @property
    def dropped(self) -> int:
        return self._k._k._nf_hook_stats(self._id)[1]

    def unregister(self) -> None:
        self._k._k._nf_unregister(self._id)


class NetView:
    """`k.net`: one machine's network stack."""

    def __init__(self, k):
        self._k = k

    @property
    def devices(self) -> dict:
        """The net_devices by name (NetDevice views, read live)."""
        return {d.name: d for d in self._k._k._net_devices()}

    @property
    def routes(self) -> list:
        """The FIB, as ip route shows it (Route views)."""
        return self._k._k._net_routes()

    @property
    def neighbours(self) -> list:
        """The neighbour table (Neighbour views: ip, mac, dev, NUD state): permanent entries from
        Network.link, or what ARP resolved."""
        return self._k._k._net_neigh()

    @property
    def sockets(self) -> list:
        """Every live sock (Sock snapshots): addresses, state, refcount, buffer use, drops, its
        receive queue (each SkBuff with its bytes) and the tasks sleeping on its wait queue."""
        return self._k._k._net_socks()

    def socket(self, pid: int, fd: int):
        """The sock behind a process's fd, with its struct socket as .socket."""
        return self._k._k._sock_of_fd(check_int(pid, "pid"), check_int(fd, "fd"))

    def epoll(self, pid: int, fd: int):
        """The eventpoll behind a process's epoll fd: its items (fd, events, data, whether ready,
        how often ep_poll_callback queued it), the ready list, and the tasks in epoll_wait."""
        return self._k._k._epoll_of_fd(check_int(pid, "pid"), check_int(fd, "fd"))

    @property
    def protocols(self):
        """The protocol tables: net_families, inetsw, inet_protos, proto_list."""
        return self._k._k._net_protocols()

    @property
    def snmp(self) -> dict:
        """The Ip, Udp, Icmp and Tcp counters of /proc/net/snmp, and TcpExt's of /proc/net/netstat."""
        return self._k._k._net_snmp()

    def sysctl(self, name: str, value: int | str | None = None) -> int | str:
        """Read (value None) or set a sysctl; net.ipv4.tcp_congestion_control takes a name ("cubic",
        "reno"). glasskernel.tcp_timewait_len_ms is the model's own knob: TIME_WAIT's length, a
        constant (60 s) in Linux."""
        if not isinstance(name, str):
            raise TypeError("a sysctl name is a str, like 'net.ipv4.ip_forward'")
        if name == "net.ipv4.tcp_congestion_control":
            if value is not None and not isinstance(value, str):
                raise TypeError("net.ipv4.tcp_congestion_control takes a name, like 'cubic'")
            return self._k._k._sysctl(name, value)
        return self._k._k._sysctl(name, None if value is None else check_int(value, "value", "long"))

    def route_add(self, dst: str, via: str | None = None, dev: str = "") -> None:
        """ip route add DST/LEN [via GW] [dev DEV]."""
        if not isinstance(dst, str) or "/" not in dst:
            raise ValueError("dst is a prefix like '10.0.1.0/24' or '0.0.0.0/0'")
        addr, plen = dst.split("/", 1)
        self._k._k._ip_route_add(addr, int(plen), via, dev)

    def capture(self, dev: str) -> Capture:
        return Capture(self._k, dev)

    def nf_register_hook(self, hooknum: int, fn: Callable, priority: int = 0, name: str = "hook") -> NfHook:
        if not callable(fn):
            raise TypeError("a netfilter hook is a callable (hook, packet, in_dev, out_dev) -> verdict")
        return NfHook(self._k, check_int(hooknum, "hooknum"), fn, check_int(priority, "priority"), str(name))

    def proc_net_udp(self) -> str:
        """Like /proc/net/udp."""
        lines = ["   sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops"]
        socks = [s for s in self.sockets if s.prot == "UDP" and s.hashed]
        for i, s in enumerate(socks):
            (la, lp), (ra, rp) = s.local, s.remote
            tx = max(0, s.wmem_alloc - 1)
            lines.append(f"{i:5d}: {_ip_hex(la)}:{lp:04X} {_ip_hex(ra)}:{rp:04X} {s.state:02X} {tx:08X}:{s.rmem_alloc:08X} "
                         f"00:00000000 00000000 {s.uid:5d}        0 {s.ino} {s.refcnt} {s.id:016x} {s.drops}")
        return "\n".join(lines) + "\n"

    def proc_net_tcp(self) -> str:
        """Like /proc/net/tcp (tcp4_seq_show): one line per TCP sock, listeners first, in hex as Linux
        prints it; the timer column says which timer runs (1 retransmit, 2 keepalive, 3 TIME_WAIT,
        4 zero-window probe)."""
        hz = 100  # USER_HZ: the clock_t of rto/ato
        lines = ["  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode"]
        socks = [s for s in self.sockets if s.prot == "TCP" and (s.state_name != "CLOSE" or s.tcp is None)]
        socks.sort(key=lambda s: (s.state_name != "LISTEN", s.id))
        for i, s in enumerate(socks):
            (la, lp), (ra, rp) = s.local, s.remote
            t = s.tcp
            if t is None:  # a TIME_WAIT sock
                lines.append(f"{i:4d}: {_ip_hex(la)}:{lp:04X} {_ip_hex(ra)}:{rp:04X} {s.state:02X} 00000000:00000000 03:00000000 "
                             f"00000000     0        0 0 {s.refcnt} {s.id:016x}")
                continue
            if t.state == "LISTEN":
                tx, rx = 0, len(t.accept_queue)
            else:
                tx, rx = (t.write_seq - t.snd_una) & 0xFFFFFFFF, max(0, (t.rcv_nxt - t.copied_seq) & 0xFFFFFFFF)
            tr, when = 0, 0.0
            for name, ms in t.timers:
                code = {"retransmit": 1, "probe0": 4, "keepalive": 2}.get(name)
                if code and not tr:
                    tr, when = code, ms
            ssthresh = -1 if t.snd_ssthresh >= 0xFFFF else t.snd_ssthresh
            lines.append(f"{i:4d}: {_ip_hex(la)}:{lp:04X} {_ip_hex(ra)}:{rp:04X} {s.state:02X} {tx:08X}:{rx:08X} "
                         f"{tr:02X}:{int(when * hz / 1000):08X} {t.retransmits:08X} {s.uid:5d} {t.probes_out:8d} {s.ino} "
                         f"{s.refcnt} {s.id:016x} {int(t.rto_ms * hz / 1000)} {int(t.ato_ms * hz / 1000)} "
                         f"{int(t.quickack) << 1 | int(t.pingpong)} {t.snd_cwnd} {ssthresh}")
        return "\n".join(lines) + "\n"

    def ss(self) -> str:
        """Like `ss -tanp`: every TCP socket with its state, queues, addresses and the processes
        holding it (users:(("comm",pid=N,fd=M)))."""
        owners = {}
        for task in self._k.tasks:
            for fd, name in task.fds.items():
                owners.setdefault(name, []).append(f'("{task.comm}",pid={task.pid},fd={fd})')
        rows = [("State", "Recv-Q", "Send-Q", "Local Address:Port", "Peer Address:Port", "Process")]
        names = {"ESTABLISHED": "ESTAB", "SYN_SENT": "SYN-SENT", "SYN_RECV": "SYN-RECV", "FIN_WAIT1": "FIN-WAIT-1",
                 "FIN_WAIT2": "FIN-WAIT-2", "TIME_WAIT": "TIME-WAIT", "CLOSE": "UNCONN", "CLOSE_WAIT": "CLOSE-WAIT",
                 "LAST_ACK": "LAST-ACK", "LISTEN": "LISTEN", "CLOSING": "CLOSING"}
        for s in sorted((s for s in self.sockets if s.prot == "TCP"), key=lambda s: (s.state_name != "LISTEN", s.id)):
            t = s.tcp
            if t is None:
                rq = sq = 0
            elif t.state == "LISTEN":
                rq, sq = len(t.accept_queue), t.max_ack_backlog
            else:
                rq, sq = max(0, (t.rcv_nxt - t.copied_seq) & 0xFFFFFFFF), (t.write_seq - t.snd_una) & 0xFFFFFFFF
            (la, lp), (ra, rp) = s.local, s.remote
            peer = f"{ra}:{rp}" if rp else "*:*"
            procs = owners.get(f"socket:[{s.ino}]") if s.ino else None
            rows.append((names.get(s.state_name, s.state_name), str(rq), str(sq), f"{la}:{lp}", peer,
                         f"users:({','.join(procs)})" if procs else ""))
        widths = [max(len(r[c]) for r in rows) for c in range(5)]
        return "\n".join("  ".join(r[c].ljust(widths[c]) for c in range(5)) + "  " + r[5] for r in rows).rstrip() + "\n"

    def _repr_html_(self) -> str:
        devs = "".join(f"<tr><td>{d.name}</td><td>{d.ip}/{d.prefix_len}</td><td>{d.mac}</td><td>{d.mtu}</td>"
                       f"<td>{d.stats.rx_packets}</td><td>{d.stats.tx_packets}</td></tr>" for d in self.devices.values())
        socks = "".join(f"<tr><td>#{s.id}</td><td>{s.prot}</td><td>{s.local[0]}:{s.local[1]}</td>"
                        f"<td>{s.remote[0]}:{s.remote[1]}</td><td>{len(s.receive_queue)}</td>"
                        f"<td>{', '.join(str(t.pid) for t in s.waiters)}</td></tr>" for s in self.sockets)
        routes = "".join(f"<tr><td>{r.dst}/{r.prefix_len}</td><td>{r.gateway or ''}</td><td>{r.dev}</td><td>{r.table}</td></tr>"
                         for r in self.routes)
        return (f"<div><b>{html.escape(self._k.hostname)}</b><table><tr><th>dev</th><th>inet</th><th>ether</th><th>mtu</th>"
                f"<th>rx</th><th>tx</th></tr>{devs}</table><table><tr><th>sock</th><th>proto</th><th>local</th><th>remote</th>"
                f"<th>queued</th><th>sleepers</th></tr>{socks}</table><table><tr><th>route</th><th>via</th><th>dev</th>"
                f"<th>table</th></tr>{routes}</table></div>")

    def proc_net_dev(self) -> str:
        """Like /proc/net/dev."""
        out = ["Inter-|   Receive                  |  Transmit", " face |bytes    packets drop      |bytes    packets drop"]
        for d in self.devices.values():
            s = d.stats
            out.append(f"{d.name:>6}: {s.rx_bytes:8d} {s.rx_packets:7d} {s.rx_dropped:4d}      "
                       f"{s.tx_bytes:8d} {s.tx_packets:7d} {s.tx_dropped:4d}")
        return "\n".join(out) + "\n"


def _nic_line(k, links: list) -> int:
    """The interrupt line of a host's next NIC: 11 for its first link, 12 for the second, ...
    (0..10 are the legacy ISA lines; the model's IO-APIC has 32)."""
    irq = 11 + sum(1 for l in links if k in (l["a"], l["b"]))
    if irq > 31:
        raise ValueError(f"host {k.hostname!r} has no interrupt line left for another NIC (lines 11..31 are taken: 21 links at most)")
    return irq


class Network:
    """Several machines and the links between them, run together in virtual time.

    >>> net = Network()
    >>> a, b = net.host("alice"), net.host("bob")
    >>> net.link(a, b)               # eth0 on each: 10.0.0.1/24 and 10.0.0.2/24
    >>> net.run()
    """

    def __init__(self, seed: int = 0):
        self.seed = check_int(seed, "seed", "unsigned long")
        self.hosts: dict[str, Any] = {}
        self._links: list[dict] = []
        self._lookahead: int | None = None

    def host(self, name: str, **kernel_args):
        from .kernel import Kernel
        if not isinstance(name, str) or not name:
            raise ValueError("a host needs a name")
        if name in self.hosts:
            raise ValueError(f"there is already a host named {name!r}")
        kernel_args.setdefault("seed", self.seed + len(self.hosts))
        k = Kernel(**kernel_args)
        k.hostname = name
        self.hosts[name] = k
        return k

    def link(self, a, b, subnet: str | None = None, *, ips: tuple[str, str] | None = None, latency_ns: int = 10_000,
             bandwidth_bps: int = 1_000_000_000, loss: float = 0.0, mtu: int = 1500, arp: bool = False,
             jitter_ns: int = 0) -> tuple[str, str]:
        """Join two hosts with a cable: a new NIC on each (ethN, with its own interrupt line),
        addresses in one subnet, a local and a connected route on each. Neighbours: each other's
        MAC as a permanent entry, or with arp=True resolved by ARP on first use. jitter_ns delays
        each frame by a further seeded amount up to it, so frames may arrive out of order. Returns
        the two device names."""
        for h in (a, b):
            if h not in self.hosts.values():
                raise ValueError("link hosts made by this Network's host()")
        n = len(self._links)
        base = subnet or f"10.0.{n}.0/24"
        try:
            net_addr, plen = base.split("/")
            parts = [int(x) for x in net_addr.split(".")]
            prefix = int(plen)
            if len(parts) != 4 or not all(0 <= x <= 255 for x in parts):
                raise ValueError
        except ValueError:
            raise ValueError(f"subnet is a prefix like '10.0.1.0/24', not {subnet!r}") from None
        if ips is None:
            ips = (".".join(map(str, parts[:3] + [parts[3] + 1])), ".".join(map(str, parts[:3] + [parts[3] + 2])))
        elif not (isinstance(ips, tuple) and len(ips) == 2 and all(isinstance(x, str) for x in ips)):
            raise TypeError("ips is a pair of addresses, like ('10.0.0.1', '10.0.0.2')")
        irq_a, irq_b = _nic_line(a, self._links), _nic_line(b, self._links)
        devs = _core._link(a._k, b._k, ips[0], ips[1], prefix, check_ns(latency_ns, "latency_ns"),
                           check_int(bandwidth_bps, "bandwidth_bps", "unsigned long"), float(loss),
                           (self.seed * 1000 + n) % (1 << 64), irq_a, irq_b, check_int(mtu, "mtu", "unsigned int"),
                           2 * n + 1, bool(arp), check_ns(jitter_ns, "jitter_ns"))
        self._links.append({"a": a, "b": b, "latency_ns": latency_ns, "devs": devs, "ips": ips})
        self._lookahead = min(self._lookahead or latency_ns, latency_ns)
        return devs

    def run(self, *, for_ns: int | None = None, until_ns: int | None = None, check: bool = False):
        """Run every host until all are quiet (or the time bound). Returns None, or (host, Stop)
        when one stopped at a breakpoint. With check, every host's self-check runs after each
        engine step (gk.KernelInconsistency names the first broken invariant)."""
        ks = list(self.hosts.values())
        if not ks:
            raise ValueError("the network has no hosts")
        limit = -1
        if for_ns is not None and until_ns is not None:
            raise ValueError("give for_ns or until_ns, not both")
        if for_ns is not None:
            limit = min(max(k.now for k in ks) + check_ns(for_ns, "for_ns"), (1 << 63) - 1)
        if until_ns is not None:
            limit = check_ns(until_ns, "until_ns")
        which = _core._run_network([k._k for k in ks], limit, self._lookahead or 10_000, bool(check))
        if which is None:
            return None
        k = ks[which]
        return k, k.stopped

    def check(self) -> None:
        for k in self.hosts.values():
            k.check()
