"""Bodies that arrive in several reads after the filter paused at the request's headers reach
Lambda whole, on every Envoy the project supports.

Envoy 1.40.0 fixed a filter-manager bug (envoyproxy/envoy#46841, fixed by #46842, runtime
guard `envoy.reloadable_features.filter_manager_forward_added_data_on_continue`; 1.36.4 does
not have it): a wasm filter with `allow_on_headers_stop_iteration` that paused at the headers,
returned Pause (buffer) from a body callback, and was then resumed from outside its callbacks
while the body still arrived, lost the next body read: Envoy's wasm host moves that read into
the buffer (`addDecodedData`, because the last callback buffered), the filter says Continue,
and the filter manager, iterating again, forwards the emptied read instead of the buffer.

This filter resumes a request from outside its callbacks only after its whole body arrived
(a request that waited for credentials, resumed from the timer), never a response, and
otherwise goes on from within the body callback that saw the end: no path leaves a body read
to follow an outside resume. The tests are those shapes, with a body in reads far enough
apart for Envoy to hand each to the filter alone, checked byte for byte where Lambda gets
it. (Lambda's error bodies held and redacted in several reads:
`security/test_aws_errors_redacted.py`; a streamed prelude held with the response's headers
over 40 reads: `streaming/test_http_integration.py`.)"""

import json

from harness import client
from harness.envoy import plugin_configuration
from harness.expectations import the_signed_request
from harness.metrics import wait_for_metrics

# 16 KiB of JSON (moto's function echoes JSON), no two reads alike.
BODY = json.dumps({"data": [bytes(range(i, i + 64)).hex() for i in range(128)]}).encode()
CHUNK = 4096
APART = 0.15
FIRST_FETCH_DELAY_SECONDS = 1.5


def sent_in_reads(url: str, content_type: str) -> client.Answer:
    return client.call(
        url,
        "POST",
        "/",
        [("content-type", content_type)],
        BODY,
        chunk_size=CHUNK,
        chunk_delay=APART,
    )


def test_passthrough_signs_and_sends_every_read(aws, capture, start_envoy):
    envoy = start_envoy(plugin_configuration(arn=aws.function_arn, payload_passthrough=True))

    answer = sent_in_reads(envoy.url, "application/json")

    invoked = the_signed_request(capture)
    assert invoked.body == BODY
    assert answer.status == 200, str(answer)
    assert answer.body == BODY


def test_a_request_resumed_by_the_timer_keeps_every_read(
    aws, capture, start_envoy, container_endpoint
):
    """Paused at its headers, buffered read by read, then resumed from outside its callbacks
    once the credentials come: the shape of the bug, but with the body already whole."""
    container_endpoint.delay_next_answers(FIRST_FETCH_DELAY_SECONDS)
    configuration = plugin_configuration(
        arn=aws.function_arn,
        payload_passthrough=True,
        credentials={"provider": "container", "max_wait_ms": 10000},
    )
    envoy = start_envoy(
        configuration,
        environment=container_endpoint.relative_uri_environment(),
        clusters=[container_endpoint.cluster()],
    )

    answer = sent_in_reads(envoy.url, "application/json")

    waited = wait_for_metrics(envoy, {"credentials_wait.signed": 1})
    assert waited.get("credentials_wait.signed") == 1, waited  # it waited, then resumed
    invoked = the_signed_request(capture)
    assert invoked.body == BODY
    assert answer.status == 200, str(answer)
    assert answer.body == BODY


def test_an_event_carries_every_read(aws, capture, start_envoy):
    envoy = start_envoy(plugin_configuration(arn=aws.function_arn, payload_passthrough=False))
    text = BODY.decode()  # JSON: the event carries it as it is

    answer = client.call(
        envoy.url,
        "POST",
        "/",
        [("content-type", "application/json")],
        BODY,
        chunk_size=CHUNK,
        chunk_delay=APART,
    )

    event = json.loads(the_signed_request(capture).body)
    assert event["body"] == text
    assert answer.status == 200, str(answer)
    assert answer.body == BODY
