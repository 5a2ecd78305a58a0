"""A mesh service's application: records each request exactly as it arrived and answers with
a body the test chose, so both directions can be compared byte for byte."""

import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from .header_list import HeaderLookup


@dataclass
class ReceivedRequest(HeaderLookup):
    method: str
    target: str
    headers: list[tuple[str, str]]
    body: bytes


class RecordingApp:
    def __init__(self, answer_body: bytes, answer_type: str = "application/octet-stream"):
        self.answer_body = answer_body
        self.answer_type = answer_type
        self.requests: list[ReceivedRequest] = []
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._server.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return self._server.server_address[1]

    def start(self) -> "RecordingApp":
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def _handler_class(self):
        app = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _answer(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                app.requests.append(
                    ReceivedRequest(self.command, self.path, list(self.headers.items()), body)
                )
                self.send_response(200)
                self.send_header("Content-Type", app.answer_type)
                self.send_header("Content-Length", str(len(app.answer_body)))
                self.end_headers()
                self.wfile.write(app.answer_body)

            do_GET = do_POST = do_PUT = _answer

            def log_message(self, format, *args):
                pass

        return Handler
