"""Writes notebooks/06_tcp_pipes.ipynb (the lesson's source is here, reviewable as Python)."""
import sys
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

cells = []


def md(text):
    cells.append(new_markdown_cell(text.strip("\n")))


def code(text):
    cells.append(new_code_cell(text.strip("\n")))


md(r"""
# 06 — Pipes and TCP: sleeping readers, the handshake, and a lossy link that loses nothing

Two ways for processes to talk, both byte streams, both with a reader that sleeps until bytes
arrive. A **pipe** (fs/pipe.c) is a ring of page-sized buffers between a write end and a read end
in one machine; a **TCP connection** (net/ipv4/tcp*.c) carries the same kind of stream between
machines, over a network that may drop packets. This lesson runs both on the simulated kernel and
opens them up: the pipe's ring and wait queues, the TCP handshake state by state, a reader asleep in
`sk_wait_data` and the chain of calls that wakes it, and a transfer over a lossy link with its
retransmissions and congestion window. (man pages: pipe(7), tcp(7), epoll(7).)
""")

md(r"""
## A pipeline, as a shell builds it

`producer | upper`: the shell makes a pipe, forks twice, and in each child moves one end onto fd 1
or fd 0 with `dup2` before `execve`. The reader sees end of file only when *every* write end is
closed, which is why each child closes the ends it does not use.
""")

code(r"""
import glasskernel as gk

k = gk.Kernel(seed=0)

@k.program("/bin/producer")
async def producer(sys):
    for word in ("alpha", "beta", "gamma"):
        await sys.write(1, word + "\n")
        await sys.nanosleep(0.01)

@k.program("/bin/upper")
async def upper(sys):
    while chunk := await sys.read(0, 4096):
        await sys.write(2, chunk.upper())

@k.program("/bin/sh")
async def sh(sys):
    r, w = await sys.pipe()
    if await sys.fork() == 0:
        await sys.dup2(w, 1); await sys.close(r); await sys.close(w)
        await sys.execve("/bin/producer")
    if await sys.fork() == 0:
        await sys.dup2(r, 0); await sys.close(r); await sys.close(w)
        await sys.execve("/bin/upper")
    await sys.close(r); await sys.close(w)
    await sys.wait(); await sys.wait()

shell = k.spawn("/bin/sh")
k.run(until_ns=5_000_000)
reader = next(t for t in k.tasks if t.comm == "upper")
pipe = k.pipe(reader.pid, 0)
print(pipe)
print("reader:", reader.state, "in", reader.wchan, " rd_wait:", pipe.rd_wait)
assert reader.state == "S" and reader.wchan == "pipe_read"
assert [e.func for e in pipe.rd_wait] == ["autoremove_wake_function"]
""")

md(r"""
The reader sleeps in `pipe_read` on `pipe->rd_wait`, exclusively (one reader is woken per write).
The next write goes into a page of the ring (`pipe->bufs`, 16 slots by default: 64 KiB) and
`wake_up_interruptible_sync_poll(&pipe->rd_wait, EPOLLIN)` wakes it. When the producer exits, the
last write end closes (`pipe_release`) and the reader's `read` returns `b''`.
""")

code(r"""
k.run()
k.check()
print(k.stderr)
assert k.stderr == "ALPHA\nBETA\nGAMMA\n"
print(k.trace.tree("pipe_write", args=False))
""")

md(r"""
## The ring, and why small writes are atomic

A write whose tail fits in the last page is appended to it (`PIPE_BUF_FLAG_CAN_MERGE`); anything
else takes fresh pages. So a write of at most `PIPE_BUF` (4096) bytes lands whole — never split
between two writers' data — while a larger write may interleave with another writer's.
""")

code(r"""
import os
k = gk.Kernel(seed=0)
got = {}

@k.program("/bin/fill")
async def fill(sys):
    r, w = await sys.pipe2(os.O_NONBLOCK)
    got["fds"] = (r, w)
    await sys.write(w, b"a" * 100)
    await sys.write(w, b"b" * 100)
    await sys.write(w, b"c" * 5000)
    n = 0
    try:
        while True:
            n += await sys.write(w, b"z" * 4096)
    except BlockingIOError:
        got["more before EAGAIN"] = n
    await sys.pause()

t = k.spawn("/bin/fill")
k.run(until_ns=1_000_000)
p = k.pipe(t.pid, got["fds"][0])
for b in p.bufs[:3]:
    print(b)
print("occupancy", p.occupancy, "of", p.max_usage, " then", got["more before EAGAIN"], "bytes before EAGAIN")
assert [b.len for b in p.bufs[:2]] == [1104, 4096] and p.occupancy == 16
""")

md(r"""
## TCP: the handshake, state by state

Two hosts on a link. Bob listens (`inet_listen → inet_csk_listen_start`: state `LISTEN`); Alice
connects (`tcp_v4_connect → tcp_connect` sends the SYN: `SYN_SENT`). Bob's listener answers with a
SYN-ACK from a *request sock* on its SYN queue; Alice's ACK completes the handshake and the child
socket moves to the accept queue, where `accept()` finds it. The `inet_sock_set_state` trace
events record every transition.
""")

code(r"""
net = gk.Network(seed=0)
alice, bob = net.host("alice"), net.host("bob")
net.link(alice, bob, latency_ns=1_000_000)         # 1 ms each way
bob.net.sysctl("glasskernel.tcp_timewait_len_ms", 2000)   # Linux's TIME_WAIT is 60 s; shorten it here
got = {}

@bob.program("/bin/server")
async def server(sys):
    s = await sys.socket(2, 1)                       # AF_INET, SOCK_STREAM
    await sys.bind(s, ("0.0.0.0", 5001))
    await sys.listen(s, 8)
    c, peer = await sys.accept(s)
    got["peer"] = peer
    got["request"] = await sys.read(c, 100)          # sleeps in sk_wait_data until data arrives
    await sys.send(c, b"reply")
    await sys.close(c)

@alice.program("/bin/client")
async def client(sys):
    await sys.nanosleep(0.001)
    s = await sys.socket(2, 1)
    await sys.connect(s, ("10.0.0.2", 5001))
    await sys.nanosleep(0.05)
    await sys.send(s, b"request")
    got["reply"] = await sys.recv(s, 100)
    got["eof"] = await sys.recv(s, 100)
    await sys.close(s)

srv = bob.spawn("/bin/server")
alice.spawn("/bin/client")
net.run(until_ns=20_000_000)
print(bob.net.ss())
print(alice.net.ss())
""")

md(r"""
## A reader asleep in `sk_wait_data`

The server has accepted and called `read`: `ksys_read → vfs_read → sock_read_iter → sock_recvmsg
→ inet_recvmsg → tcp_recvmsg → sk_wait_data`, which releases the socket lock and sleeps on the
socket's wait queue with `woken_wake_function`. The kernel stack shows the chain; the socket view
shows the sleeper.
""")

code(r"""
print(srv.state, srv.wchan)
print(" → ".join(srv.kernel_stack))
sk = [s for s in bob.net.sockets if s.state_name == "ESTABLISHED"][0]
print(sk, "waiters:", sk.waiters)
print(sk.tcp)
assert "sk_wait_data" in srv.kernel_stack and "tcp_recvmsg" in srv.kernel_stack
assert [t.pid for t in sk.waiters] == [srv.pid]
""")

md(r"""
## The wake-up: from the NIC interrupt to the sleeping reader

A breakpoint on `sock_def_readable` stops Bob inside the receive softirq, just after TCP queued the
data: the backtrace is the path of the segment through the stack.
""")

code(r"""
bp = bob.break_at("sock_def_readable")
host, stop = net.run()
print(stop)
print(" → ".join(stop.backtrace))
for f in ("net_rx_action", "ip_rcv", "tcp_v4_rcv", "tcp_v4_do_rcv", "tcp_rcv_established", "tcp_data_ready"):
    assert f in stop.backtrace, f
bp.remove()
net.run()
net.check()
print(got)
assert got["request"] == b"request" and got["reply"] == b"reply" and got["eof"] == b""
""")

md(r"""
## Teardown, state by state

Bob closed first (`FIN_WAIT1 → FIN_WAIT2`, then TIME_WAIT when Alice's FIN arrives); Alice went
`CLOSE_WAIT → LAST_ACK → CLOSE`. TIME_WAIT keeps the four-tuple reserved so that stray segments of
this connection cannot be taken for a new one.
""")

code(r"""
def transitions(host):
    out = []
    for e in host.trace.events:
        if e.name == "inet_sock_set_state":
            f = dict(kv.split("=") for kv in e.args.split())
            out.append(f'{f["sport"]}: {f["oldstate"]} → {f["newstate"]}')
    return out

print("alice:", *transitions(alice), sep="\n  ")
print("bob:", *transitions(bob), sep="\n  ")
assert any("FIN_WAIT2 → CLOSE" in t for t in transitions(bob))   # the sock gave way to a TIME_WAIT sock
assert any("LAST_ACK → CLOSE" in t for t in transitions(alice))
""")

md(r"""
## An epoll echo server over a lossy link

Now 3% of the frames on the link are lost. Bob runs an echo server built on `epoll`: the listening
socket and every connection sit in one epoll set, and `ep_poll_callback` — hung on each socket's
wait queue — moves a socket onto the ready list when `sock_def_readable` wakes it. Alice's two
clients each send 40 messages of 1000 bytes and check every echo. TCP's retransmissions hide every
loss.
""")

code(r"""
import select, socket as S

net = gk.Network(seed=4)
alice, bob = net.host("alice"), net.host("bob")
net.link(alice, bob, latency_ns=2_000_000, loss=0.03)
cap = alice.net.capture("eth0")
echoed = {}

@bob.program("/bin/echod")
async def echod(sys):
    lfd = await sys.socket(2, S.SOCK_STREAM | S.SOCK_NONBLOCK)
    await sys.bind(lfd, ("0.0.0.0", 7))
    await sys.listen(lfd, 16)
    ep = await sys.epoll_create1()
    await sys.epoll_ctl(ep, gk.EPOLL_CTL_ADD, lfd, select.EPOLLIN)
    conns = served = 0
    while served < 2 or conns:
        for fd, ev in await sys.epoll_wait(ep, 16):
            if fd == lfd:
                c, _ = await sys.accept4(lfd, S.SOCK_NONBLOCK)
                await sys.epoll_ctl(ep, gk.EPOLL_CTL_ADD, c, select.EPOLLIN)
                conns += 1; served += 1
                continue
            try:
                data = await sys.recv(fd, 65536)
            except BlockingIOError:      # woken, but another reader got there first
                continue
            if data:
                await sys.send(fd, data)  # small echoes: the send buffer always has room
            else:
                await sys.close(fd); conns -= 1

def make_client(i):
    async def client(sys):
        await sys.nanosleep(0.001 * (i + 1))
        s = await sys.socket(2, 1)
        await sys.connect(s, ("10.0.0.2", 7))
        ok = True
        for m in range(40):
            msg = bytes((j * 13 + i + m) % 256 for j in range(1000))
            await sys.send(s, msg)
            back = b""
            while len(back) < len(msg):
                back += await sys.recv(s, 65536)
            ok = ok and back == msg
        echoed[i] = ok
        await sys.close(s)
    return client

for i in range(2):
    alice.program(f"/bin/client{i}")(make_client(i))
    alice.spawn(f"/bin/client{i}")
bob.spawn("/bin/echod")
net.run(check=True)
print("echoes intact:", echoed)
print("alice Tcp:", alice.net.snmp["Tcp"])
print("alice TcpExt:", alice.net.snmp["TcpExt"])
assert echoed == {0: True, 1: True}
assert alice.net.snmp["Tcp"]["RetransSegs"] > 0
""")

md(r"""
## What the wire saw

The capture on Alice's `eth0` is a pcap file Wireshark reads. `tshark` marks the retransmissions
(and fast retransmissions after three duplicate ACKs) as such; it finds no malformed packet and no
bad checksum. Below, sequence numbers of Alice's data segments over time, with retransmissions in
red, and the congestion window the sender kept (`snd_cwnd`, in segments) — CUBIC's growth and its
cuts at each loss.
""")

code(r"""
import shutil, subprocess, tempfile, os
path = os.path.join(tempfile.mkdtemp(), "echo.pcap")
print(cap.write_pcap(path), "frames written to", path)
if shutil.which("tshark"):
    out = subprocess.run(["tshark", "-r", path, "-Y", "tcp.analysis.retransmission || tcp.analysis.fast_retransmission"],
                         capture_output=True, text=True).stdout
    print(out[:1500])
""")

code(r"""
import struct
import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt

# Alice's data segments to port 7, from the capture: (time, relative sequence number).
pts, seen = [], {}
for ts, frame in cap.frames:
    if len(frame) < 54 or frame[23] != 6:
        continue
    ihl = (frame[14] & 0xF) * 4
    tcp = frame[14 + ihl:]
    sport, dport, seq = struct.unpack("!HHI", tcp[:8])
    doff = (tcp[12] >> 4) * 4
    if dport != 7 or len(tcp) <= doff:
        continue
    base = seen.setdefault(sport, seq)
    pts.append((ts / 1e6, (seq - base) & 0xFFFFFFFF, (sport, seq) in seen.get("sent", set())))
    seen.setdefault("sent", set()).add((sport, seq))

fig, ax = plt.subplots(figsize=(8, 3.5))
ax.scatter([t for t, s, r in pts if not r], [s for t, s, r in pts if not r], s=2, label="first transmission")
ax.scatter([t for t, s, r in pts if r], [s for t, s, r in pts if r], s=12, c="red", label="retransmission")
ax.set_xlabel("time (ms)"); ax.set_ylabel("sequence (bytes, relative)"); ax.legend()
plt.show()
assert any(r for _, _, r in pts)
""")

code(r"""
# The congestion window over a single bulk transfer: sample the sender's tcp_sock every 2 ms.
net = gk.Network(seed=9)
alice, bob = net.host("alice"), net.host("bob")
net.link(alice, bob, latency_ns=5_000_000, loss=0.01, bandwidth_bps=100_000_000)

@bob.program("/bin/sink")
async def sink(sys):
    s = await sys.socket(2, 1)
    await sys.bind(s, ("0.0.0.0", 9))
    await sys.listen(s)
    c, _ = await sys.accept(s)
    while await sys.recv(c, 1 << 20):
        pass

@alice.program("/bin/source")
async def source(sys):
    await sys.nanosleep(0.001)
    s = await sys.socket(2, 1)
    await sys.connect(s, ("10.0.0.2", 9))
    await sys.send(s, bytes(3_000_000))
    await sys.close(s)

bob.spawn("/bin/sink"); alice.spawn("/bin/source")
samples = []
while net.run(for_ns=2_000_000) is None and alice.now < 5_000_000_000:
    t = [s.tcp for s in alice.net.sockets if s.tcp and s.tcp.state == "ESTABLISHED"]
    if t:
        samples.append((alice.now / 1e6, t[0].snd_cwnd, min(t[0].snd_ssthresh, 400), t[0].ca_state))
    elif samples:
        break

fig, ax = plt.subplots(figsize=(8, 3))
ax.plot([s[0] for s in samples], [s[1] for s in samples], label="snd_cwnd")
ax.plot([s[0] for s in samples], [s[2] for s in samples], "--", label="snd_ssthresh (capped at 400)")
ax.set_xlabel("time (ms)"); ax.set_ylabel("segments"); ax.legend()
plt.show()
print("cwnd reached", max(s[1] for s in samples), " states seen:", sorted({s[3] for s in samples}))
assert max(s[1] for s in samples) > 10 and {"Recovery", "Loss"} & {s[3] for s in samples}
""")

md(r"""
## Try it

* Set `net.ipv4.tcp_congestion_control` to `reno` on Alice (`alice.net.sysctl(...)`) and redraw
  the cwnd plot: Reno halves cwnd at a loss and grows by one segment per round trip; CUBIC falls to
  0.7 and climbs back along a cubic curve towards the old maximum.
* Make the server sleep before calling `accept` and connect more clients than the backlog allows:
  `ListenOverflows` in `bob.net.snmp["TcpExt"]` counts the SYNs dropped.
* Close a socket that still has unread data and watch the peer's `recv` fail with `ECONNRESET`
  (RFC 2525: the data was thrown away, so the connection is reset rather than closed).
""")

nb = new_notebook(cells=cells, metadata={"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}})
out = Path(__file__).parents[1] / "notebooks" / "06_tcp_pipes.ipynb"
nbformat.write(nb, out)
print("wrote", out, file=sys.stderr)
