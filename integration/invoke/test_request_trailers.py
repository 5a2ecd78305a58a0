"""Request trailers end the body: the filter must sign there too. (With trailers, the last
body callback has no end-of-stream flag; a filter that only signs at end-of-stream would let
the paused request continue unsigned when the trailers arrive.)"""

import http.client
import socket
from urllib.parse import urlsplit

from harness.expectations import the_signed_request


def post_with_trailers(base_url: str, body: bytes) -> tuple[int, bytes]:
    address = urlsplit(base_url)
    request = (
        (
            f"POST /with-trailers HTTP/1.1\r\nHost: {address.netloc}\r\n"
            "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n"
            "Trailer: x-checksum\r\nConnection: close\r\n\r\n"
        ).encode()
        + b"%x\r\n%s\r\n" % (len(body), body)
        + b"0\r\nx-checksum: abc\r\n\r\n"
    )
    with socket.create_connection((address.hostname, address.port), timeout=30) as sock:
        sock.sendall(request)
        response = http.client.HTTPResponse(sock, method="POST")
        response.begin()
        return response.status, response.read()


def test_a_request_with_trailers_is_signed_and_invoked(capture, start_envoy):
    envoy = start_envoy(http1_trailers=True)
    body = b'{"sent":"with trailers"}'

    status, answer = post_with_trailers(envoy.url, body)

    assert status == 200, answer
    assert answer == body  # the function echoes its payload
    invoked = the_signed_request(capture)  # exactly one request, verified by botocore
    assert invoked.body == body
