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
    echo_error         403 InvalidSignatureException whose message quotes every header of
                       the request, as Lambda's quotes the canonical request (session token
                       included), in `parts` writes a little apart

A port nothing listens on (Lambda refusing connections) is `processes.free_port()`.
"""

import json
import socket
import time
from collections.abc import Mapping

from .aws import AwsCredentials
from .raw_lambda import RawLambda, RecordedRequest

MODES = (
    "reset",
    "reset_mid_response",
    "slow",
    "truncated",
    "not_json",
    "huge",
    "error",
    "echo_error",
)
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


def echo_error_body(request: RecordedRequest) -> bytes:
    """Lambda's answer to a bad signature: its message quotes the canonical request. Here it
    quotes every header as received (authorization too), so nothing of the call can hide."""
    quoted = "\n".join(f"{name.lower()}:{value}" for name, value in request.headers)
    message = (
        "The request signature we calculated does not match the signature you provided.\n\n"
        f"The Canonical String for this request should have been\n'{request.method}\n"
        f"{request.target}\n\n{quoted}'\n"
    )
    return json.dumps({"message": message}).encode()


def _complete(body: bytes) -> bytes:
    return _head(200, [("Content-Type", "application/json")], len(body)) + body


class FaultyLambda(RawLambda):
    """`FaultyLambda(credentials, region, mode=..., ...).start()`; point Envoy's Lambda cluster
    at `port`; read `requests` (each with its signature verdict)."""

    NAME = "the faulty Lambda"

    def __init__(
        self,
        credentials_by_access_key: Mapping[str, AwsCredentials],
        region: str,
        mode: str,
        *,
        status: int = 500,
        delay: float = 0.0,
        parts: int = 1,
    ):
        assert mode in MODES, mode
        self.mode, self.status, self.delay, self.parts = mode, status, delay, parts
        super().__init__(credentials_by_access_key, region)

    def _respond(self, connection: socket.socket, request: RecordedRequest) -> None:
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
        elif mode == "echo_error":
            body = echo_error_body(request)
            headers = [
                ("Content-Type", "application/json"),
                ("x-amzn-ErrorType", "InvalidSignatureException"),
                ("x-amzn-RequestId", "echo-error-1"),
            ]
            connection.sendall(_head(403, headers, len(body)))
            size = -(-len(body) // self.parts)
            for start in range(0, len(body), size):
                time.sleep(0.05)  # each part its own read in Envoy
                connection.sendall(body[start : start + size])
        else:
            connection.sendall(_error_answer(self.status))
