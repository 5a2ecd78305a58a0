"""A Lambda stand-in that fails: where Envoy's Lambda cluster points when a test needs the
endpoint to misbehave in ways an HTTP server library will not (close without answering,
announce a longer body than it sends).

It speaks HTTP/1.1 over raw sockets, records every request as it arrived and checks its
signature with botocore (`sigv4_check`), as the capture hop does, then answers in the mode the
test chose:

    reset              read the request, close without a byte of answer
    reset_mid_response headers announcing a 1 MB JSON body, 100 bytes of it, then close
    slow               the good answer after `delay` seconds
    truncated          a complete 200 answer whose JSON body is cut short
    not_json           a complete 200 answer whose body is HTML
    huge               a complete 200 JSON answer of 6 MB + 1 KB
    error              `status` with Lambda's error headers and JSON (429 adds Retry-After)

A port nothing listens on (Lambda refusing connections) is `processes.free_port()`.
"""

import json
import socket
import socketserver
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass

from .aws import AwsCredentials
from .background import BackgroundServer
from .capture import _read_chunked
from .header_list import HeaderLookup
from .sigv4_check import SignatureVerdict, verify_sigv4

MODES = ("reset", "reset_mid_response", "slow", "truncated", "not_json", "huge", "error")
ERROR_TYPES = {
    429: "TooManyRequestsException",
    500: "ServiceException",
    502: "EC2UnexpectedException",
    503: "ServiceUnavailableException",
}
RETRY_AFTER = "7"
HUGE_BODY_BYTES = 6 * 1024 * 1024 + 1024
# The good answer: a result every payload mode reads (an `envoy` event result).
GOOD_BODY = json.dumps({"statusCode": 200, "body": "slow but fine"}).encode()


@dataclass(frozen=True)
class FaultyRequest(HeaderLookup):
    method: str
    target: str
    headers: list[tuple[str, str]]
    body: bytes
    verdict: SignatureVerdict

    def describe(self) -> str:
        lines = [f"{self.method} {self.target}"]
        lines += [f"{name}: {value}" for name, value in self.headers]
        lines.append(f"<body: {len(self.body)} bytes> {self.body[:200]!r}")
        lines.append(str(self.verdict))
        return "\n".join(lines)


def _head(status: int, headers: list[tuple[str, str]], length: int) -> bytes:
    lines = [f"HTTP/1.1 {status} Status", *(f"{n}: {v}" for n, v in headers)]
    lines += [f"Content-Length: {length}", "Connection: close"]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def _error_answer(status: int) -> bytes:
    error_type = ERROR_TYPES.get(status, "ServiceException")
    headers = [("Content-Type", "application/json"), ("x-amzn-ErrorType", error_type)]
    if status == 429:
        headers.append(("Retry-After", RETRY_AFTER))
    body = json.dumps({"Type": "Service", "message": f"{error_type} from the stand-in"}).encode()
    return _head(status, headers, len(body)) + body


def _complete(body: bytes) -> bytes:
    return _head(200, [("Content-Type", "application/json")], len(body)) + body


class FaultyLambda(BackgroundServer):
    """`FaultyLambda(credentials, region, mode=..., ...).start()`; point Envoy's Lambda cluster
    at `port`; read `requests` (each with its signature verdict)."""

    def __init__(
        self,
        credentials_by_access_key: Mapping[str, AwsCredentials],
        region: str,
        mode: str,
        *,
        status: int = 500,
        delay: float = 0.0,
    ):
        assert mode in MODES, mode
        self.mode, self.status, self.delay = mode, status, delay
        self._credentials = dict(credentials_by_access_key)
        self._region = region
        self._lock = threading.Lock()
        self._requests: list[FaultyRequest] = []
        self._released = threading.Event()  # ends slow answers early when the test stops
        self._server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), self._handler_class())
        self._server.daemon_threads = True

    @property
    def requests(self) -> list[FaultyRequest]:
        with self._lock:
            return list(self._requests)

    def describe(self) -> str:
        seen = self.requests
        if not seen:
            return f"(no request reached the faulty Lambda, mode {self.mode})"
        return "\n\n".join(f"#{i} {r.describe()}" for i, r in enumerate(seen, 1))

    def stop(self) -> None:
        self._released.set()
        super().stop()

    def _record(self, rfile) -> FaultyRequest | None:
        request_line = rfile.readline().decode("latin-1").strip()
        if not request_line:
            return None
        method, target, _ = request_line.split(" ", 2)
        headers = []
        while (line := rfile.readline()) not in (b"\r\n", b"\n", b""):
            name, _, value = line.decode("latin-1").partition(":")
            headers.append((name.strip(), value.strip()))
        lookup = {n.lower(): v for n, v in headers}
        if "chunked" in lookup.get("transfer-encoding", "").lower():
            body = _read_chunked(rfile)
        else:
            body = rfile.read(int(lookup.get("content-length", 0) or 0))
        verdict = verify_sigv4(
            method, target, headers, body, self._credentials, region=self._region
        )
        request = FaultyRequest(method, target, headers, body, verdict)
        with self._lock:
            self._requests.append(request)
        return request

    def _answer(self, connection: socket.socket) -> None:
        mode = self.mode
        if mode == "reset":
            # RST, not FIN: the connection is torn down with nothing answered.
            connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\0\0\0\0\0\0\0")
        elif mode == "reset_mid_response":
            head = _head(200, [("Content-Type", "application/json")], 1_000_000)
            connection.sendall(head + b'{"statusCode": 200, "body": "' + b"x" * 72)
            time.sleep(0.2)  # the part reaches Envoy before the close
            connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\0\0\0\0\0\0\0")
        elif mode == "slow":
            self._released.wait(self.delay)
            connection.sendall(_complete(GOOD_BODY))
        elif mode == "truncated":
            connection.sendall(_complete(GOOD_BODY[: len(GOOD_BODY) // 2]))
        elif mode == "not_json":
            body = b"<html>bad gateway</html>"
            connection.sendall(_head(200, [("Content-Type", "text/html")], len(body)) + body)
        elif mode == "huge":
            body = json.dumps({"statusCode": 200, "body": "x" * HUGE_BODY_BYTES}).encode()
            connection.sendall(_complete(body))
        else:
            connection.sendall(_error_answer(self.status))

    def _handler_class(self):
        stand_in = self

        class Handler(socketserver.StreamRequestHandler):
            def handle(self):
                if stand_in._record(self.rfile) is None:
                    return
                try:
                    stand_in._answer(self.connection)
                except OSError:
                    pass  # Envoy gave up first (its timeout): nothing to answer to

        return Handler
