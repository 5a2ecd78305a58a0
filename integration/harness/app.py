"""A mesh service's application: records each request exactly as it arrived and answers with
a body the test chose, so both directions can be compared byte for byte."""

from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from .background import BackgroundServer
from .header_list import HeaderLookup


@dataclass
class ReceivedRequest(HeaderLookup):
    method: str
    target: str
    headers: list[tuple[str, str]]
    body: bytes


class RecordingApp(BackgroundServer):
    def __init__(self, answer_body: bytes, answer_type: str = "application/octet-stream"):
        self.answer_body = answer_body
        self.answer_type = answer_type
        self.requests: list[ReceivedRequest] = []
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._server.daemon_threads = True

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
