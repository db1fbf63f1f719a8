// Benchmarks of the C++ engine against this machine's real kernel, measured in the same run:
// a context switch (two kernel threads ping-ponging through a wait queue vs. a pipe ping-pong
// between two processes), a C++ program's fork+exit+wait vs. fork/_exit/waitpid, and a system
// call (getpid in a C++ program vs. the raw getpid syscall), interrupt and softirq paths, and a
// scheduling decision (sched_yield).
#include <array>
#include <benchmark/benchmark.h>
#include <sys/syscall.h>
#include <sched.h>
#include <sys/wait.h>
#include <unistd.h>

#include "glasskernel/builtin.h"
#include "glasskernel/linux.h"
#include "glasskernel/net/ip.h"

using namespace gk;

namespace {

struct pingpong {
    wait_queue_head wq{"bench.pingpong"};
    int turn = 0;
    long rounds = 0;
};

template <int Me>
int pinger(void* arg) {
    auto* pp = static_cast<pingpong*>(arg);
    for (long i = 0; i < pp->rounds; i++) {
        wait_queue_entry wait;
        init_wait_entry(&wait, 0);
        for (;;) {
            prepare_to_wait(&pp->wq, &wait, TASK_UNINTERRUPTIBLE);
            if (pp->turn == Me) break;
            schedule();
        }
        finish_wait(&pp->wq, &wait);
        pp->turn = 1 - Me;
        wake_up(&pp->wq);
    }
    return 0;
}

task_struct* host_kthread(Kernel& k, int (*fn)(void*), void* arg) {
    kernel_context ctx(&k);
    kernel_clone_args args;
    args.flags = CLONE_VM | CLONE_UNTRACED;
    args.exit_signal = 0;
    args.fn = fn;
    args.fn_arg = arg;
    long nr = kernel_clone(&args, k.kthreadd_task);
    return find_task_by_vpid_in(&k, static_cast<int>(nr));
}

kernel_config quiet() {
    kernel_config c;
    c.trace = false;
    return c;
}

void BM_sim_context_switch(benchmark::State& state) {
    Kernel k(quiet());
    pingpong pp;
    pp.rounds = 1000000000;
    host_kthread(k, pinger<0>, &pp);
    host_kthread(k, pinger<1>, &pp);
    u64 before = k.cpu_rq(0)->nr_switches;
    long n = 0;
    for (auto _ : state) {
        // run a bounded slice of virtual time: ~1000 switches per iteration
        u64 start = k.cpu_rq(0)->nr_switches;
        while (k.cpu_rq(0)->nr_switches - start < 1000) k.run(k.cpu_rq(0)->clock + 200000, nullptr);
        n += static_cast<long>(k.cpu_rq(0)->nr_switches - start);
    }
    state.counters["switches"] = static_cast<double>(k.cpu_rq(0)->nr_switches - before);
    state.SetItemsProcessed(n);
    state.counters["ops_per_iter"] = static_cast<double>(n) / static_cast<double>(state.iterations());
}
BENCHMARK(BM_sim_context_switch)->Unit(benchmark::kMicrosecond);

void BM_real_pipe_pingpong(benchmark::State& state) {
    int a[2], b[2];
    if (pipe(a) || pipe(b)) state.SkipWithError("pipe");
    pid_t pid = fork();
    if (pid == 0) {
        close(a[1]);  // or read() never sees EOF
        close(b[0]);
        char c;
        while (read(a[0], &c, 1) == 1) (void)!write(b[1], &c, 1);
        _exit(0);
    }
    long n = 0;
    for (auto _ : state) {
        char c = 'x';
        (void)!write(a[1], &c, 1);
        (void)!read(b[0], &c, 1);
        n += 2;  // two context switches per round trip
    }
    close(a[1]);
    waitpid(pid, nullptr, 0);
    close(a[0]); close(b[0]); close(b[1]);
    state.SetItemsProcessed(n);
    state.counters["ops_per_iter"] = static_cast<double>(n) / static_cast<double>(state.iterations());
}
BENCHMARK(BM_real_pipe_pingpong)->Unit(benchmark::kMicrosecond);

// Two processes bounce one byte over two pipes (fs/pipe.c), as BM_real_pipe_pingpong does on the
// host: each message is a pipe_write that wakes the reader sleeping in pipe_read.
constexpr long PIPE_ROUNDS = 20000;

class pipe_pingpong : public builtin<pipe_pingpong> {
    int pc = 0;
    long rounds = 0;
    int a[2] = {-1, -1}, b[2] = {-1, -1};
    bool child = false;
public:
    user_step step(task_struct* t, long ret, syscall_regs* r) override {
        unsigned long fds = local(t, 0), buf = local(t, 1);
        switch (pc) {
        case 0: pc = 1; return sys(t, r, __NR_pipe, fds);
        case 1: {
            auto p = load<std::array<int, 2>>(t, fds);
            a[0] = p[0]; a[1] = p[1];
            pc = 2;
            return sys(t, r, __NR_pipe, fds);
        }
        case 2: {
            auto p = load<std::array<int, 2>>(t, fds);
            b[0] = p[0]; b[1] = p[1];
            pc = 3;
            return sys(t, r, __NR_fork);
        }
        case 3:
            child = ret == 0;
            store(t, buf, 'x');
            pc = child ? 10 : 20;
            if (child) return sys(t, r, __NR_read, static_cast<unsigned long>(a[0]), buf, 1);
            return sys(t, r, __NR_write, static_cast<unsigned long>(a[1]), buf, 1);
        // the child: read a, write b
        case 10:
            if (ret != 1) return sys(t, r, __NR_exit_group, 0);
            pc = 11;
            return sys(t, r, __NR_write, static_cast<unsigned long>(b[1]), buf, 1);
        case 11: pc = 10; return sys(t, r, __NR_read, static_cast<unsigned long>(a[0]), buf, 1);
        // the parent: write a, read b
        case 20: pc = 21; return sys(t, r, __NR_read, static_cast<unsigned long>(b[0]), buf, 1);
        default:
            if (++rounds == PIPE_ROUNDS) return sys(t, r, __NR_exit_group, 0);  // the child sees EOF
            pc = 20;
            return sys(t, r, __NR_write, static_cast<unsigned long>(a[1]), buf, 1);
        }
    }
};

void BM_sim_pipe_pingpong(benchmark::State& state) {
    long n = 0;
    for (auto _ : state) {
        Kernel k(quiet());
        k.register_program(program{"/bin/pingpong", "builtin", [](const auto&, const auto&) { return std::make_unique<pipe_pingpong>(); }});
        long err;
        k.spawn("/bin/pingpong", {}, {}, &err);
        k.run(KTIME_MAX, nullptr);
        n += 2 * PIPE_ROUNDS;
    }
    state.SetItemsProcessed(n);
    state.counters["ops_per_iter"] = static_cast<double>(n) / static_cast<double>(state.iterations());
}
BENCHMARK(BM_sim_pipe_pingpong)->Unit(benchmark::kMillisecond);

// fork(); child exits; parent waits; again, `rounds` times.
class fork_loop : public builtin<fork_loop> {
    int pc = 0;
    long left;
public:
    explicit fork_loop(long n) : left(n) {}
    user_step step(task_struct* t, long ret, syscall_regs* r) override {
        switch (pc) {
        case 0:
            if (left-- <= 0) return sys(t, r, __NR_exit_group, 0);
            pc = 1;
            return sys(t, r, __NR_fork);
        case 1:
            if (ret == 0) return sys(t, r, __NR_exit_group, 0);
            pc = 0;
            return sys(t, r, __NR_wait4, static_cast<unsigned long>(ret), 0, 0, 0);
        }
        return sys(t, r, __NR_exit_group, 1);
    }
};

void BM_sim_fork_exit_wait(benchmark::State& state) {
    Kernel k(quiet());
    static constexpr long rounds = 1000;
    k.register_program(program{"/bin/forkloop", "builtin", [](const auto&, const auto&) { return std::make_unique<fork_loop>(rounds); }});
    long n = 0;
    for (auto _ : state) {
        long err;
        k.spawn("/bin/forkloop", {}, {}, &err);
        k.run(KTIME_MAX, nullptr);
        n += rounds;
    }
    state.SetItemsProcessed(n);
    state.counters["ops_per_iter"] = static_cast<double>(n) / static_cast<double>(state.iterations());
}
BENCHMARK(BM_sim_fork_exit_wait)->Unit(benchmark::kMillisecond);

void BM_real_fork_exit_wait(benchmark::State& state) {
    long n = 0;
    for (auto _ : state) {
        pid_t pid = fork();
        if (pid == 0) _exit(0);
        waitpid(pid, nullptr, 0);
        n++;
    }
    state.SetItemsProcessed(n);
    state.counters["ops_per_iter"] = static_cast<double>(n) / static_cast<double>(state.iterations());
}
BENCHMARK(BM_real_fork_exit_wait)->Unit(benchmark::kMicrosecond);

class getpid_loop : public builtin<getpid_loop> {
    long left;
public:
    explicit getpid_loop(long n) : left(n) {}
    user_step step(task_struct* t, long, syscall_regs* r) override {
        if (left-- <= 0) return sys(t, r, __NR_exit_group, 0);
        return sys(t, r, __NR_getpid);
    }
};

void BM_sim_getpid(benchmark::State& state) {
    Kernel k(quiet());
    static constexpr long rounds = 100000;
    k.register_program(program{"/bin/getpidloop", "builtin", [](const auto&, const auto&) { return std::make_unique<getpid_loop>(rounds); }});
    long n = 0;
    for (auto _ : state) {
        long err;
        k.spawn("/bin/getpidloop", {}, {}, &err);
        k.run(KTIME_MAX, nullptr);
        n += rounds;
    }
    state.SetItemsProcessed(n);
    state.counters["ops_per_iter"] = static_cast<double>(n) / static_cast<double>(state.iterations());
}
BENCHMARK(BM_sim_getpid)->Unit(benchmark::kMillisecond);

void BM_real_getpid(benchmark::State& state) {
    long n = 0;
    for (auto _ : state) {
        benchmark::DoNotOptimize(syscall(SYS_getpid));
        n++;
    }
    state.SetItemsProcessed(n);
    state.counters["ops_per_iter"] = static_cast<double>(n) / static_cast<double>(state.iterations());
}
BENCHMARK(BM_real_getpid);

// sigaction(SIGUSR1, handler); then kill(getpid(), SIGUSR1) `rounds` times: each one is
// generation, delivery through setup_rt_frame, the handler, and rt_sigreturn.
class signal_loop : public builtin<signal_loop> {
    int pc = 0;
    long left;
    long me = 0;

public:
    long handled = 0;
    explicit signal_loop(long n) : left(n) {}
    void handle_signal(int) override { handled++; }
    user_step step(task_struct* t, long ret, syscall_regs* r) override {
        switch (pc) {
        case 0:
            pc = 1;
            return sys(t, r, __NR_getpid);
        case 1: {
            me = ret;
            pc = 2;
            gk::sigaction act{0x401000 /* the handler's address */, 0, 0, 0};
            store(t, local(t, 0), act);
            return sys(t, r, __NR_rt_sigaction, SIGUSR1, local(t, 0), 0, sizeof(gk::sigset_t));
        }
        default:
            if (left-- <= 0) return sys(t, r, __NR_exit_group, handled > 0 ? 0 : 1);
            return sys(t, r, __NR_kill, static_cast<unsigned long>(me), SIGUSR1);
        }
    }
};

void BM_sim_signal_roundtrip(benchmark::State& state) {
    Kernel k(quiet());
    static constexpr long rounds = 20000;
    k.register_program(program{"/bin/sigloop", "builtin", [](const auto&, const auto&) { return std::make_unique<signal_loop>(rounds); }});
    long n = 0;
    for (auto _ : state) {
        long err;
        auto t = k.spawn("/bin/sigloop", {}, {}, &err);
        k.run(KTIME_MAX, nullptr);
        if (t->exit_code != 0) state.SkipWithError("the handler did not run");
        n += rounds;
    }
    state.SetItemsProcessed(n);
    state.counters["ops_per_iter"] = static_cast<double>(n) / static_cast<double>(state.iterations());
}
BENCHMARK(BM_sim_signal_roundtrip)->Unit(benchmark::kMillisecond);

struct loop_arg {
    long rounds;
    long done = 0;
};

void noop_softirq(softirq_action*) {}
irqreturn noop_irq(int, void*) { return IRQ_HANDLED; }

int softirq_loop(void* p) {
    auto* a = static_cast<loop_arg*>(p);
    for (long i = 0; i < a->rounds; i++) {
        local_bh_disable();
        raise_softirq(NET_TX_SOFTIRQ);
        local_bh_enable();  // runs the raised softirq here
        a->done++;
    }
    return 0;
}

int irq_loop(void* p) {
    auto* a = static_cast<loop_arg*>(p);
    Kernel* k = this_kernel;
    for (long i = 0; i < a->rounds; i++) {
        k->irq_arrivals[k->this_cpu].emplace(k->now(), 5);
        handle_pending_interrupts();  // common_interrupt → handler → irq_exit
        a->done++;
    }
    return 0;
}

void run_kthread_loop(benchmark::State& state, int (*fn)(void*), bool with_irq) {
    static constexpr long rounds = 100000;
    long n = 0;
    for (auto _ : state) {
        Kernel k(quiet());
        {
            kernel_context ctx(&k);
            open_softirq(NET_TX_SOFTIRQ, noop_softirq);
            if (with_irq) request_irq(5, noop_irq, 0, "bench", nullptr);
        }
        loop_arg a{rounds};
        host_kthread(k, fn, &a);
        k.run(KTIME_MAX, nullptr);
        if (a.done != rounds) state.SkipWithError("the loop did not finish");
        n += rounds;
    }
    state.SetItemsProcessed(n);
    state.counters["ops_per_iter"] = static_cast<double>(n) / static_cast<double>(state.iterations());
}

void BM_sim_softirq_raise_handle(benchmark::State& state) { run_kthread_loop(state, softirq_loop, false); }
BENCHMARK(BM_sim_softirq_raise_handle)->Unit(benchmark::kMillisecond);

void BM_sim_irq_entry_exit(benchmark::State& state) { run_kthread_loop(state, irq_loop, true); }
BENCHMARK(BM_sim_irq_entry_exit)->Unit(benchmark::kMillisecond);

// A scheduling decision: sched_yield() runs schedule(), which puts the task back and walks the
// classes (stop, rt, fair, idle) to pick the next one. Alone on its CPU the task picks itself;
// with seven others queued each decision also switches to the leftmost of the CFS tree.
int yield_loop(void* p) {
    auto* a = static_cast<loop_arg*>(p);
    for (long i = 0; i < a->rounds; i++) {
        do_sched_yield();
        a->done++;
    }
    return 0;
}

void run_yielders(benchmark::State& state, int threads) {
    static constexpr long rounds = 100000;
    long n = 0;
    for (auto _ : state) {
        Kernel k(quiet());
        std::vector<loop_arg> args(threads, loop_arg{rounds});
        for (auto& a : args) host_kthread(k, yield_loop, &a);
        k.run(KTIME_MAX, nullptr);
        for (auto& a : args)
            if (a.done != rounds) state.SkipWithError("the loop did not finish");
        n += rounds * threads;
    }
    state.SetItemsProcessed(n);
    state.counters["ops_per_iter"] = static_cast<double>(n) / static_cast<double>(state.iterations());
}

void BM_sim_sched_yield_alone(benchmark::State& state) { run_yielders(state, 1); }
BENCHMARK(BM_sim_sched_yield_alone)->Unit(benchmark::kMillisecond);

void BM_sim_sched_yield_8(benchmark::State& state) { run_yielders(state, 8); }
BENCHMARK(BM_sim_sched_yield_8)->Unit(benchmark::kMillisecond);

void BM_real_sched_yield(benchmark::State& state) {
    for (auto _ : state) sched_yield();
    state.SetItemsProcessed(static_cast<long>(state.iterations()));
    state.counters["ops_per_iter"] = 1;
}
BENCHMARK(BM_real_sched_yield);

// UDP through the whole simulated stack over lo: a kernel thread sends a 64-byte datagram from
// one socket to another and receives it (udp_sendmsg ... loopback_xmit → netif_rx → NET_RX on
// local_bh_enable → ip_rcv ... __udp_enqueue_schedule_skb, then udp_recvmsg).
int udp_loop(void* p) {
    auto* a = static_cast<loop_arg*>(p);
    socket *srv = nullptr, *cli = nullptr;
    sock_create_kern(AF_INET, SOCK_DGRAM, 0, &srv);
    sock_create_kern(AF_INET, SOCK_DGRAM, 0, &cli);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(0x7f000001);
    addr.sin_port = htons(9000);
    kernel_bind(srv, reinterpret_cast<struct sockaddr*>(&addr), sizeof addr);
    char payload[64], buf[2048];
    memset(payload, 'x', sizeof payload);
    for (long i = 0; i < a->rounds; i++) {
        msghdr out;
        out.msg_name = &addr;
        out.msg_namelen = sizeof addr;
        kernel_sendmsg(cli, &out, payload, sizeof payload);
        msghdr in;
        if (kernel_recvmsg(srv, &in, buf, sizeof buf, 0) == 64) a->done++;
    }
    sock_release(srv);
    sock_release(cli);
    return 0;
}

void BM_sim_udp_loopback(benchmark::State& state) { run_kthread_loop(state, udp_loop, false); }
BENCHMARK(BM_sim_udp_loopback)->Unit(benchmark::kMillisecond);

// Two C++ programs ping-pong a 64-byte datagram over lo through the socket system calls: each
// round trip is two datagrams, two sleeps in recvfrom and two wake-ups by sock_def_readable.
sockaddr_in sockaddr_lo(u16 port) {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(0x7f000001);
    return a;
}

constexpr long UDP_ROUNDS = 20000;

// Its locals: the peer's address (slot 0), its length (slot 1), the buffer (slots 2..).
class udp_echo_server : public builtin<udp_echo_server> {
    int pc = 0;
    long fd = -1, rounds = 0;
public:
    user_step step(task_struct* t, long ret, syscall_regs* r) override {
        unsigned long addr = local(t, 0), addrlen = local(t, 1), buf = local(t, 20);
        switch (pc) {
        case 0: pc = 1; return sys(t, r, __NR_socket, AF_INET, SOCK_DGRAM, 0);
        case 1:
            fd = ret;
            pc = 2;
            store(t, addr, sockaddr_lo(9000));
            return sys(t, r, __NR_bind, static_cast<unsigned long>(fd), addr, sizeof(sockaddr_in));
        case 2:
            pc = 3;
            store(t, addrlen, static_cast<int>(sizeof(sockaddr_in)));
            return sys(t, r, __NR_recvfrom, static_cast<unsigned long>(fd), buf, 2048, 0, addr, addrlen);
        default:
            if (++rounds > UDP_ROUNDS) return sys(t, r, __NR_exit_group, 0);
            pc = 2;
            return sys(t, r, __NR_sendto, static_cast<unsigned long>(fd), buf, static_cast<unsigned long>(ret), 0, addr,
                       sizeof(sockaddr_in));
        }
    }
};

class udp_echo_client : public builtin<udp_echo_client> {
    int pc = 0;
    long fd = -1, rounds = 0;
public:
    user_step step(task_struct* t, long ret, syscall_regs* r) override {
        unsigned long addr = local(t, 0), ts = local(t, 1), buf = local(t, 20);
        switch (pc) {
        case 0:
            pc = 1;  // let the server bind first
            store(t, ts, __kernel_timespec{0, 1000});
            return sys(t, r, __NR_nanosleep, ts, 0);
        case 1: pc = 2; return sys(t, r, __NR_socket, AF_INET, SOCK_DGRAM, 0);
        case 2:
            fd = ret;
            store(t, addr, sockaddr_lo(9000));
            store(t, buf, std::array<char, 64>{'x'});
            [[fallthrough]];
        case 3:
            if (rounds++ == UDP_ROUNDS) return sys(t, r, __NR_exit_group, 0);
            pc = 4;
            return sys(t, r, __NR_sendto, static_cast<unsigned long>(fd), buf, 64, 0, addr, sizeof(sockaddr_in));
        default: pc = 3; return sys(t, r, __NR_recvfrom, static_cast<unsigned long>(fd), buf, 2048, 0, 0, 0);
        }
    }
};

void BM_sim_udp_two_programs(benchmark::State& state) {
    long n = 0;
    for (auto _ : state) {
        Kernel k(quiet());
        k.register_program(program{"/bin/udpsrv", "builtin", [](const std::vector<std::string>&, const std::vector<std::string>&) {
                                       return std::unique_ptr<user_image>(new udp_echo_server());
                                   }});
        k.register_program(program{"/bin/udpcli", "builtin", [](const std::vector<std::string>&, const std::vector<std::string>&) {
                                       return std::unique_ptr<user_image>(new udp_echo_client());
                                   }});
        long err;
        auto srv = k.spawn("/bin/udpsrv", {}, {}, &err);
        auto cli = k.spawn("/bin/udpcli", {}, {}, &err);
        k.run(KTIME_MAX, nullptr);
        if (kernel_net(&k)->udp.InDatagrams != 2 * UDP_ROUNDS) state.SkipWithError("datagrams were lost");
        n += 2 * UDP_ROUNDS;
    }
    state.SetItemsProcessed(n);
    state.counters["ops_per_iter"] = static_cast<double>(n) / static_cast<double>(state.iterations());
}
BENCHMARK(BM_sim_udp_two_programs)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
