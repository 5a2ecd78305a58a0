"""Credentials rotate under continuous traffic without a single failed request: the stand-in
hands out credentials valid for 10 s, the filter refreshes them 7 s ahead (every 3 s), and a
steady stream of requests (two clients, two workers) must all be signed with credentials that
are still valid (the capture hop refuses expired ones as AWS does).

The proxy's three VMs (main thread, two workers) share one record: each refresh is one
request at the endpoint, made by one VM (the one that logs it), never one per VM.

The smoke test of what only a real Envoy shows (its timers, shared data across real VMs);
the refresh policy, the lease and the backoff are unit-tested in
crates/core/src/vm/agent/tests.rs."""

import re
import time

from harness.envoy import plugin_configuration
from harness.traffic import SteadyTraffic

LIFETIME_SECONDS = 10
MARGIN_SECONDS = 7
TRAFFIC_SECONDS = 7


def test_rotation_under_traffic_one_fetch_per_refresh(
    aws, capture, start_envoy, container_endpoint
):
    container_endpoint.lifetime_seconds = LIFETIME_SECONDS
    configuration = plugin_configuration(
        arn=aws.function_arn,
        payload_passthrough=True,
        credentials={"provider": "container", "refresh_margin_seconds": MARGIN_SECONDS},
    )
    envoy = start_envoy(
        configuration,
        environment=container_endpoint.relative_uri_environment(),
        clusters=[container_endpoint.cluster()],
        concurrency=2,
    )

    with SteadyTraffic(envoy.url, interval=0.1, streams=2) as traffic:
        time.sleep(TRAFFIC_SECONDS)

    outcomes = traffic.all_answered_200(more_than=20)

    seen = capture.requests
    assert len(seen) == len(outcomes)
    for request in seen:
        assert request.verdict.ok, request.describe()
        assert not request.credentials_expired, request.describe()
        assert request.answer.status == 200, request.describe()

    served = {m.credentials.access_key_id: m for m in container_endpoint.served}
    used = [r.access_key_id for r in seen]
    assert set(used) <= set(served), "signed with credentials the stand-in never gave"
    assert len(set(used)) >= 2, f"no rotation in {TRAFFIC_SECONDS}s: {set(used)}"

    # One fetch per refresh (every LIFETIME - MARGIN seconds), not one per VM.
    assert len(container_endpoint.requests) == len(container_endpoint.documents())
    refresh_every = LIFETIME_SECONDS - MARGIN_SECONDS
    assert len(container_endpoint.documents()) <= TRAFFIC_SECONDS // refresh_every + 2, (
        container_endpoint.describe()
    )

    # One VM fetched each time and said which credentials it took and until when.
    envoy.stop()
    logged = re.findall(
        r"credentials from the container \((\w+)\), expiring at (\d+)", envoy.log_text()
    )
    assert logged == [
        (m.credentials.access_key_id, str(m.expires_at)) for m in container_endpoint.served
    ]
