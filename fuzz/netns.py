"""The HTTP fuzz runs only where nothing but loopback is reachable: a network namespace of its own with `lo` alone
(`unshare -n`, which `make fuzz` uses). There, as root, it gives `lo` a few more addresses: the non-public ones the
hostile cases name (so that a fetch of one of them would reach the fuzz's listeners and be counted, instead of failing
unseen on "network unreachable"), and one public address that stands in for a public host (a positive control: the
server must fetch from it). None of this leaves the namespace, which has no other interface."""

from __future__ import annotations

import subprocess

PUBLIC = "11.22.33.44"  # a globally routable address, on `lo` inside the namespace only: the stand-in public host
# non-public addresses the hostile cases name, given to `lo` so that a connection to one would be seen
ALIASES_V4 = ("10.0.0.1", "172.16.0.1", "192.168.0.1", "100.64.0.1", "169.254.169.254", "198.18.0.1")
ALIASES_V6 = (
    "2002:a9fe:a9fe::",  # 6to4 of 169.254.169.254
    "2002:7f00:1::",  # 6to4 of 127.0.0.1
    "64:ff9b::a9fe:a9fe",  # NAT64 of 169.254.169.254
    "64:ff9b::7f00:1",  # NAT64 of 127.0.0.1
    "2001:0:a9fe:a9fe::80ff:fffe",  # Teredo: server 169.254.169.254, client 127.0.0.1
    "fc00::1",
    "fd00::1",
    "fe80::1",
)


class NotIsolated(SystemExit):
    pass


def interfaces() -> list[str]:
    """The network interfaces of this process's namespace (/proc/net/dev is per namespace; /sys/class/net is not,
    it shows the namespace /sys was mounted in)."""
    with open("/proc/net/dev") as fh:
        return [line.split(":", 1)[0].strip() for line in fh.readlines()[2:] if ":" in line]


def require_isolation() -> None:
    """Stop loudly unless this process is in a network namespace whose only interface is loopback."""
    names = interfaces()
    if names != ["lo"]:
        raise NotIsolated(
            f"refusing to run the HTTP fuzz: this network namespace has interfaces {names}, not loopback alone.\n"
            "Fuzzed URL submissions could make the server fetch arbitrary addresses. Run it with `make fuzz`, or:\n"
            "  unshare -n sh -c 'ip link set lo up && exec .venv/bin/python -m fuzz.http'"
        )


def add_aliases() -> list[str]:
    """Give `lo` the public stand-in and the non-public addresses; returns the ones that could not be added."""
    failed = []
    for addr in (PUBLIC, *ALIASES_V4):
        if _ip("-4", "addr", "add", f"{addr}/32", "dev", "lo"):
            failed.append(addr)
    for addr in ALIASES_V6:
        if _ip("-6", "addr", "add", f"{addr}/128", "dev", "lo", "nodad"):
            failed.append(addr)
    return failed


def _ip(*args: str) -> int:
    require_isolation()  # never touch the addresses of a namespace with other interfaces
    p = subprocess.run(["ip", *args], capture_output=True, text=True, check=False)
    return 0 if p.returncode == 0 or "File exists" in p.stderr else p.returncode
