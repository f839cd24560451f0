"""Killing a Headwater process so that a test knows exactly which of its connections died with
it: the process is stopped (SIGSTOP: it can open or close nothing more), its TCP connections
are read from ``/proc`` (Linux), then it is killed (SIGKILL). A receiver that records the
sender's port of each request (:class:`tests.destinations.sink.Sink`) can then tell the requests
a killed process had in flight from every other one."""

from __future__ import annotations

import os
import signal
import subprocess
from pathlib import Path
from typing import Protocol

__all__ = ["kill_noting_ports", "tcp_ports"]


class _Killable(Protocol):
    process: subprocess.Popen[bytes]

    def kill(self) -> None: ...


def tcp_ports(pid: int) -> set[int]:
    """The local ports of process ``pid``'s TCP sockets (IPv4 and IPv6)."""
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except FileNotFoundError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[len("socket:[") : -1])
    ports = set()
    for table in ("tcp", "tcp6"):
        lines = Path(f"/proc/{pid}/net/{table}").read_text().splitlines()[1:]
        for line in lines:
            fields = line.split()
            if fields[9] in inodes:
                ports.add(int(fields[1].rsplit(":", 1)[1], 16))
    return ports


def kill_noting_ports(child: _Killable) -> set[int]:
    """Stop ``child``, note its TCP ports, kill it with SIGKILL; return the ports."""
    os.kill(child.process.pid, signal.SIGSTOP)
    try:
        return tcp_ports(child.process.pid)
    finally:
        child.kill()
