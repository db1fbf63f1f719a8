// The real kernel's side of the signal benchmark, in its own file: it needs libc's signal API,
// whose macros glasskernel's headers replace with the kernel's own names.
#include <benchmark/benchmark.h>
#include <signal.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

namespace {

volatile sig_atomic_t handled = 0;
void handler(int) { handled = handled + 1; }

void BM_real_signal_roundtrip(benchmark::State& state) {
    struct sigaction sa {};
    sa.sa_handler = handler;
    sigaction(SIGUSR1, &sa, nullptr);
    pid_t me = getpid();
    long n = 0;
    for (auto _ : state) {
        kill(me, SIGUSR1);  // delivered on the way back from kill: handler + sigreturn
        n++;
    }
    signal(SIGUSR1, SIG_DFL);
    state.SetItemsProcessed(n);
    state.counters["ops_per_iter"] = 1;
}
BENCHMARK(BM_real_signal_roundtrip);

// This machine's own loopback UDP: sendto + recv of a 64-byte datagram between two sockets.
void BM_real_udp_loopback(benchmark::State& state) {
    int srv = socket(AF_INET, SOCK_DGRAM, 0), cli = socket(AF_INET, SOCK_DGRAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    bind(srv, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    socklen_t len = sizeof addr;
    getsockname(srv, reinterpret_cast<sockaddr*>(&addr), &len);
    char payload[64] = {}, buf[2048];
    for (auto _ : state) {
        sendto(cli, payload, sizeof payload, 0, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
        recv(srv, buf, sizeof buf, 0);
    }
    close(srv);
    close(cli);
    state.SetItemsProcessed(static_cast<long>(state.iterations()));
    state.counters["ops_per_iter"] = 1;
}
BENCHMARK(BM_real_udp_loopback);

// Two processes ping-pong a 64-byte datagram over loopback: per datagram.
void BM_real_udp_two_processes(benchmark::State& state) {
    int srv = socket(AF_INET, SOCK_DGRAM, 0), cli = socket(AF_INET, SOCK_DGRAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(srv, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    socklen_t len = sizeof addr;
    getsockname(srv, reinterpret_cast<sockaddr*>(&addr), &len);
    pid_t pid = fork();
    if (pid == 0) {
        char buf[2048];
        for (;;) {
            sockaddr_in from{};
            socklen_t fl = sizeof from;
            ssize_t n = recvfrom(srv, buf, sizeof buf, 0, reinterpret_cast<sockaddr*>(&from), &fl);
            if (n <= 0) _exit(0);
            if (n == 1) _exit(0);  // the stop message
            sendto(srv, buf, static_cast<size_t>(n), 0, reinterpret_cast<sockaddr*>(&from), fl);
        }
    }
    char payload[64] = {}, buf[2048];
    long n = 0;
    for (auto _ : state) {
        sendto(cli, payload, sizeof payload, 0, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
        recv(cli, buf, sizeof buf, 0);
        n += 2;
    }
    sendto(cli, payload, 1, 0, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    int status;
    waitpid(pid, &status, 0);
    close(srv);
    close(cli);
    state.SetItemsProcessed(n);
    state.counters["ops_per_iter"] = 2;
}
BENCHMARK(BM_real_udp_two_processes);

}  // namespace
