"""The command line (`glasskernel`, `python -m glasskernel`) and SIGCHLD generation at exit."""
import os
import signal
import subprocess
import sys
import textwrap

from gktest import lines, run_checked, spawn_run


def test_script_mode_runs_with_k_predefined(tmp_path):
    script = tmp_path / "scenario.py"
    script.write_text(textwrap.dedent("""
        @k.program("/bin/hi")
        async def hi(sys, argv0, who):
            await sys.print("hi", who, await sys.getpid())
        k.spawn("/bin/hi", ["/bin/hi", sys_argv_1])
        run()
        print(k.console, end="")
        ps()
    """).replace("sys_argv_1", "__import__('sys').argv[1]"))
    out = subprocess.run([sys.executable, "-m", "glasskernel", str(script), "there"], capture_output=True, text=True,
                         timeout=60, cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines()[0] == "hi there 5"
    assert "PID  PPID" in out.stdout


def test_interactive_shell_reads_commands_from_stdin():
    out = subprocess.run([sys.executable, "-m", "glasskernel", "-q"], input="pstree()\nprint(k.task(1).comm)\n",
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert "├─init(1) S" in out.stdout and ">>> init\n" in out.stdout


def test_shell_network_helpers_and_preempt_option():
    out = subprocess.run([sys.executable, "-m", "glasskernel", "-q", "--preempt", "full"],
                         input="ip_addr()\nnetstat()\nprint(k.sched.preempt_model)\ndmesg()\n",
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert "1: lo: mtu 65536  inet 127.0.0.1/8" in out.stdout
    assert "local_address rem_address" in out.stdout and "full" in out.stdout
    bad = subprocess.run([sys.executable, "-m", "glasskernel", "-q", "--preempt", "rt"], input="", capture_output=True,
                         text=True, timeout=60)
    assert bad.returncode == 2


def test_shell_rejects_bad_arguments():
    out = subprocess.run([sys.executable, "-m", "glasskernel", "--cpus", "0", "-q"], input="", capture_output=True,
                         text=True, timeout=60)
    assert out.returncode == 2 and "cpus" in out.stderr
    out = subprocess.run([sys.executable, "-m", "glasskernel", "/no/such/script.py"], capture_output=True, text=True, timeout=60)
    assert out.returncode == 2 and "no such script" in out.stderr
