// The real kernel's side of the signal benchmark, in its own file: it needs libc's signal API,
// whose macros glasskernel's headers replace with the kernel's own names.
#include <benchmark/benchmark.h>
#include <signal.h>
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

}  // namespace
