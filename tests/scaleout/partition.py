"""A network partition of NATS servers on one machine: each server's cluster routes go through
a TCP proxy on 127.0.0.1 in front of it (the servers route to and advertise the proxy's port,
so routes learnt by gossip go through it too), and a test cuts one server off and heals it.

A route connection opens with the soliciting server's ``CONNECT``, whose ``name`` is that
server's id: so each proxy knows both ends of every connection it carries, and cutting server
X closes every connection to X or from X and refuses new ones until :meth:`Partition.heal`;
separating X and Y does the same to the connections between X and Y alone.

>>> partition = Partition()
>>> with partition, NatsCluster.start(path, size=3, route_via=partition.proxy) as cluster:
...     partition.isolate(cluster.nodes[0])
...     partition.heal()
"""

from __future__ import annotations

import contextlib
import json
import socket
import threading
import time
from types import TracebackType

import httpx

from tests.natsserver import NatsNode

__all__ = ["Partition", "caught_up", "last_sequences", "meshed", "routes_of"]


def routes_of(node: NatsNode) -> set[str]:
    """The names of the servers ``node`` has a route to now (its ``/routez``)."""
    report = httpx.get(f"http://127.0.0.1:{node.monitor_port}/routez", timeout=5).json()
    return {route.get("remote_name", "") for route in report.get("routes") or []}


def meshed(nodes: list[NatsNode]) -> bool:
    """Whether every server has a route to every other one."""
    names = {node.name for node in nodes}
    return all(routes_of(node) >= names - {node.name} for node in nodes)


def last_sequences(nodes: list[NatsNode], stream: str) -> dict[str, int]:
    """Each server's own replica of ``stream``: its last sequence (monitoring ``/jsz``)."""
    found = {}
    for node in nodes:
        report = httpx.get(
            f"http://127.0.0.1:{node.monitor_port}/jsz",
            params={"streams": "true"},
            timeout=5,
        ).json()
        found[node.name] = max(
            (
                int(detail["state"]["last_seq"])
                for account in report.get("account_details", [])
                for detail in account.get("stream_detail", [])
                if detail["name"] == stream
            ),
            default=0,
        )
    return found


def caught_up(nodes: list[NatsNode], stream: str, *, within: float = 60) -> int:
    """Wait until every server's replica of ``stream`` ends at the same sequence; return it."""
    deadline = time.monotonic() + within
    while True:
        sequences = last_sequences(nodes, stream)
        if len(set(sequences.values())) == 1 and min(sequences.values()) > 0:
            return min(sequences.values())
        assert time.monotonic() < deadline, f"replicas not caught up: {sequences}"
        time.sleep(0.1)


def server_id(node: NatsNode) -> str:
    report = httpx.get(f"http://127.0.0.1:{node.monitor_port}/varz", timeout=5).json()
    return str(report["server_id"])


class _Link:
    """One proxied route connection: both sockets, and the server ids at either end."""

    def __init__(self, downstream: socket.socket, upstream: socket.socket, target: str) -> None:
        self.sockets = (downstream, upstream)
        self.target = target
        self.solicitor = ""

    def close(self) -> None:
        for sock in self.sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()


class Partition:
    """Route proxies, one per server, that cut servers off on demand."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._links: list[_Link] = []
        self._listeners: list[socket.socket] = []
        self._cut: set[str] = set()  # names and ids of the servers cut off
        self._apart: list[tuple[set[str], set[str]]] = []  # pairs of servers (names and ids)
        self._closed = threading.Event()

    def __enter__(self) -> Partition:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._closed.set()
        for listener in self._listeners:
            listener.close()
        with self._lock:
            for link in self._links:
                link.close()

    def proxy(self, name: str, cluster_port: int) -> int:
        """Start a proxy to server ``name``'s cluster port; return the proxy's port."""
        listener = socket.create_server(("127.0.0.1", 0))
        self._listeners.append(listener)
        threading.Thread(
            target=self._accept, args=(listener, name, cluster_port), daemon=True
        ).start()
        return int(listener.getsockname()[1])

    def isolate(self, node: NatsNode) -> None:
        """Cut ``node`` off from every other server: close its routes, refuse new ones."""
        identity = server_id(node)
        with self._lock:
            self._cut |= {node.name, identity}
            for link in [k for k in self._links if self._is_cut(k)]:
                link.close()
                self._links.remove(link)

    def separate(self, one: NatsNode, other: NatsNode) -> None:
        """Cut the routes between ``one`` and ``other`` alone (a partial partition): each
        keeps its routes to the rest."""
        pair = ({one.name, server_id(one)}, {other.name, server_id(other)})
        with self._lock:
            self._apart.append(pair)
            for link in [k for k in self._links if self._is_cut(k)]:
                link.close()
                self._links.remove(link)

    def heal(self) -> None:
        with self._lock:
            self._cut.clear()
            self._apart.clear()

    def _is_cut(self, link: _Link) -> bool:
        ends = {link.target, link.solicitor}
        return bool(ends & self._cut) or any(
            ends & one and ends & other for one, other in self._apart
        )

    def _accept(self, listener: socket.socket, target: str, port: int) -> None:
        while not self._closed.is_set():
            try:
                downstream, _ = listener.accept()
            except OSError:
                return
            threading.Thread(
                target=self._carry, args=(downstream, target, port), daemon=True
            ).start()

    def _carry(self, downstream: socket.socket, target: str, port: int) -> None:
        try:
            upstream = socket.create_connection(("127.0.0.1", port))
        except OSError:
            downstream.close()
            return
        link = _Link(downstream, upstream, target)
        threading.Thread(target=_pump, args=(upstream, downstream, link), daemon=True).start()
        first = _first_line(downstream)
        if first.startswith(b"CONNECT "):
            line = first.split(b"\r\n", 1)[0]
            with contextlib.suppress(ValueError):
                link.solicitor = str(json.loads(line[len(b"CONNECT ") :]).get("name", ""))
        with self._lock:
            if self._is_cut(link) or self._closed.is_set():
                link.close()
                return
            self._links.append(link)
        with contextlib.suppress(OSError):
            upstream.sendall(first)
        _pump(downstream, upstream, link)


def _first_line(sock: socket.socket) -> bytes:
    """Bytes up to and including the first CRLF (or whatever came before the peer closed)."""
    data = b""
    while b"\r\n" not in data and len(data) < 65536:
        try:
            chunk = sock.recv(4096)
        except OSError:
            break
        if not chunk:
            break
        data += chunk
    return data


def _pump(source: socket.socket, sink: socket.socket, link: _Link) -> None:
    try:
        while chunk := source.recv(65536):
            sink.sendall(chunk)
    except OSError:
        pass
    finally:
        link.close()
