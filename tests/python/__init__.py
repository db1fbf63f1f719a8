"""The Python tests, laid out like the source tree: kernel/test_exit.py checks cpp/kernel/exit.cpp,
net/ipv4/test_udp.py checks cpp/net/ipv4/udp.cpp, and so on; engine/, trace/ and bindings/ check
the simulator's own parts, and reliability/ is organised by concern (fuzzing, errno against the
host, reproductions). Helpers are in _support/gktest.py, fixtures in conftest.py. Every directory
is a package, so that two files of the same name (kernel/sched/test_core.py and
net/netfilter/test_core.py) do not clash."""
