"""Requests that arrive before the first fetch has finished wait for it and are then signed
and sent: the stand-in holds its first answer back, and the requests sent as soon as Envoy is
ready (three at once, on two workers) all succeed, with one fetch between them."""

import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from harness.envoy import plugin_configuration
from harness.traffic import timed_call

FIRST_ANSWER_DELAY_SECONDS = 1.5


@pytest.mark.smoke
def test_first_requests_wait_for_the_first_fetch(aws, capture, start_envoy, container_endpoint):
    container_endpoint.delay_next_answers(FIRST_ANSWER_DELAY_SECONDS)
    configuration = plugin_configuration(
        arn=aws.function_arn,
        payload_passthrough=True,
        credentials={"provider": "container", "max_wait_ms": 5000},
    )
    envoy = start_envoy(
        configuration,
        environment=container_endpoint.relative_uri_environment(),
        clusters=[container_endpoint.cluster()],
        concurrency=2,
    )

    with ThreadPoolExecutor(3) as pool:
        outcomes = list(pool.map(lambda n: timed_call(envoy.url, n), range(3)))
    answered_at = time.time()

    assert [o.status for o in outcomes] == [200] * 3, [str(o) for o in outcomes]
    [fetch] = container_endpoint.requests
    fetch_answered_at = fetch.at + FIRST_ANSWER_DELAY_SECONDS
    # They did wait: each was sent before the stand-in answered and got its answer after.
    for outcome in outcomes:
        assert outcome.sent_at < fetch_answered_at - 0.2, (str(outcome), fetch)
        assert outcome.sent_at + outcome.elapsed >= fetch_answered_at - 0.05, str(outcome)
    assert answered_at - fetch.at < 5.0
    [served] = container_endpoint.served
    assert len(capture.requests) == 3
    for request in capture.requests:
        assert request.verdict.ok, request.describe()
        assert request.access_key_id == served.credentials.access_key_id


def test_an_event_request_without_a_body_waits_too(aws, capture, start_envoy, container_endpoint):
    """With an event format, a request without a body is sent by the filter itself; when it
    waited for credentials, that call is made from the timer and still answers the request."""
    container_endpoint.delay_next_answers(FIRST_ANSWER_DELAY_SECONDS)
    configuration = plugin_configuration(
        arn=aws.function_arn,
        payload_passthrough=False,
        credentials={"provider": "container", "max_wait_ms": 5000},
    )
    envoy = start_envoy(
        configuration,
        environment=container_endpoint.relative_uri_environment(),
        clusters=[container_endpoint.cluster()],
    )

    outcome = timed_call(envoy.url, 0, body=b"")  # Content-Length: 0 ends at the headers

    assert outcome.status == 200, str(outcome)
    assert outcome.elapsed >= FIRST_ANSWER_DELAY_SECONDS - 0.5, str(outcome)
    [invoked] = capture.requests
    assert invoked.verdict.ok, invoked.describe()
