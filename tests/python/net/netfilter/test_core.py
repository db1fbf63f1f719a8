"""net/netfilter/core.c (cpp/net/netfilter/core.cpp): nf_register_net_hook and nf_hook_slow: a hook
sees each packet at its hook point and its verdict (NF_ACCEPT, NF_DROP) is obeyed and counted."""
import pytest

import glasskernel as gk

MSG_DONTWAIT = 0x40


def test_netfilter_hook_drops_and_counts(net2):
    """nf_hook: a hook at NF_INET_LOCAL_IN sees each packet and NF_DROP drops it; hook numbers are checked."""
    net, a, b = net2
    seen = []

    def drop_udp_to_9000(hook, packet, indev, outdev):
        seen.append((hook, indev, len(packet)))
        return gk.net.NF_DROP if packet[9] == 17 and packet[22:24] == b"\x23\x28" else gk.net.NF_ACCEPT

    hook = b.net.nf_register_hook(gk.net.NF_INET_LOCAL_IN, drop_udp_to_9000)
    got = []

    @b.program("/bin/s")
    async def srv(sys):
        s = await sys.socket()
        await sys.bind(s, ("0.0.0.0", 9000))
        got.append(await sys.recvfrom(s, 100, MSG_DONTWAIT) if False else None)

    @a.program("/bin/c")
    async def cli(sys):
        s = await sys.socket()
        await sys.sendto(s, b"blocked", ("10.0.0.2", 9000))
        await sys.sendto(s, b"other", ("10.0.0.2", 9001))

    a.spawn("/bin/c")
    net.run(check=True)
    assert hook.dropped == 1 and hook.accepted == 1
    assert seen[0][0] == gk.net.NF_INET_LOCAL_IN and seen[0][1] == "eth0"
    assert b.net.snmp["Udp"]["NoPorts"] == 1  # the second reached UDP and found no socket
    hook.unregister()
    with pytest.raises(ValueError):
        b.net.nf_register_hook(7, lambda *a: 1)
    net.check()
