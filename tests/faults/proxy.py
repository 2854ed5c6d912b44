"""A TCP relay in front of the AWS emulator that can be taken down for a while (fault d).

While down, every open connection is reset and every new one is reset as soon as it is accepted:
to the services the emulator is unreachable, as AWS is during a network partition.
"""

from __future__ import annotations

import contextlib
import socket
import struct
import threading
import time
from collections.abc import Iterator

CHUNK = 65536


class PausableProxy:
    """Relays 127.0.0.1:`port` to 127.0.0.1:`upstream_port`; `outage(seconds)` cuts it."""

    def __init__(self, upstream_port: int) -> None:
        self.upstream_port = upstream_port
        self._listener = socket.create_server(("127.0.0.1", 0), backlog=256)
        self.port = int(self._listener.getsockname()[1])
        self._down = threading.Event()
        self._closed = threading.Event()
        self._lock = threading.Lock()
        self._open: set[socket.socket] = set()
        self.refused = 0  # connections reset while down
        self._thread = threading.Thread(target=self._accept, name="aws-relay", daemon=True)

    def start(self) -> PausableProxy:
        self._thread.start()
        return self

    def close(self) -> None:
        self._closed.set()
        self._listener.close()
        self._reset_all()

    @contextlib.contextmanager
    def down(self) -> Iterator[None]:
        """Unreachable inside the block."""
        self._down.set()
        self._reset_all()
        try:
            yield
        finally:
            self._down.clear()

    def outage(self, seconds: float) -> None:
        with self.down():
            time.sleep(seconds)

    def _accept(self) -> None:
        while not self._closed.is_set():
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            if self._down.is_set():
                self.refused += 1
                _reset(client)
                continue
            threading.Thread(target=self._relay, args=(client,), daemon=True).start()

    def _relay(self, client: socket.socket) -> None:
        try:
            upstream = socket.create_connection(("127.0.0.1", self.upstream_port), timeout=10)
        except OSError:
            _reset(client)
            return
        upstream.settimeout(None)
        with self._lock:
            self._open.update((client, upstream))
        back = threading.Thread(target=self._pump, args=(upstream, client), daemon=True)
        back.start()
        self._pump(client, upstream)
        back.join()
        with self._lock:
            self._open.difference_update((client, upstream))
        client.close()
        upstream.close()

    def _pump(self, source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(CHUNK):
                sink.sendall(data)
        except OSError:
            pass
        with contextlib.suppress(OSError):
            sink.shutdown(socket.SHUT_WR)

    def _reset_all(self) -> None:
        with self._lock:
            sockets, self._open = list(self._open), set()
        for sock in sockets:
            _reset(sock)


def _reset(sock: socket.socket) -> None:
    """Close with RST (SO_LINGER 0): the peer sees `connection reset`, not a clean end."""
    with contextlib.suppress(OSError):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)
    sock.close()
