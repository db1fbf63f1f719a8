"""net/core/skbuff.c (cpp/net/core/skbuff.cpp): the sk_buff's layout (headroom, the MAC, network and
transport headers, data, tail, end) and its truesize charged to the receiving socket."""
import glasskernel as gk
from gktest import spawn_run


def test_skb_view_shows_the_buffer_layout():
    """sk_buff: a queued UDP datagram's data starts at its UDP header, after MAC and IP; truesize is charged to the socket."""
    k = gk.Kernel()
    seen = {}

    async def prog(sys):
        s = await sys.socket()
        await sys.bind(s, ("127.0.0.1", 4100))
        c = await sys.socket()
        await sys.sendto(c, b"layout", ("127.0.0.1", 4100))
        seen["sock"] = k.net.socket(await sys.getpid(), s)

    spawn_run(k, prog, clean=True)
    (skb,) = seen["sock"].receive_queue
    # Queued for UDP: data starts at the UDP header, after the Ethernet and IP headers.
    assert skb.transport_header == skb.data_off == skb.network_header + 20 == skb.mac_header + 34
    assert skb.len == 8 + 6 and skb.tail == skb.data_off + skb.len <= skb.end
    assert skb.data[8:] == b"layout" and skb.protocol == 0x0800
    assert seen["sock"].rmem_alloc == skb.truesize
