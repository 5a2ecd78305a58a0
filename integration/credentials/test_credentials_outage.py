"""The credential endpoint goes down after the first fetch: requests keep being signed with
the cached credentials while they are valid (the filter stops 5 s before their Expiration),
then get the filter's 503; nothing is ever sent with expired credentials. Once the endpoint
is back, a retry brings new credentials and requests work again. (The backoff's timing is
unit-tested: crates/core/src/vm/agent/tests.rs.)"""

import json
import time

from harness.envoy import plugin_configuration
from harness.traffic import SteadyTraffic, timed_call

LIFETIME_SECONDS = 9
MARGIN_SECONDS = 7
SKEW_SECONDS = 5  # credentials this close to Expiration are no longer used
SEEN_503_FOR_SECONDS = 1.5


def wait_until(moment: float) -> None:
    time.sleep(max(0.0, moment - time.time()))


def test_endpoint_down_after_the_first_fetch(aws, capture, start_envoy, container_endpoint):
    container_endpoint.lifetime_seconds = LIFETIME_SECONDS
    configuration = plugin_configuration(
        arn=aws.function_arn,
        payload_passthrough=True,
        detailed_errors=True,
        credentials={"provider": "container", "refresh_margin_seconds": MARGIN_SECONDS},
    )
    envoy = start_envoy(
        configuration,
        environment=container_endpoint.relative_uri_environment(),
        clusters=[container_endpoint.cluster()],
    )
    assert timed_call(envoy.url).status == 200
    [cached] = container_endpoint.served
    unusable_from = cached.expires_at - SKEW_SECONDS

    container_endpoint.go_down("error")
    down_at = time.time()
    with SteadyTraffic(envoy.url, interval=0.1) as traffic:
        wait_until(unusable_from + SEEN_503_FOR_SECONDS)
        container_endpoint.come_back()
        back_at = time.time()
        deadline = back_at + 8
        while time.time() < deadline and not any(
            o.status == 200 and o.sent_at > back_at for o in traffic.outcomes
        ):
            time.sleep(0.1)
        time.sleep(0.5)

    during = [o for o in traffic.outcomes if o.sent_at < back_at]
    assert {o.status for o in during} == {200, 503}, traffic.describe()
    served_cached = [o for o in during if o.status == 200]
    refused = [o for o in during if o.status == 503]
    # Cached credentials kept working during the outage, until shortly before Expiration ...
    assert any(o.sent_at > down_at + 2 for o in served_cached), traffic.describe()
    assert all(o.sent_at < unusable_from + 0.5 for o in served_cached), traffic.describe()
    # ... then the filter answered itself, naming the failure.
    assert all(o.sent_at > unusable_from - 1.5 for o in refused), traffic.describe()
    for outcome in refused:
        message = json.loads(outcome.body)["message"]
        assert message.startswith(
            "no AWS credentials from any provider (container: HTTP 500 "
            "from the credentials endpoint"
        ), message
        assert message.endswith("; nothing was sent to Lambda"), message
    # Back up: the next retry brings new credentials.
    after = [o for o in traffic.outcomes if o.sent_at > back_at]
    assert after and after[-1].status == 200, traffic.describe()
    # The renewed credentials (9 s ones) may be refreshed again before the test ends.
    first, *renewed = container_endpoint.served
    assert renewed, container_endpoint.describe()

    # Only the 200s reached Lambda, each signed with credentials valid at that moment.
    seen = capture.requests
    assert len(seen) == 1 + sum(1 for o in traffic.outcomes if o.status == 200)
    for request in seen:
        assert request.verdict.ok, request.describe()
        assert not request.credentials_expired, request.describe()
    used = {r.access_key_id for r in seen}
    assert first.credentials.access_key_id in used
    assert used - {first.credentials.access_key_id}, "no request signed with renewed credentials"
    assert used <= {m.credentials.access_key_id for m in container_endpoint.served}
