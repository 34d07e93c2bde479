"""A local stand-in for Slack's Socket Mode WebSocket, on 127.0.0.1.

In Socket Mode the app opens the connection: it calls `apps.connections.open` with its app-level
token (`xapp-...`, answered by `SlackStandIn`, which hands out `url` below), opens a WebSocket to
the URL it got, receives a `hello`, then gets every request Slack would have POSTed to it as an
envelope and must acknowledge each one with its `envelope_id` within 3 seconds, optionally with
a response payload (an ephemeral reply to a slash command, say).

This server speaks exactly that much of RFC 6455 over plain TCP: slack_sdk's built-in client
skips TLS for any port other than 443 ("only for library testing", in its source), so the real
client code runs unchanged. Server frames are unmasked, client frames masked; pings get pongs
with the same payload, which the client needs to consider the connection alive.
"""

from __future__ import annotations

import base64
import hashlib
import json
import socket
import socketserver
import struct
import threading
import time
import uuid
from dataclasses import dataclass
from types import TracebackType
from typing import Any

__all__ = ["Ack", "SocketModeStandIn"]

_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"  # RFC 6455, section 1.3
_TEXT, _CLOSE, _PING, _PONG = 0x1, 0x8, 0x9, 0xA


@dataclass(frozen=True)
class Ack:
    """The app's acknowledgement of one envelope, and how long after sending it arrived."""

    envelope_id: str
    payload: dict[str, Any] | None
    seconds: float


class _Connection:
    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.send_lock = threading.Lock()

    def send(self, opcode: int, payload: bytes) -> None:
        size = len(payload)
        if size < 126:
            header = struct.pack("!BB", 0x80 | opcode, size)
        elif size < 1 << 16:
            header = struct.pack("!BBH", 0x80 | opcode, 126, size)
        else:
            header = struct.pack("!BBQ", 0x80 | opcode, 127, size)
        with self.send_lock:
            self.sock.sendall(header + payload)

    def receive(self) -> tuple[int, bytes]:
        first, second = self._exactly(2)
        size = second & 0x7F
        if size == 126:
            (size,) = struct.unpack("!H", self._exactly(2))
        elif size == 127:
            (size,) = struct.unpack("!Q", self._exactly(8))
        if not second & 0x80:
            raise ConnectionError("a client frame without a mask (RFC 6455 5.1)")
        mask = self._exactly(4)
        data = self._exactly(size)
        return first & 0x0F, bytes(b ^ mask[i % 4] for i, b in enumerate(data))

    def _exactly(self, n: int) -> bytes:
        chunks, left = [], n
        while left:
            chunk = self.sock.recv(left)
            if not chunk:
                raise ConnectionError("the client closed the socket")
            chunks.append(chunk)
            left -= len(chunk)
        return b"".join(chunks)


class _Handler(socketserver.BaseRequestHandler):
    server: _Server

    def handle(self) -> None:
        standin = self.server.standin
        request = b""
        while b"\r\n\r\n" not in request:
            chunk = self.request.recv(4096)
            if not chunk:
                return
            request += chunk
        head = request.split(b"\r\n\r\n", 1)[0].decode("latin-1").split("\r\n")
        headers = {k.strip().lower(): v.strip() for k, v in (h.split(":", 1) for h in head[1:])}
        path = head[0].split(" ")[1]
        if not standin.accepts(path) or headers.get("upgrade", "").lower() != "websocket":
            self.request.sendall(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n")
            return
        accept = base64.b64encode(
            hashlib.sha1((headers["sec-websocket-key"] + _GUID).encode()).digest()
        ).decode()
        self.request.sendall(
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Accept: {accept}\r\n\r\n".encode()
        )
        connection = _Connection(self.request)
        standin._connected(connection)
        try:
            while True:
                opcode, data = connection.receive()
                if opcode == _TEXT:
                    standin._received(json.loads(data))
                elif opcode == _PING:
                    connection.send(_PONG, data)
                elif opcode == _CLOSE:
                    connection.send(_CLOSE, data[:2])
                    return
        except (ConnectionError, OSError):
            return
        finally:
            standin._disconnected(connection)


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True
    standin: SocketModeStandIn


class SocketModeStandIn:
    """The WebSocket end of Socket Mode; use as a context manager next to `SlackStandIn`."""

    def __init__(self, app_id: str = "A123456") -> None:
        self.app_id = app_id
        self._ticket = uuid.uuid4().hex
        self._cond = threading.Condition()
        self._connections: list[_Connection] = []
        self._acks: dict[str, dict[str, Any]] = {}
        self._sent_at: dict[str, float] = {}
        self._server: _Server | None = None

    def __enter__(self) -> SocketModeStandIn:
        server = _Server(("127.0.0.1", 0), _Handler)
        server.standin = self
        self._server = server
        threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                         daemon=True).start()  # fmt: skip
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    @property
    def url(self) -> str:
        """What `apps.connections.open` returns: a one-time ticket URL, as Slack's are."""
        assert self._server is not None, "use SocketModeStandIn as a context manager"
        port = self._server.server_address[1]
        return f"ws://127.0.0.1:{port}/link/?ticket={self._ticket}&app_id={self.app_id}"

    def accepts(self, path: str) -> bool:
        return f"ticket={self._ticket}" in path

    def wait_connected(self, timeout: float) -> None:
        """Until an app has connected (and been sent its hello)."""
        with self._cond:
            if not self._cond.wait_for(lambda: self._connections, timeout):
                raise AssertionError(f"no Socket Mode connection within {timeout} s")

    def send(self, kind: str, payload: dict[str, Any], retry_attempt: int = 0) -> str:
        """Send one envelope (kind: slash_commands, events_api, interactive) as Slack would;
        returns its envelope_id."""
        envelope_id = str(uuid.uuid4())
        envelope = {
            "envelope_id": envelope_id,
            "type": kind,
            "payload": payload,
            "accepts_response_payload": kind != "events_api",
            "retry_attempt": retry_attempt,
            "retry_reason": "timeout" if retry_attempt else "",
        }
        with self._cond:
            if not self._connections:
                raise AssertionError("no app is connected")
            connection = self._connections[-1]
            self._sent_at[envelope_id] = time.monotonic()
        connection.send(_TEXT, json.dumps(envelope).encode())
        return envelope_id

    def wait_ack(self, envelope_id: str, timeout: float) -> Ack:
        with self._cond:
            if not self._cond.wait_for(lambda: envelope_id in self._acks, timeout):
                raise AssertionError(f"envelope {envelope_id} was not acknowledged in {timeout} s")
            message = self._acks[envelope_id]
            return Ack(
                envelope_id, message.get("payload"), message["_at"] - self._sent_at[envelope_id]
            )

    def _connected(self, connection: _Connection) -> None:
        hello = {
            "type": "hello",
            "num_connections": 1,
            "debug_info": {"host": "applink-standin", "approximate_connection_time": 18060},
            "connection_info": {"app_id": self.app_id},
        }
        connection.send(_TEXT, json.dumps(hello).encode())
        with self._cond:
            self._connections.append(connection)
            self._cond.notify_all()

    def _disconnected(self, connection: _Connection) -> None:
        with self._cond:
            if connection in self._connections:
                self._connections.remove(connection)

    def _received(self, message: dict[str, Any]) -> None:
        envelope_id = message.get("envelope_id")
        if envelope_id is None:
            return
        with self._cond:
            self._acks[envelope_id] = {**message, "_at": time.monotonic()}
            self._cond.notify_all()
