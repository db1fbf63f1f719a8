"""A capture of a TCP transfer over a lossy link, read by Wireshark's tshark: well-formed frames with
correct IP and TCP checksums, and every retransmission the sender made shown as one."""
import shutil
import subprocess

import pytest

from gktest import two_hosts

pytestmark = pytest.mark.skipif(shutil.which("tshark") is None, reason="tshark is not installed (make deps installs it)")


def test_lossy_transfer_capture_is_clean_in_tshark(tmp_path):
    """tshark -r reports no error, no malformed packet, no bad checksum; it marks as many
    retransmissions as the sender counted (RetransSegs), and the handshake and both FINs."""
    net, a, b = two_hosts(latency_ns=1_000_000, loss=0.03, seed=5)
    cap = a.net.capture("eth0")
    payload = bytes((i * 7 + 3) % 251 for i in range(200_000))
    got = {}

    @b.program("/bin/srv")
    async def srv(sys):
        s = await sys.socket(2, 1)
        await sys.bind(s, ("0.0.0.0", 5001))
        await sys.listen(s)
        c, _ = await sys.accept(s)
        data = bytearray()
        while chunk := await sys.recv(c, 65536):
            data += chunk
        got["data"] = bytes(data)

    @a.program("/bin/cli")
    async def cli(sys):
        await sys.nanosleep(0.001)
        s = await sys.socket(2, 1)
        await sys.connect(s, ("10.0.0.2", 5001))
        await sys.send(s, payload)
        await sys.close(s)

    b.spawn("/bin/srv")
    a.spawn("/bin/cli")
    net.run(check=True)
    assert got["data"] == payload
    path = tmp_path / "lossy.pcap"
    frames = cap.write_pcap(str(path))
    opts = ["-o", "tcp.check_checksum:TRUE", "-o", "ip.check_checksum:TRUE"]
    expert = subprocess.run(["tshark", "-r", str(path), *opts, "-q", "-z", "expert"], capture_output=True, text=True, check=True).stdout
    assert "Errors" not in expert and "Malformed" not in expert and "checksum" not in expert.lower(), expert

    def count(filt):
        out = subprocess.run(["tshark", "-r", str(path), *opts, "-Y", filt, "-T", "fields", "-e", "frame.number"],
                             capture_output=True, text=True, check=True).stdout
        return len(out.split())
    assert count("frame") == frames
    assert count("_ws.malformed || tcp.checksum.status == 0 || ip.checksum.status == 0") == 0
    # Sent from a's side of the link: a's retransmissions are all in the capture.
    retrans = count("ip.src == 10.0.0.1 && (tcp.analysis.retransmission || tcp.analysis.fast_retransmission)")
    assert retrans == a.net.snmp["Tcp"]["RetransSegs"] > 0
    assert count("tcp.flags.syn == 1") == 2 and count("tcp.flags.fin == 1") == 2
