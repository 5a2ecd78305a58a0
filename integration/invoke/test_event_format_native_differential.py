"""The default event format against Envoy's native `aws_lambda` filter (payload_passthrough
false), in one Envoy: the same requests through both give the same event JSON (parsed) at
the upstream, and the same function results give the same HTTP responses. Where mesh-lambda
differs on purpose (function errors, malformed results) the README lists it; those are
tested on their own (test_event_format.py)."""

import copy
import json

import pytest

from harness import client
from harness.capture import CannedResponse
from harness.envoy import FILTER_NAME, render_config

NATIVE, MESH = "native", "mesh"

REQUESTS = {
    "json": ("POST", "/login", [("content-type", "application/json")], b'{"user":"alice"}'),
    "text": ("POST", "/notes", [("content-type", "text/plain")], "caf\u00e9 au lait".encode()),
    "binary": ("PUT", "/blob", [("content-type", "application/octet-stream")], bytes(range(64))),
    "json-charset": (
        "POST",
        "/",
        [("content-type", "application/json; charset=utf-8")],
        b'{"a":1}',
    ),
    "uppercase-type": ("POST", "/", [("content-type", "Application/JSON")], b'{"a":1}'),
    "no-type": ("POST", "/", [], b"raw"),
    "query-and-repeats": (
        "GET",
        "/search?q=a%20b&q=second&flag&empty=&=novalue&a=1&&b=2",
        [("x-tag", "one"), ("x-tag", "two"), ("cookie", "a=1"), ("cookie", "b=2")],
        b"",
    ),
    "non-ascii-path": ("GET", "/caf%C3%A9/%E2%9C%93?x=%C3%A9", [("accept", "*/*")], b""),
    "empty-json": ("POST", "/", [("content-type", "application/json")], b""),
    "delete": ("DELETE", "/items/7", [("authorization", "Bearer caller-token")], b""),
}

RESULTS = {
    "full": {
        "statusCode": 201,
        "headers": {"x-a": "1", "content-type": "text/html"},
        "cookies": ["c=1", "d=2"],
        "body": "<p>hi</p>",
    },
    "snake-case-base64": {"status_code": 202, "body": "aGk=", "is_base64_encoded": True},
    "empty": {},
    "body-only": {"body": "plain"},
}
# Headers of the answer that differ between any two responses.
VOLATILE = {"date", "x-envoy-upstream-service-time", "x-request-id"}


def start_both(aws, capture, wasm_path, start_bootstrap, mode: dict) -> dict:
    """One Envoy with two listeners, the native filter's and mesh-lambda's, to one cluster;
    `mode`: the `payload_passthrough` field both filters get (empty: left to the default)."""
    config = render_config(
        wasm_path=wasm_path,
        plugin_configuration=json.dumps({"arn": aws.function_arn, **mode}),
        lambda_port=capture.port,
    )
    [mesh] = config["static_resources"]["listeners"]
    mesh["name"] = MESH
    native = copy.deepcopy(mesh)
    native["name"] = NATIVE
    manager = native["filter_chains"][0]["filters"][0]["typed_config"]
    # The native filter signs the Host the request has when it runs, before the router:
    # a route's Host rewrite, which mesh-lambda's signed requests need, would break its.
    del manager["route_config"]["virtual_hosts"][0]["routes"][0]["route"]["host_rewrite_literal"]
    filters = manager["http_filters"]
    [index] = [i for i, f in enumerate(filters) if f["name"] == FILTER_NAME]
    filters[index] = {
        "name": "envoy.filters.http.aws_lambda",
        "typed_config": {
            "@type": "type.googleapis.com/envoy.extensions.filters.http.aws_lambda.v3.Config",
            "arn": aws.function_arn,
            **mode,
            "invocation_mode": "SYNCHRONOUS",
        },
    }
    config["static_resources"]["listeners"].append(native)
    [cluster] = config["static_resources"]["clusters"]
    # Without it the native filter passes requests through unsigned.
    cluster["metadata"] = {"filter_metadata": {"com.amazonaws.lambda": {"egress_gateway": True}}}
    envoy = start_bootstrap("both", config, aws.user_credentials.as_environment())
    return {NATIVE: envoy.listener_url(NATIVE), MESH: envoy.listener_url(MESH)}


@pytest.fixture
def both(aws, capture, wasm_path, start_bootstrap):
    return start_both(aws, capture, wasm_path, start_bootstrap, {"payload_passthrough": False})


def event_at_upstream(capture, url, request) -> dict:
    method, path, headers, body = request
    before = len(capture.requests)
    answer = client.call(url, method, path, headers, body)
    assert answer.status == 200, str(answer)
    [invoked] = capture.requests[before:]
    assert invoked.verdict.ok, invoked.describe()
    event = json.loads(invoked.body)
    event["headers"].pop("x-request-id", None)
    return event


@pytest.mark.parametrize("name", REQUESTS)
def test_the_same_request_gives_the_same_event(capture, both, name):
    request = REQUESTS[name]
    native = event_at_upstream(capture, both[NATIVE], request)
    mesh = event_at_upstream(capture, both[MESH], request)
    assert mesh == native


@pytest.mark.parametrize("name", RESULTS)
@pytest.mark.parametrize("method", ["POST", "GET"])
def test_the_same_result_gives_the_same_response(capture, both, name, method):
    capture.answer_with(
        CannedResponse(
            200, [("content-type", "application/json")], json.dumps(RESULTS[name]).encode()
        )
    )
    body = b"{}" if method == "POST" else b""
    answers = {
        side: client.call(both[side], method, "/", [("content-type", "application/json")], body)
        for side in (NATIVE, MESH)
    }

    # Listed in the README: mesh-lambda answers from the Invoke call it sent (Envoy's local
    # reply), which drops content-type when the body is empty.
    volatile = VOLATILE | ({"content-type"} if name == "empty" else set())

    def comparable(answer):
        headers = sorted((k.lower(), v) for k, v in answer.headers if k.lower() not in volatile)
        return answer.status, headers, answer.body

    assert comparable(answers[MESH]) == comparable(answers[NATIVE])


def test_left_out_payload_passthrough_is_the_event_in_both(
    aws, capture, wasm_path, start_bootstrap
):
    """A native configuration copied over as it is (no `payload_passthrough`) keeps its
    behaviour: both filters send the event. The native default is proto3's `false` for
    `Config.payload_passthrough` (envoyproxy/envoy
    api/envoy/extensions/filters/http/aws_lambda/v3/aws_lambda.proto)."""
    urls = start_both(aws, capture, wasm_path, start_bootstrap, {})
    request = REQUESTS["json"]
    native = event_at_upstream(capture, urls[NATIVE], request)
    mesh = event_at_upstream(capture, urls[MESH], request)
    assert mesh == native
    assert mesh["body"] == '{"user":"alice"}' and mesh["raw_path"] == "/login", mesh
