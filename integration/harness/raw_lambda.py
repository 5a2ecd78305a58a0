"""What the raw-socket Lambda stand-ins share (`faulty_lambda`, `streaming_lambda`): a
threading TCP server on 127.0.0.1 that reads each HTTP/1.1 request itself, records it with
its signature checked by botocore (`sigv4_check`), and hands the connection to the
subclass's `_respond` to answer as the test chose: byte by byte, where an HTTP server
library would not let it misbehave."""

import socket
import socketserver
import threading
from collections.abc import Mapping
from dataclasses import dataclass

from .aws import AwsCredentials
from .background import BackgroundServer
from .capture import _read_chunked
from .header_list import HeaderLookup
from .sigv4_check import SignatureVerdict, verify_sigv4


@dataclass(frozen=True)
class RecordedRequest(HeaderLookup):
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


class RawLambda(BackgroundServer):
    """A subclass implements `_respond(connection, request)` and names itself in `NAME` (for
    `describe`)."""

    NAME = "the stand-in Lambda"

    def __init__(self, credentials_by_access_key: Mapping[str, AwsCredentials], region: str):
        self._credentials = dict(credentials_by_access_key)
        self._region = region
        self._lock = threading.Lock()
        self._requests: list[RecordedRequest] = []
        self._released = threading.Event()  # ends waits early when the test stops
        self._server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), self._handler_class())
        self._server.daemon_threads = True

    @property
    def requests(self) -> list[RecordedRequest]:
        with self._lock:
            return list(self._requests)

    def describe(self) -> str:
        seen = self.requests
        if not seen:
            return f"(no request reached {self.NAME})"
        return "\n\n".join(f"#{i} {r.describe()}" for i, r in enumerate(seen, 1))

    def stop(self) -> None:
        self._released.set()
        super().stop()

    def _respond(self, connection: socket.socket, request: RecordedRequest) -> None:
        raise NotImplementedError

    def _record(self, rfile) -> RecordedRequest | None:
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
        request = RecordedRequest(method, target, headers, body, verdict)
        with self._lock:
            self._requests.append(request)
        return request

    def _handler_class(self):
        stand_in = self

        class Handler(socketserver.StreamRequestHandler):
            def handle(self):
                request = stand_in._record(self.rfile)
                if request is None:
                    return
                try:
                    stand_in._respond(self.connection, request)
                except OSError:
                    pass  # Envoy (or the caller behind it) went away first

        return Handler
