"""Servers that fail on purpose: one that is down (nothing answers on its port) and one that
hangs (accepts the connection, then never answers); and localstripe's fixtures.

Ports: from GLAMITI_TEST_PORTS ("8331-8339") when set, so that parallel runs on one machine
keep to their own ports; otherwise any free port the system gives.
"""

from __future__ import annotations

import contextlib
import os
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest

from tests.conftest_stripe import localstripe, stripe_settings  # noqa: F401 (fixtures)


def bound_socket() -> socket.socket:
    """A TCP socket bound on 127.0.0.1 (not listening yet)."""
    spec = os.environ.get("GLAMITI_TEST_PORTS", "")
    if spec:
        first, _, last = spec.partition("-")
        candidates = range(int(first), int(last or first) + 1)
    else:
        candidates = range(0, 1)
    for port in candidates:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            sock.close()
            continue
        return sock
    raise RuntimeError(f"No free port in GLAMITI_TEST_PORTS={spec}")


def free_port() -> int:
    with bound_socket() as sock:
        return sock.getsockname()[1]


@pytest.fixture
def down_url() -> Iterator[str]:
    """A URL where nothing listens: the port is held (bound, never listening), so nobody
    else takes it and every connection is refused."""
    sock = bound_socket()
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        sock.close()


@dataclass
class HangingServer:
    url: str
    connections: list[socket.socket] = field(default_factory=list)


@pytest.fixture
def hanging_server() -> Iterator[HangingServer]:
    """Accepts connections and reads what comes, but never sends a byte back."""
    listener = bound_socket()
    listener.listen(16)
    server = HangingServer(f"http://127.0.0.1:{listener.getsockname()[1]}")
    stop = threading.Event()

    def drain(conn: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while not stop.is_set() and conn.recv(65536):
                pass

    def accept() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            server.connections.append(conn)
            threading.Thread(target=drain, args=(conn,), daemon=True).start()

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        stop.set()
        with contextlib.suppress(OSError):
            listener.shutdown(socket.SHUT_RDWR)
        listener.close()
        for conn in server.connections:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
            conn.close()
        thread.join(5)
