"""The capture hop: an HTTP server standing where Lambda would be.

It records every request exactly as it arrives (method, raw target, header pairs in order
and case, body), checks its signature with botocore, then forwards the request unchanged to
moto and relays the answer, or answers with a canned response the test chose.
"""

import http.client
import json
import ssl
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import unquote

from .aws import AwsCredentials
from .background import BackgroundServer
from .header_list import HeaderLookup
from .sigv4_check import SignatureVerdict, verify_sigv4

# Hop-by-hop headers: they describe one connection, never the message.
_HOP_BY_HOP = {
    "connection",
    "keep-alive",
    "proxy-connection",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
}
_NO_BODY_STATUSES = {204, 304}
UPSTREAM_TIMEOUT_SECONDS = 60


@dataclass(frozen=True)
class CannedResponse:
    status: int
    headers: list[tuple[str, str]]
    body: bytes = b""


@dataclass
class CapturedRequest(HeaderLookup):
    method: str
    target: str  # the raw request target, as on the request line
    headers: list[tuple[str, str]]  # as received: case, order and repeats kept
    body: bytes
    verdict: SignatureVerdict
    answer: CannedResponse | None = None  # what moto (or the canned response) answered
    credentials_expired: bool = False  # signed with credentials past their announced expiry

    @property
    def access_key_id(self) -> str | None:
        """The access key id in the Authorization header's credential scope."""
        authorization = next(iter(self.header_values("authorization")), "")
        _, found, rest = authorization.partition("Credential=")
        return rest.split("/", 1)[0] if found else None

    @property
    def path(self) -> str:
        return self.target.partition("?")[0]

    @property
    def query(self) -> str:
        return self.target.partition("?")[2]

    def decoded_query(self) -> list[tuple[str, str]]:
        pairs = []
        for pair in self.query.split("&") if self.query else []:
            name, _, value = pair.partition("=")
            pairs.append((unquote(name), unquote(value)))
        return pairs

    def verify_with(
        self, credentials_by_access_key: Mapping[str, AwsCredentials], region: str | None = None
    ) -> SignatureVerdict:
        """Re-run the signature check with other secrets (e.g. the wrong one a test gave)."""
        return verify_sigv4(
            self.method,
            self.target,
            self.headers,
            self.body,
            credentials_by_access_key,
            region=region,
        )

    def describe(self) -> str:
        lines = [f"{self.method} {self.target}"]
        lines += [f"{name}: {value}" for name, value in self.headers]
        lines.append(f"<body: {len(self.body)} bytes> {self.body[:200]!r}")
        lines.append(str(self.verdict))
        if self.credentials_expired:
            lines.append("signed with credentials past their announced Expiration")
        if self.answer is not None:
            lines.append(f"answered {self.answer.status} {self.answer.body[:200]!r}")
        return "\n".join(lines)


# What AWS answers to a request signed with session credentials past their expiration.
_EXPIRED_TOKEN = CannedResponse(
    403,
    [("Content-Type", "application/json"), ("x-amzn-errortype", "ExpiredTokenException")],
    json.dumps(
        {"Type": "User", "message": "The security token included in the request is expired"}
    ).encode(),
)


def _read_chunked(stream) -> bytes:
    chunks = []
    while True:
        size = int(stream.readline().split(b";")[0].strip(), 16)
        if size == 0:
            while stream.readline() not in (b"\r\n", b"\n", b""):
                pass  # trailers
            return b"".join(chunks)
        chunks.append(stream.read(size))
        stream.readline()


class CaptureHop(BackgroundServer):
    """Start with `start()`, point Envoy's Lambda cluster at `port`, read `requests`."""

    def __init__(
        self,
        upstream_port: int,
        credentials_by_access_key: Mapping[str, AwsCredentials],
        region: str | None = None,
        tls: ssl.SSLContext | None = None,
        service: str = "lambda",
    ):
        """With `tls`, the hop serves HTTPS (as Lambda's endpoint does) with that context;
        `service` is the one the signatures' scope must name."""
        self._upstream_port = upstream_port
        self._service = service
        self._credentials = dict(credentials_by_access_key)
        self._expirations: dict[str, float] = {}  # access key id -> unix time it expires
        self._region = region
        self._lock = threading.Lock()
        self._requests: list[CapturedRequest] = []
        self._canned: CannedResponse | None = None
        self._marked: dict[bytes, CannedResponse] = {}  # body marker -> its canned answer
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._server.daemon_threads = True
        if tls is not None:
            self._server.socket = tls.wrap_socket(self._server.socket, server_side=True)

    @property
    def authority(self) -> str:
        """`localhost:<port>`: the host (and the name in a TLS hop's certificate) a filter's
        `host_rewrite` gives to reach the hop."""
        return f"localhost:{self.port}"

    @property
    def requests(self) -> list[CapturedRequest]:
        with self._lock:
            return list(self._requests)

    def accept_credentials(
        self, credentials: AwsCredentials, expires_at: float | None = None
    ) -> None:
        """Verify requests signed with `credentials` too; from `expires_at` (unix seconds)
        on, answer them 403 ExpiredTokenException as AWS does, without forwarding."""
        with self._lock:
            self._credentials[credentials.access_key_id] = credentials
            if expires_at is not None:
                self._expirations[credentials.access_key_id] = expires_at

    def answer_with(self, canned: CannedResponse | None) -> None:
        """Answer every following request with `canned` (None: forward to moto again)."""
        with self._lock:
            self._canned = canned

    def answer_marked(self, marker: bytes, canned: CannedResponse) -> None:
        """Answer each following request whose body contains `marker` with `canned` (the
        others still go to moto): a few chosen requests among many get a Lambda error."""
        with self._lock:
            self._marked[marker] = canned

    def describe(self) -> str:
        captured = self.requests
        if not captured:
            return "(no request reached the capture hop)"
        return "\n\n".join(f"#{i} {r.describe()}" for i, r in enumerate(captured, 1))

    def _record(self, method, target, headers, body):
        """Record and verify the request; returns it and the canned answer, if any."""
        arrived = time.time()
        with self._lock:
            known = dict(self._credentials)
            expirations = dict(self._expirations)
        verdict = verify_sigv4(
            method, target, headers, body, known, service=self._service, region=self._region
        )
        record = CapturedRequest(method, target, headers, body, verdict)
        expires_at = expirations.get(record.access_key_id or "")
        record.credentials_expired = expires_at is not None and arrived >= expires_at
        with self._lock:
            self._requests.append(record)
            canned = _EXPIRED_TOKEN if record.credentials_expired else self._canned
            if canned is None:
                canned = next((c for m, c in self._marked.items() if m in body), None)
            return record, canned

    def _forward(self, method, target, headers, body) -> CannedResponse:
        connection = http.client.HTTPConnection(
            "127.0.0.1", self._upstream_port, timeout=UPSTREAM_TIMEOUT_SECONDS
        )
        try:
            connection.putrequest(method, target, skip_host=True, skip_accept_encoding=True)
            sent_length = False
            for name, value in headers:
                if name.lower() in _HOP_BY_HOP:
                    continue
                sent_length |= name.lower() == "content-length"
                connection.putheader(name, value)
            if not sent_length:
                connection.putheader("Content-Length", str(len(body)))
            connection.endheaders(body)
            answer = connection.getresponse()
            return CannedResponse(answer.status, answer.getheaders(), answer.read())
        finally:
            connection.close()

    def _handler_class(self):
        hop = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _capture(self):
                headers = list(self.headers.items())
                if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
                    body = _read_chunked(self.rfile)
                else:
                    body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                record, canned = hop._record(self.command, self.path, headers, body)
                try:
                    answer = canned or hop._forward(self.command, self.path, headers, body)
                except OSError as error:
                    answer = CannedResponse(
                        599,
                        [("content-type", "text/plain")],
                        f"capture hop could not reach moto: {error}".encode(),
                    )
                record.answer = answer
                self._relay(answer)

            def _relay(self, answer: CannedResponse):
                self.send_response_only(answer.status)
                for name, value in answer.headers:
                    if name.lower() not in _HOP_BY_HOP | {"content-length"}:
                        self.send_header(name, value)
                has_body = answer.status not in _NO_BODY_STATUSES and self.command != "HEAD"
                if has_body:
                    self.send_header("Content-Length", str(len(answer.body)))
                self.end_headers()
                if has_body:
                    self.wfile.write(answer.body)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _capture

            def log_message(self, format, *args):  # keep pytest's output clean
                pass

        return Handler
