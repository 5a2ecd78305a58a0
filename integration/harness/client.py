"""A minimal HTTP/1.1 client that sends exactly the header pairs it is given.

The request is written from a second thread while the answer is read, so a proxy that
answers early (413 before the whole body is sent) is seen as an answer, not a broken pipe.
"""

import contextlib
import http.client
import json
import socket
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from .header_list import HeaderLookup

TIMEOUT_SECONDS = 30.0


@dataclass(frozen=True)
class Answer(HeaderLookup):
    status: int
    headers: list[tuple[str, str]]
    body: bytes
    # When the status line and headers had been read (`time.monotonic()`).
    answered_at: float = field(default=0.0, compare=False)

    def json(self):
        return json.loads(self.body)

    def __str__(self) -> str:
        head = "\n".join(f"{k}: {v}" for k, v in self.headers)
        return f"HTTP {self.status}\n{head}\n\n{self.body[:500]!r}"


def _chunked(body: bytes, chunk_size: int) -> bytes:
    chunks = [body[i : i + chunk_size] for i in range(0, len(body), chunk_size)]
    return b"".join(b"%x\r\n%s\r\n" % (len(c), c) for c in chunks) + b"0\r\n\r\n"


def call(
    base_url: str,
    method: str = "POST",
    path: str = "/",
    headers: Sequence[tuple[str, str]] = (),
    body: bytes = b"",
    chunk_size: int | None = None,
    timeout: float = TIMEOUT_SECONDS,
    chunk_delay: float = 0.0,
    body_after: float = 0.0,
) -> Answer:
    """One request on its own connection. Connection, (unless given) Host, and either
    Content-Length or, with `chunk_size`, chunked Transfer-Encoding are added; with
    `chunk_delay`, each chunk is written that many seconds after the previous one, so that
    Envoy reads them apart. `body_after`: the body is sent that many seconds after the
    headers (a slow caller)."""
    address = urlsplit(base_url)
    head = [f"{method} {path} HTTP/1.1"]
    if not any(name.lower() == "host" for name, _ in headers):
        head.append(f"Host: {address.netloc}")
    head += [f"{name}: {value}" for name, value in headers]
    writes = [body]
    if chunk_size is not None:
        head.append("Transfer-Encoding: chunked")
        writes = [
            _chunked(body[i : i + chunk_size], chunk_size).removesuffix(b"0\r\n\r\n")
            for i in range(0, len(body), chunk_size)
        ] + [b"0\r\n\r\n"]
    elif body or method in ("POST", "PUT", "PATCH"):
        head.append(f"Content-Length: {len(body)}")
    head.append("Connection: close")
    head_bytes = ("\r\n".join(head) + "\r\n\r\n").encode("latin-1")
    if body_after:
        writes = [head_bytes, *writes]
    else:
        writes[0] = head_bytes + writes[0]

    with socket.create_connection((address.hostname, address.port), timeout=timeout) as sock:
        send_error: list[OSError] = []
        answered = threading.Event()

        def send() -> None:
            try:
                for i, data in enumerate(writes):
                    if i == 1 and body_after:
                        if answered.wait(body_after):
                            return
                    elif i and chunk_delay:
                        time.sleep(chunk_delay)
                    sock.sendall(data)
            except OSError as error:  # the proxy answered and closed before reading it all
                send_error.append(error)

        sender = threading.Thread(target=send, daemon=True)
        sender.start()
        response = http.client.HTTPResponse(sock, method=method)
        try:
            response.begin()
            answered_at = time.monotonic()
            answer = Answer(response.status, response.getheaders(), response.read(), answered_at)
        except (OSError, http.client.HTTPException) as error:
            raise ConnectionError(
                f"no answer from {base_url} (send error: {send_error})"
            ) from error
        finally:
            answered.set()
            response.close()
            with contextlib.suppress(OSError):  # also ends a send blocked on a full buffer
                sock.shutdown(socket.SHUT_RDWR)
            sender.join(timeout=5)
        return answer


@dataclass(frozen=True)
class StreamedAnswer(HeaderLookup):
    """A response read as it arrived: each read's bytes with when it came
    (`time.monotonic()`), and how the body ended: `None` when cleanly, or the error the read
    raised (a reset, or a chunked body cut before its last chunk)."""

    status: int
    headers: list[tuple[str, str]]
    reads: list[tuple[float, bytes]]
    failure: Exception | None

    @property
    def body(self) -> bytes:
        return b"".join(data for _, data in self.reads)

    def __str__(self) -> str:
        head = "\n".join(f"{k}: {v}" for k, v in self.headers)
        return (
            f"HTTP {self.status}\n{head}\n\n{len(self.reads)} reads, {len(self.body)} bytes, "
            f"ended by {self.failure!r}: {self.body[:300]!r}"
        )


def stream(
    base_url: str,
    body: bytes = b"",
    headers: Sequence[tuple[str, str]] = (("Content-Type", "application/json"),),
    path: str = "/",
    timeout: float = TIMEOUT_SECONDS,
) -> StreamedAnswer:
    """POSTs `body` and reads the answer's body piece by piece as it arrives."""
    address = urlsplit(base_url)
    connection = http.client.HTTPConnection(address.hostname, address.port, timeout=timeout)
    try:
        connection.request("POST", path, body=body, headers=dict(headers))
        response = connection.getresponse()
        reads: list[tuple[float, bytes]] = []
        failure: Exception | None = None
        try:
            while data := response.read1(65536):
                reads.append((time.monotonic(), data))
        except (OSError, http.client.HTTPException) as error:
            failure = error
        return StreamedAnswer(response.status, response.getheaders(), reads, failure)
    finally:
        connection.close()


@dataclass(frozen=True)
class RawAnswer(HeaderLookup):
    """One response as its bytes arrived: the status line as written, headers, body."""

    status_line: str
    headers: list[tuple[str, str]]
    body: bytes

    @property
    def status(self) -> int:
        return int(self.status_line.split()[1])

    def __str__(self) -> str:
        head = "\n".join(f"{k}: {v}" for k, v in self.headers)
        return f"{self.status_line}\n{head}\n\n{self.body[:500]!r}"


@dataclass(frozen=True)
class RawRequest:
    method: str
    path: str = "/"
    headers: Sequence[tuple[str, str]] = ()
    body: bytes = b""


def _read_raw_answer(reader, method: str) -> RawAnswer:
    """One response read off `reader` by the HTTP/1.1 framing rules (RFC 9112 section 6.3):
    no body for HEAD, 1xx, 204 and 304; else chunked or `Content-Length` bytes. A 1xx is
    returned as it is, never skipped: the caller sees what the proxy wrote first."""
    status_line = reader.readline().decode("latin-1").rstrip("\r\n")
    if not status_line:
        raise ConnectionError("the connection closed before a response")
    headers = []
    while line := reader.readline().decode("latin-1").rstrip("\r\n"):
        name, _, value = line.partition(":")
        headers.append((name, value.strip()))
    answer = RawAnswer(status_line, headers, b"")
    status = answer.status
    if method == "HEAD" or status < 200 or status in (204, 304):
        return answer
    if (answer.header("transfer-encoding") or "").lower() == "chunked":
        body = b""
        while size := int(reader.readline().split(b";")[0], 16):
            body += reader.read(size)
            reader.readline()
        while reader.readline() not in (b"\r\n", b""):
            pass
        return RawAnswer(status_line, headers, body)
    length = int(answer.header("content-length") or 0)
    return RawAnswer(status_line, headers, reader.read(length))


def keep_alive(
    base_url: str, requests: Sequence[RawRequest], timeout: float = TIMEOUT_SECONDS
) -> tuple[list[RawAnswer], bytes]:
    """Sends `requests` one after the other on one kept-alive connection, reading one response
    for each before sending the next; returns the responses and whatever bytes the proxy
    wrote after the last of them (within a short wait): a proxy out of step with its caller
    shows up as a response that answers the wrong request, or as bytes left over."""
    address = urlsplit(base_url)
    answers = []
    with socket.create_connection((address.hostname, address.port), timeout=timeout) as sock:
        reader = sock.makefile("rb")
        for request in requests:
            head = [f"{request.method} {request.path} HTTP/1.1", f"Host: {address.netloc}"]
            head += [f"{name}: {value}" for name, value in request.headers]
            head.append(f"Content-Length: {len(request.body)}")
            sock.sendall(("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + request.body)
            answers.append(_read_raw_answer(reader, request.method))
        sock.settimeout(0.5)
        try:
            left_over = reader.read1(65536)
        except TimeoutError:
            left_over = b""
    return answers, left_over
