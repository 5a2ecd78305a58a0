"""A server of the filter's .wasm over HTTP or HTTPS, standing where a release's download
URL (`wasm_url`) would be: the generated `remote` code source fetches it through Envoy."""

import hashlib
import ssl
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from .background import BackgroundServer

WASM_PATH = "/mesh-lambda/mesh_lambda.wasm"


def sha256_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


class WasmServer(BackgroundServer):
    """Serves `wasm` at WASM_PATH (404 elsewhere); `fetches` counts the answered GETs."""

    def __init__(self, wasm: Path, tls: ssl.SSLContext | None = None):
        self._body = wasm.read_bytes()
        self.fetches = 0
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._server.daemon_threads = True
        if tls is not None:
            self._server.socket = tls.wrap_socket(self._server.socket, server_side=True)
        self.scheme = "https" if tls is not None else "http"

    def url(self, host: str = "localhost") -> str:
        return f"{self.scheme}://{host}:{self.port}{WASM_PATH}"

    def _handler_class(self):
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self):
                if self.path != WASM_PATH:
                    self.send_error(404)
                    return
                server.fetches += 1
                self.send_response(200)
                self.send_header("Content-Type", "application/wasm")
                self.send_header("Content-Length", str(len(server._body)))
                self.end_headers()
                self.wfile.write(server._body)

            def log_message(self, format, *args):
                pass

        return Handler
