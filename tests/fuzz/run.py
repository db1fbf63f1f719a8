"""`make fuzz`: the stateful fuzzer (tests/python/reliability/fuzz_machine.py) for a long time, in
batches, each in its own process, so that a crash (the interpreter dying) or a hang (no answer
within the batch's time) is counted like a failed check, and the seed that found it is saved.

usage: python tests/fuzz/run.py [--batches N] [--examples M] [--steps S] [--timeout SEC] [--seed BASE] [--out DIR]
Prints the totals (system calls, runs, steps, crashes, hangs, failures); exits 1 if any."""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
MACHINE = HERE.parent / "python" / "reliability" / "fuzz_machine.py"

CHILD = r"""
import importlib.util, json, sys
spec = importlib.util.spec_from_file_location("fuzz_machine", sys.argv[1])
fm = importlib.util.module_from_spec(spec)
spec.loader.exec_module(fm)
from hypothesis import HealthCheck, seed, settings
from hypothesis.stateful import run_state_machine_as_test
Machine = seed(int(sys.argv[2]))(fm.KernelMachine)
try:
    run_state_machine_as_test(Machine, settings=settings(max_examples=int(sys.argv[3]), stateful_step_count=int(sys.argv[4]),
                              deadline=None, database=None, derandomize=False,
                              suppress_health_check=list(HealthCheck)))
finally:
    print("STATS " + json.dumps(fm.STATS), flush=True)
"""


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--batches", type=int, default=40)
    p.add_argument("--examples", type=int, default=50)
    p.add_argument("--steps", type=int, default=30)
    p.add_argument("--timeout", type=float, default=600.0, help="seconds a batch may take before it counts as a hang")
    p.add_argument("--seed", type=int, default=int(time.time()) % 1_000_000)
    p.add_argument("--out", default="build/fuzz")
    a = p.parse_args()
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    totals = {"syscalls": 0, "runs": 0, "steps": 0, "programs": 0}
    bad = {"crashes": [], "hangs": [], "failures": []}
    t0 = time.time()
    for i in range(a.batches):
        s = a.seed + i
        cmd = [sys.executable, "-c", CHILD, str(MACHINE), str(s), str(a.examples), str(a.steps)]
        try:
            r = subprocess.run(cmd, capture_output=True, text=True, timeout=a.timeout, env={**os.environ, "PYTHONHASHSEED": "0"})
            text, rc = r.stdout + r.stderr, r.returncode
        except subprocess.TimeoutExpired as e:
            text, rc = (e.stdout or b"").decode(errors="replace") + (e.stderr or b"").decode(errors="replace"), None
        for line in text.splitlines():
            if line.startswith("STATS "):
                for key, v in json.loads(line[6:]).items():
                    totals[key] = totals.get(key, 0) + v
        kind = "hangs" if rc is None else "crashes" if rc < 0 else "failures" if rc else None
        status = kind or "ok"
        print(f"batch {i + 1}/{a.batches} seed {s}: {status}", flush=True)
        if kind:
            bad[kind].append(s)
            (out / f"{kind}-seed-{s}.txt").write_text(text)
    print(f"\n{a.batches} batches of {a.examples} examples x {a.steps} steps in {time.time() - t0:.0f} s")
    print(f"system calls made: {totals['syscalls']}, programs: {totals['programs']}, runs: {totals['runs']}, "
          f"engine steps checked: {totals['steps']}")
    print(f"crashes: {len(bad['crashes'])}, hangs: {len(bad['hangs'])}, failures (self-check or an exception): {len(bad['failures'])}")
    for kind, seeds in bad.items():
        if seeds:
            print(f"  {kind}: seeds {seeds} (output in {out}/)")
    return 1 if any(bad.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
