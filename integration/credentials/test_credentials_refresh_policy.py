"""When a refresh starts, in two corners of the configuration: a margin smaller than the 5 s
before Expiration in which credentials are no longer used, and credentials that arrive
already inside the margin (short-lived ones with the default 300 s margin)."""

import time

from harness.envoy import plugin_configuration
from harness.traffic import SteadyTraffic


def test_margin_inside_the_expiry_skew_still_refreshes_in_time(
    aws, capture, start_envoy, container_endpoint
):
    """ "A fetch starts when there are no usable credentials": credentials stop being used
    5 s before Expiration, so with a 2 s margin the refresh must not wait for the margin."""
    container_endpoint.lifetime_seconds = 7  # no longer used 2 s in, due by the margin at 5 s
    configuration = plugin_configuration(
        arn=aws.function_arn,
        credentials={"provider": "container", "refresh_margin_seconds": 2, "max_wait_ms": 2000},
    )
    envoy = start_envoy(
        configuration,
        environment=container_endpoint.relative_uri_environment(),
        clusters=[container_endpoint.cluster()],
    )

    with SteadyTraffic(envoy.url, interval=0.1) as traffic:
        time.sleep(7)

    assert len(container_endpoint.served) >= 2, container_endpoint.describe()
    failed = [str(o) for o in traffic.outcomes if o.status != 200]
    assert failed == [], "\n".join(failed)
    for request in capture.requests:
        assert request.verdict.ok and not request.credentials_expired, request.describe()


def test_credentials_inside_the_margin_are_not_fetched_in_a_tight_loop(
    aws, capture, start_envoy, container_endpoint
):
    """60 s credentials with the default 300 s margin are due for refresh as soon as they
    arrive. Once a fetch is done nothing is pending, so the timer ticks once a second: at
    most one fetch per second per VM (two VMs with --concurrency 1), not one per 50 ms."""
    container_endpoint.lifetime_seconds = 60
    configuration = plugin_configuration(
        arn=aws.function_arn, credentials={"provider": "container"}
    )
    started = time.time()  # the first fetch may come before Envoy reports ready
    envoy = start_envoy(
        configuration,
        environment=container_endpoint.relative_uri_environment(),
        clusters=[container_endpoint.cluster()],
    )

    with SteadyTraffic(envoy.url, interval=0.2) as traffic:
        time.sleep(4)
    observed = time.time() - started

    assert {o.status for o in traffic.outcomes} == {200}, traffic.describe()
    fetches = container_endpoint.count(container_endpoint.path)
    assert fetches <= 2 * (observed + 1), f"{fetches} credential fetches in {observed:.1f} s"
