"""What both ways of fronting two functions from one Envoy must show (the `functions` form
choosing by route metadata, and a filter per function enabled per route): each function's
request reaches its own Lambda signed for its own region, a route without a function reaches a
plain upstream as the caller sent it, and a caller who sends the second function's signed-call
path and route key himself is taken and signed, never passed on as he sent it."""

from dataclasses import dataclass

from harness import client
from harness.app import RecordingApp
from harness.capture import CaptureHop
from harness.expectations import assert_every_request_verified, invoke_path, the_signed_request
from harness.gateway import ROUTE_HEADER


@dataclass
class Function:
    hop: CaptureHop  # where its Lambda cluster points
    arn: str
    region: str
    path: str  # its callers' route prefix


def assert_each_function_signed_and_plain_untouched(
    envoy, east: Function, west: Function, plain: RecordingApp, west_route_key: str
) -> None:
    east_answer = client.call(envoy.url, "POST", east.path, body=b'{"to": "east"}')
    west_answer = client.call(envoy.url, "POST", west.path, body=b'{"to": "west"}')
    sent_headers = [("content-type", "text/plain"), ("x-caller", "kept")]
    untouched = client.call(
        envoy.url, "PUT", "/plain/x?y=1", headers=sent_headers, body=b"as it is"
    )

    assert east_answer.status == 200, str(east_answer)
    assert west_answer.status == 200, str(west_answer)
    for function, body in [(east, b'{"to": "east"}'), (west, b'{"to": "west"}')]:
        invoked = the_signed_request(function.hop)
        assert invoked.target == invoke_path(function.arn)
        assert invoked.header("host") == f"lambda.{function.region}.amazonaws.com"
        assert f"/{function.region}/lambda/aws4_request" in invoked.header("authorization")
        assert invoked.header(ROUTE_HEADER) is None
        assert invoked.body == body

    assert untouched.status == 200, str(untouched)
    assert untouched.body == b"plain answer"
    (received,) = plain.requests
    assert (received.method, received.target, received.body) == (
        "PUT",
        "/plain/x?y=1",
        b"as it is",
    )
    assert received.header("x-caller") == "kept"
    assert received.header("content-type") == "text/plain"
    assert received.header("authorization") is None
    assert received.header(ROUTE_HEADER) is None

    # A caller who sends the signed call's own path and route key: that route is the west
    # function's too, so the filter takes the request and signs it; nothing reaches Lambda
    # unsigned (the hop's botocore check).
    forged = client.call(
        envoy.url,
        "POST",
        invoke_path(west.arn),
        headers=[(ROUTE_HEADER, west_route_key)],
        body=b'{"to": "forged"}',
    )
    assert forged.status == 200, str(forged)
    assert len(west.hop.requests) == 2, west.hop.describe()
    assert_every_request_verified(west.hop)
    assert west.hop.requests[1].body == b'{"to": "forged"}'
    assert len(east.hop.requests) == 1, east.hop.describe()
