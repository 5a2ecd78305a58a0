"""The credential endpoints are down when the proxy starts: a request gets the filter's 503
(naming the providers it tried and why they failed) within max_wait_ms, nothing reaches
Lambda, and once the endpoint is back the next fetch (after the backoff) makes requests work."""

import json
import time

import pytest

from harness.envoy import plugin_configuration
from harness.expectations import assert_nothing_sent_upstream
from harness.traffic import Outcome, timed_call

MAX_WAIT_MS = 1500
SLACK_SECONDS = 0.5


def assert_503(outcome: Outcome, *fragments: str) -> str:
    assert outcome.status == 503, str(outcome)
    document = json.loads(outcome.body)
    assert document["error"] == "CredentialsUnavailable", document
    for fragment in fragments:
        assert fragment in document["message"], document["message"]
    return document["message"]


def wait_for_success(url: str, within: float) -> Outcome:
    deadline = time.monotonic() + within
    while True:
        outcome = timed_call(url)
        if outcome.status == 200 or time.monotonic() > deadline:
            return outcome
        time.sleep(0.2)


@pytest.mark.parametrize("how", ["error", "refuse"])
def test_container_down_at_start(aws, capture, start_envoy, container_endpoint, how):
    container_endpoint.go_down(how)
    configuration = plugin_configuration(
        arn=aws.function_arn,
        payload_passthrough=True,
        detailed_errors=True,
        credentials={"provider": "container", "max_wait_ms": MAX_WAIT_MS},
    )
    envoy = start_envoy(
        configuration,
        environment=container_endpoint.relative_uri_environment(),
        clusters=[container_endpoint.cluster()],
    )

    outcome = timed_call(envoy.url)

    assert_503(outcome, "no AWS credentials from any provider (container: HTTP ")
    assert outcome.elapsed < MAX_WAIT_MS / 1000 + SLACK_SECONDS, str(outcome)
    assert_nothing_sent_upstream(capture)

    container_endpoint.come_back()
    assert wait_for_success(envoy.url, within=8.0).status == 200
    [served] = container_endpoint.served
    assert [r.access_key_id for r in capture.requests] == [served.credentials.access_key_id]


def test_every_provider_down_is_named(
    aws, capture, start_envoy, container_endpoint, instance_metadata
):
    container_endpoint.go_down("error")
    instance_metadata.go_down("error")
    configuration = plugin_configuration(
        arn=aws.function_arn,
        payload_passthrough=True,
        detailed_errors=True,
        credentials={"max_wait_ms": MAX_WAIT_MS},
    )
    envoy = start_envoy(
        configuration,
        environment=container_endpoint.relative_uri_environment(),
        clusters=[container_endpoint.cluster(), instance_metadata.cluster()],
    )

    outcome = timed_call(envoy.url)

    assert_503(
        outcome,
        "no AWS credentials from any provider (",
        "environment: AWS_ACCESS_KEY_ID not set; ",
        "container: HTTP 500 from the credentials endpoint",
        "instance_metadata: HTTP 500 for the IMDSv2 token",
    )
    assert outcome.elapsed < MAX_WAIT_MS / 1000 + SLACK_SECONDS, str(outcome)
    assert_nothing_sent_upstream(capture)


def start_with_hanging_container(aws, start_envoy, container_endpoint, fetch_timeout_ms):
    """Envoy whose only provider is a container endpoint that never answers."""
    container_endpoint.go_down("hang")
    configuration = plugin_configuration(
        arn=aws.function_arn,
        payload_passthrough=True,
        detailed_errors=True,
        credentials={
            "provider": "container",
            "max_wait_ms": MAX_WAIT_MS,
            "fetch_timeout_ms": fetch_timeout_ms,
        },
    )
    return start_envoy(
        configuration,
        environment=container_endpoint.relative_uri_environment(),
        clusters=[container_endpoint.cluster()],
    )


def test_hanging_endpoint_fails_by_the_fetch_timeout(aws, capture, start_envoy, container_endpoint):
    """fetch_timeout_ms < max_wait_ms: the callout times out, the chain reports it."""
    envoy = start_with_hanging_container(aws, start_envoy, container_endpoint, fetch_timeout_ms=700)

    outcome = timed_call(envoy.url)

    assert_503(outcome, "no AWS credentials from any provider (container: ")
    assert outcome.elapsed < MAX_WAIT_MS / 1000 + SLACK_SECONDS, str(outcome)
    assert container_endpoint.count(container_endpoint.path) >= 1
    assert_nothing_sent_upstream(capture)


def test_hanging_endpoint_fails_by_max_wait(aws, capture, start_envoy, container_endpoint):
    """fetch_timeout_ms > max_wait_ms: the request gives up waiting first."""
    envoy = start_with_hanging_container(
        aws, start_envoy, container_endpoint, fetch_timeout_ms=10000
    )

    outcome = timed_call(envoy.url)

    assert_503(
        outcome, f"no AWS credentials after waiting {MAX_WAIT_MS} ms for the providers (container)"
    )
    assert MAX_WAIT_MS / 1000 - 0.1 <= outcome.elapsed < MAX_WAIT_MS / 1000 + SLACK_SECONDS, str(
        outcome
    )
    assert_nothing_sent_upstream(capture)
