"""The filter's metrics in Envoy's /stats, read from the admin endpoint after each scenario:
each scenario moves exactly the counters that tell of it, and the gauges come back."""

import re
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from harness import client
from harness.capture import CannedResponse
from harness.envoy import plugin_configuration
from harness.metrics import moved, payload_histogram, wait_for_metrics, wait_until
from harness.traffic import timed_call

JSON = [("Content-Type", "application/json")]


def request_counters(stats: dict[str, int]) -> dict[str, int]:
    """The counters that moved, but for the environment provider's reads (each VM reads the
    environment once at start, and how many VMs Envoy runs is Envoy's business)."""
    return {n: v for n, v in moved(stats).items() if n != "credential_fetches.environment"}


def test_invocations_payload_sizes_and_in_flight(aws, capture, start_envoy):
    envoy = start_envoy()
    sizes = [10, 100, 1000]

    answers = [client.call(envoy.url, "POST", "/", body=b"x" * n) for n in sizes]

    assert [a.status for a in answers] == [200] * 3
    stats = wait_for_metrics(envoy, {"invocations.synchronous": 3})
    assert request_counters(stats) == {"invocations.synchronous": 3}
    assert stats["requests_in_flight"] == 0
    assert stats["credential_fetches.environment"] >= 1
    assert stats["vm_memory_bytes"] > 0 and stats["vm_memory_bytes"] % 65536 == 0, stats
    histogram = payload_histogram(envoy)
    quantiles = dict(
        zip(
            histogram["supported_quantiles"],
            histogram["computed_quantiles"][0]["values"],
            strict=False,
        )
    )
    assert 9 <= quantiles[0.0]["cumulative"] <= 11, histogram
    # Envoy keeps histograms in buckets: its quantiles are approximations of the sizes.
    assert 900 <= quantiles[100.0]["cumulative"] <= 1150, histogram


@pytest.mark.parametrize(
    ("status", "headers", "counter"),
    [
        (
            429,
            [("x-amzn-ErrorType", "TooManyRequestsException"), ("Retry-After", "1")],
            "lambda_errors.throttled",
        ),
        (404, [("x-amzn-ErrorType", "ResourceNotFoundException")], "lambda_errors.client"),
        (500, [("x-amzn-ErrorType", "ServiceException")], "lambda_errors.server"),
        (200, [("X-Amz-Function-Error", "Unhandled")], "function_errors"),
    ],
    ids=["throttled", "client", "server", "function-error"],
)
@pytest.mark.parametrize("passthrough", [True, False], ids=["passthrough", "event"])
def test_lambda_answers_are_classed(
    aws, capture, start_envoy, status, headers, counter, passthrough
):
    envoy = start_envoy(plugin_configuration(arn=aws.function_arn, payload_passthrough=passthrough))
    capture.answer_with(
        CannedResponse(
            status, [("Content-Type", "application/json"), *headers], b'{"errorMessage":"x"}'
        )
    )

    answer = client.call(envoy.url, "POST", "/", JSON, b"{}")

    assert answer.status == (502 if counter == "function_errors" else status), str(answer)
    stats = wait_for_metrics(envoy, {counter: 1})
    assert request_counters(stats) == {"invocations.synchronous": 1, counter: 1}
    assert stats["requests_in_flight"] == 0
    # One log line for the failed request, at info, with the stream's context id.
    envoy.stop()
    told = [
        line
        for line in envoy.log_text().splitlines()
        if re.search(r"context \d+: (Lambda answered|the function failed|answered \d+)", line)
    ]
    assert len(told) == 1 and "[info]" in told[0], told


def test_a_payload_over_the_limit_is_counted_not_invoked(aws, capture, start_envoy):
    envoy = start_envoy(
        plugin_configuration(arn=aws.function_arn, payload_passthrough=True, max_request_bytes=64)
    )

    assert client.call(envoy.url, "POST", "/", body=b"x" * 65).status == 413
    assert client.call(envoy.url, "POST", "/", body=b"x" * 64, chunk_size=16).status == 200

    stats = wait_for_metrics(envoy, {"payload_too_large": 1, "invocations.synchronous": 1})
    assert request_counters(stats) == {"payload_too_large": 1, "invocations.synchronous": 1}


@pytest.mark.parametrize(("mode", "status"), [("asynchronous", 202), ("dry_run", 204)])
def test_invocations_by_mode(aws, capture, start_envoy, mode, status):
    envoy = start_envoy(
        plugin_configuration(arn=aws.function_arn, payload_passthrough=True, invocation_mode=mode)
    )

    assert client.call(envoy.url, "POST", "/", JSON, b"{}").status == status

    stats = wait_for_metrics(envoy, {f"invocations.{mode}": 1})
    assert request_counters(stats) == {f"invocations.{mode}": 1}


def test_a_malformed_function_result(aws, capture, start_envoy):
    envoy = start_envoy(plugin_configuration(arn=aws.function_arn, payload_passthrough=False))
    capture.answer_with(CannedResponse(200, [("Content-Type", "application/json")], b"not json"))

    assert client.call(envoy.url, "POST", "/", JSON, b"{}").status == 502

    stats = wait_for_metrics(envoy, {"malformed_results": 1})
    assert request_counters(stats) == {"invocations.synchronous": 1, "malformed_results": 1}


def container_envoy(aws, start_envoy, container_endpoint, max_wait_ms: int, concurrency: int = 1):
    configuration = plugin_configuration(
        arn=aws.function_arn,
        payload_passthrough=True,
        credentials={"provider": "container", "max_wait_ms": max_wait_ms},
    )
    return start_envoy(
        configuration,
        environment=container_endpoint.relative_uri_environment(),
        clusters=[container_endpoint.cluster()],
        concurrency=concurrency,
    )


def test_requests_that_waited_for_credentials_and_the_credential_gauges(
    aws, capture, start_envoy, container_endpoint
):
    container_endpoint.delay_next_answers(1.5)
    envoy = container_envoy(aws, start_envoy, container_endpoint, max_wait_ms=5000)

    with ThreadPoolExecutor(3) as pool:
        outcomes = list(pool.map(lambda n: timed_call(envoy.url, n), range(3)))

    assert [o.status for o in outcomes] == [200] * 3, [str(o) for o in outcomes]
    expected = {
        "credential_fetches.container": 1,
        "credentials_wait.started": 3,
        "credentials_wait.signed": 3,
        "invocations.synchronous": 3,
    }
    stats = wait_for_metrics(envoy, expected)
    assert moved(stats) == expected
    [served] = container_endpoint.served
    to_expiry = served.expires_at - time.time()
    assert abs(stats["credentials.expiry_seconds"] - to_expiry) <= 3, (stats, to_expiry)
    assert 0 <= stats["credentials.age_seconds"] <= 5, stats


def test_a_wait_that_times_out_and_a_failing_provider(
    aws, capture, start_envoy, container_endpoint
):
    container_endpoint.go_down("hang")
    envoy = container_envoy(aws, start_envoy, container_endpoint, max_wait_ms=500)

    answer = client.call(envoy.url, "POST", "/", JSON, b"{}")

    assert answer.status == 503, str(answer)
    stats = wait_for_metrics(envoy, {"credentials_wait.timed_out": 1})
    assert request_counters(stats) == {
        "credentials_wait.started": 1,
        "credentials_wait.timed_out": 1,
        "credentials_unavailable": 1,
    }

    # The hung fetch times out, and the provider's failures are counted from then on.
    container_endpoint.go_down("error")

    def failed(metrics):
        return metrics.get("credential_fetch_failures.container", 0) >= 1

    stats = wait_until(envoy, failed, timeout=15)
    assert stats["credential_fetch_failures.container"] >= 1, stats
    assert client.call(envoy.url, "POST", "/", JSON, b"{}").status == 503
    stats = wait_for_metrics(envoy, {"credentials_unavailable": 2})
    assert stats["credentials_unavailable"] == 2, stats
    assert stats.get("invocations.synchronous", 0) == 0
