"""python/glasskernel/shell.py: the command line (`glasskernel`, `python -m glasskernel`): a
script mode with k predefined, an interactive shell reading stdin, its helpers and options, and
errors for bad arguments."""
import subprocess
import sys
import textwrap


def test_script_mode_runs_with_k_predefined(tmp_path):
    """`glasskernel SCRIPT ARGS`: the script runs with k, run() and ps() predefined and its own argv."""
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
    """`glasskernel -q` reads Python commands from stdin, with pstree() and k predefined."""
    out = subprocess.run([sys.executable, "-m", "glasskernel", "-q"], input="pstree()\nprint(k.task(1).comm)\n",
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert "├─init(1) S" in out.stdout and ">>> init\n" in out.stdout


def test_shell_network_helpers_and_preempt_option():
    """The shell's ip_addr(), netstat(), dmesg() helpers and --preempt; an unknown preemption model exits 2."""
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
    """The command line exits 2 for --cpus 0 or a script that does not exist, saying which."""
    out = subprocess.run([sys.executable, "-m", "glasskernel", "--cpus", "0", "-q"], input="", capture_output=True,
                         text=True, timeout=60)
    assert out.returncode == 2 and "cpus" in out.stderr
    out = subprocess.run([sys.executable, "-m", "glasskernel", "/no/such/script.py"], capture_output=True, text=True, timeout=60)
    assert out.returncode == 2 and "no such script" in out.stderr


def test_the_command_line_prints_a_scripts_program_crash(tmp_path):
    """A script run by the command line has its programs' crashes printed on stderr, as the kernel logs them."""
    script = tmp_path / "crash.py"
    script.write_text('@k.program("/bin/bad")\nasync def bad(sys):\n    1 / 0\nk.spawn("/bin/bad")\nk.run()\n')
    r = subprocess.run([sys.executable, "-m", "glasskernel", str(script)], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert "bad[5]: uncaught exception in user mode, killed by SIGSEGV" in r.stderr and "ZeroDivisionError" in r.stderr
