"""Fixtures for every Python test. Plain helpers are in _support/gktest.py (`from gktest import ...`)."""
import pytest

import glasskernel as gk
from gktest import fork_wait, spawn_run, two_hosts, udp_client, udp_server


@pytest.fixture
def k():
    """A booted one-CPU kernel (seed 0), self-checked and free of BUG reports at teardown."""
    kernel = gk.Kernel(cpus=1, seed=0)
    yield kernel
    kernel.check()
    assert "BUG:" not in kernel.dmesg(), kernel.dmesg()


@pytest.fixture
def net2(request):
    """(net, alice, bob): two hosts on one link, alice 10.0.0.1 and bob 10.0.0.2 on eth0; the
    network is self-checked at teardown. A test's @pytest.mark.net2(...) passes its arguments to
    gktest.two_hosts (link parameters such as latency_ns or arp, names, host_args)."""
    marker = request.node.get_closest_marker("net2")
    net, a, b = two_hosts(**(marker.kwargs if marker else {}))
    yield net, a, b
    net.check()


@pytest.fixture
def udp_pair(net2):
    """A UDP server on net2's bob and a client on its alice: udp_pair(port, payloads) spawns a
    server that receives len(payloads) datagrams (or `count`) on 0.0.0.0:port and a client that
    sends each payload to 10.0.0.2:port after `delay` seconds; returns (server task, got), got
    filling with recvfrom's (data, (ip, port))."""
    _, a, b = net2

    def start(port=9000, payloads=(b"ping",), count=None, delay=0.001):
        srv, got = udp_server(b, port, len(payloads) if count is None else count)
        udp_client(a, ("10.0.0.2", port), payloads, delay)
        return srv, got
    return start


@pytest.fixture
def child_status(k):
    """Fork-then-wait on `k`: child_status(body) runs a program that forks, runs `await body(sys)`
    in the child (which then exits 0) and returns the status the parent's waitpid got."""
    def run(body):
        got = {}

        async def main(sys):
            got["status"] = (await fork_wait(sys, body))[1]   # only the parent gets here
        spawn_run(k, main)
        return got["status"]
    return run
