"""A registry stand-in on 127.0.0.1 for what a real one will not do: a token service
(`/token`) the challenge may send a client to, bodies larger than declared or than any
registry stores, and a record of every request (path and headers) so a test can see where a
password went. It serves an image layout's manifest and blobs, or whatever a test puts in
`manifests` and `blobs`.
"""

import base64
import json
import ssl
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from .background import BackgroundServer

TOKEN = "fake-registry-token"


@dataclass(frozen=True)
class Seen:
    """One request as the fake received it."""

    path: str
    authorization: str | None


def basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


class FakeRegistry(BackgroundServer):
    """`challenge` is the `WWW-Authenticate` of a 401 to a request without the expected
    authorization (`Bearer <TOKEN>` for a Bearer challenge, `basic(*users)` for a Basic one);
    None: anonymous. `/token` answers `{"token": TOKEN}` to anyone."""

    def __init__(
        self,
        *,
        challenge: str | None = None,
        user: tuple[str, str] | None = None,
        tls: ssl.SSLContext | None = None,
    ):
        self.challenge = challenge
        self.user = user
        self.seen: list[Seen] = []
        # reference (tag or digest) -> (media type, bytes)
        self.manifests: dict[str, tuple[str, bytes]] = {}
        # digest -> bytes, or a function giving the chunks of an endless or oversized body
        self.blobs: dict[str, bytes | Callable[[], Iterator[bytes]]] = {}
        # digest -> where a GET of that blob is redirected (as registries send blobs to a CDN)
        self.redirects: dict[str, str] = {}
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._server.daemon_threads = True
        if tls is not None:
            self._server.socket = tls.wrap_socket(self._server.socket, server_side=True)

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.port}"

    def serve_layout(self, layout: Path, tag: str) -> None:
        """The layout's image under `tag` (and its digest), its blobs by digest."""
        index = json.loads((layout / "index.json").read_text())
        entry = index["manifests"][0]
        for blob in (layout / "blobs" / "sha256").iterdir():
            self.blobs[f"sha256:{blob.name}"] = blob.read_bytes()
        manifest = self.blobs[entry["digest"]]
        for reference in (tag, entry["digest"]):
            self.manifests[reference] = (entry["mediaType"], manifest)

    def authorizations(self) -> list[str]:
        """Every Authorization header received, in order."""
        return [seen.authorization for seen in self.seen if seen.authorization]

    def _expected(self) -> str | None:
        if self.challenge is None:
            return None
        if self.challenge.lower().startswith("bearer"):
            return f"Bearer {TOKEN}"
        return basic(*self.user) if self.user else "no one"

    def _handler_class(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self):
                authorization = self.headers.get("Authorization")
                fake.seen.append(Seen(self.path, authorization))
                path = self.path.split("?", 1)[0]
                if path == "/token":
                    return self._send(200, "application/json", json.dumps({"token": TOKEN}))
                expected = fake._expected()
                if expected is not None and authorization != expected:
                    self.send_response(401)
                    self.send_header("WWW-Authenticate", fake.challenge)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                if path == "/v2/":
                    return self._send(200, "application/json", "{}")
                parts = path.split("/")
                found = None
                if len(parts) >= 4 and parts[-2] == "manifests":
                    found = fake.manifests.get(parts[-1])
                elif len(parts) >= 4 and parts[-2] == "blobs" and parts[-1] in fake.redirects:
                    self.send_response(307)
                    self.send_header("Location", fake.redirects[parts[-1]])
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                elif len(parts) >= 4 and parts[-2] == "blobs":
                    blob = fake.blobs.get(parts[-1])
                    found = None if blob is None else ("application/octet-stream", blob)
                if found is None:
                    return self._send(404, "application/json", '{"errors":[]}')
                media_type, body = found
                if callable(body):
                    return self._stream(media_type, body())
                return self._send(200, media_type, body)

            def _send(self, status: int, media_type: str, body: bytes | str):
                data = body.encode() if isinstance(body, str) else body
                self.send_response(status)
                self.send_header("Content-Type", media_type)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                try:
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    self.close_connection = True  # the client stopped reading: it may

            def _stream(self, media_type: str, chunks: Iterator[bytes]):
                """No Content-Length: the body ends when the client stops reading."""
                self.send_response(200)
                self.send_header("Content-Type", media_type)
                self.send_header("Connection", "close")
                self.end_headers()
                self.close_connection = True
                try:
                    for chunk in chunks:
                        self.wfile.write(chunk)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            def log_message(self, format, *args):
                pass

        return Handler
