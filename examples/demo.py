"""The main demo: a program forks three children that exit with different codes and waits for
them. Shows the console, the process tree while the children are zombies, and the
function_graph trace of one fork and one wait4."""
import os

import glasskernel as gk

k = gk.Kernel(cpus=1, seed=0)


@k.program("/bin/demo")
async def demo(sys):
    kids = []
    for code in (3, 5, 7):
        pid = await sys.fork()
        if pid == 0:
            await sys.print(f"child {await sys.getpid()}: exiting with {code}")
            await sys.exit(code)
        kids.append(pid)
    for pid in kids:
        wpid, status = await sys.waitpid(pid, 0)
        await sys.print(f"parent: reaped {wpid}, WEXITSTATUS = {os.WEXITSTATUS(status)}")


parent = k.spawn("/bin/demo")
# Run until all three children are zombies: they exited, the parent has not waited yet.
k.run(until=lambda k: len(parent.children) == 3 and all(c.state == "Z" for c in parent.children))
print("=== process tree while the children are zombies ===")
print(k.pstree(), end="")
print(k.ps(), end="")
k.run()
k.check()
print("\n=== console ===")
print(k.console, end="")
print("\n=== function_graph: the parent's first fork() ===")
print(k.trace.function_graph("__x64_sys_clone", pid=parent.pid), end="")
print("\n=== the same call as an indented call tree ===")
print(k.trace.tree("__x64_sys_clone", pid=parent.pid), end="")
print("\n=== function_graph: the parent's first wait4() ===")
print(k.trace.function_graph("__x64_sys_wait4", pid=parent.pid), end="")
print(f"\nparent {parent.pid} exited with status {parent.exit_code:#x}; reaped by init: {parent.reaped}")

# ---- two machines and a UDP datagram (net/socket.c down to the NIC and back up) ----
net = gk.Network(seed=0)
alice, bob = net.host("alice"), net.host("bob")
net.link(alice, bob, latency_ns=50_000)  # eth0: 10.0.0.1 <-> 10.0.0.2


@bob.program("/bin/server")
async def server(sys):
    s = await sys.socket()
    await sys.bind(s, ("0.0.0.0", 9000))
    data, addr = await sys.recvfrom(s, 100)  # sleeps until sock_def_readable wakes it
    await sys.print(f"bob got {data!r} from {addr}")


@alice.program("/bin/client")
async def client(sys):
    s = await sys.socket()
    await sys.nanosleep(0.001)
    await sys.sendto(s, b"hello bob", ("10.0.0.2", 9000))


bob.spawn("/bin/server")
alice.spawn("/bin/client")
net.run(check=True)
print("\n=== two hosts: UDP across a link ===")
print(bob.console, end="")
print("\n=== bob: the NIC interrupt's softirq, up to the sleeping reader ===")
print(bob.trace.tree("net_rx_action", args=False), end="")
