"""Random sequences of socket calls (hypothesis): whatever the arguments, each call succeeds or
fails with an errno, the program and the kernel survive, and the self-check holds throughout."""
import errno

from hypothesis import given, settings, strategies as st

import glasskernel as gk
from gktest import run_checked

HOSTS = ["127.0.0.1", "0.0.0.0", "10.1.1.1", "255.255.255.255", "127.0.0.2"]
op = st.one_of(
    st.tuples(st.just("socket"), st.sampled_from([1, 2, 3, 5, 99, -1]), st.sampled_from([0, 1, 6, 17, 255, 999])),
    st.tuples(st.just("bind"), st.integers(0, 7), st.sampled_from(HOSTS), st.sampled_from([0, 80, 5000, 65535])),
    st.tuples(st.just("connect"), st.integers(0, 7), st.sampled_from(HOSTS + [None]), st.sampled_from([0, 5000])),
    st.tuples(st.just("sendto"), st.integers(0, 7), st.sampled_from([0, 1, 1500, 4000, 70000]), st.sampled_from(HOSTS),
              st.sampled_from([5000, 0])),
    st.tuples(st.just("recv"), st.integers(0, 7), st.sampled_from([0, 1, 100, 100000])),
    st.tuples(st.just("close"), st.integers(0, 7)),
    st.tuples(st.just("shutdown"), st.integers(0, 7), st.integers(-1, 3)),
    st.tuples(st.just("setsockopt"), st.integers(0, 7), st.sampled_from([0, 1, 99]), st.integers(0, 40), st.integers(-2, 1 << 20)),
)


@settings(max_examples=150, deadline=None, derandomize=True)
@given(st.lists(op, max_size=25))
def test_random_socket_calls_keep_the_kernel_consistent(ops):
    k = gk.Kernel()
    seen_errnos = set()

    @k.program("/bin/fuzz")
    async def fuzz(sys):
        for o in ops:
            try:
                if o[0] == "socket":
                    await sys.socket(2, o[1], o[2])
                elif o[0] == "bind":
                    await sys.bind(o[1], (o[2], o[3]))
                elif o[0] == "connect":
                    await sys.connect(o[1], None if o[2] is None else (o[2], o[3]))
                elif o[0] == "sendto":
                    await sys.sendto(o[1], bytes(o[2]), (o[3], o[4]), 0x40)
                elif o[0] == "recv":
                    await sys.recvfrom(o[1], o[2], 0x40)
                elif o[0] == "close":
                    await sys.close(o[1])
                elif o[0] == "shutdown":
                    await sys.shutdown(o[1], o[2])
                else:
                    await sys.setsockopt(o[1], o[2], o[3], o[4])
            except OSError as e:
                seen_errnos.add(e.errno)

    t = k.spawn("/bin/fuzz")
    run_checked(k)
    assert t.traceback is None, t.traceback
    assert seen_errnos <= set(errno.errorcode)
    assert k.net.sockets == []  # every socket closed when the program exited
    assert k.net.snmp["live_skbs"] == 0
