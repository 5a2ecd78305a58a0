"""An HTTP server of the harness's own, serving from a thread until stopped."""

import threading
from http.server import ThreadingHTTPServer


class BackgroundServer:
    """For a class with a `_server: ThreadingHTTPServer` attribute: `start()`, `stop()`,
    `port`."""

    _server: ThreadingHTTPServer
    _thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return self._server.server_address[1]

    def start(self):
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
