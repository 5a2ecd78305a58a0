"""At --log-level debug, through two credential fetches and signed requests, no secret access
key reaches the log; the session token, the container authorization token and the IMDSv2
token appear at most in the line where Envoy itself dumps the headers it sends."""

import time

import pytest

from harness.envoy import plugin_configuration
from harness.expectations import lines_leaking
from harness.traffic import SteadyTraffic

LIFETIME_SECONDS = 10
MARGIN_SECONDS = 7  # one refresh ~3 s in
AUTHORIZATION = "Bearer eks-pod-identity-token-7c1e"


@pytest.mark.parametrize("provider", ["container", "instance_metadata"])
def test_credentials_never_logged_at_debug(
    aws, capture, start_envoy, container_endpoint, instance_metadata, provider
):
    stand_in = container_endpoint if provider == "container" else instance_metadata
    stand_in.lifetime_seconds = LIFETIME_SECONDS
    container_endpoint.authorization = AUTHORIZATION
    configuration = plugin_configuration(
        arn=aws.function_arn,
        payload_passthrough=True,
        credentials={"provider": provider, "refresh_margin_seconds": MARGIN_SECONDS},
    )
    envoy = start_envoy(
        configuration,
        environment=container_endpoint.full_uri_environment(),
        clusters=[stand_in.cluster()],
        log_level="debug",
    )

    with SteadyTraffic(envoy.url, interval=0.2) as traffic:
        deadline = time.monotonic() + 8
        while len(stand_in.served) < 2 and time.monotonic() < deadline:
            time.sleep(0.2)
        time.sleep(0.5)
    envoy.stop()
    log = envoy.log_text()

    assert len(stand_in.served) >= 2, stand_in.describe()
    assert {o.status for o in traffic.outcomes} == {200}, traffic.describe()
    assert "[debug]" in log
    for minted in stand_in.served:
        credentials = minted.credentials
        assert lines_leaking(log, credentials.secret_access_key) == []
        assert (
            lines_leaking(log, credentials.session_token, envoys_dump_of="x-amz-security-token")
            == []
        )
        assert credentials.access_key_id in log  # it is named, which is fine
    assert lines_leaking(log, AUTHORIZATION, envoys_dump_of="authorization") == []
    for token, _ in instance_metadata.issued:
        assert lines_leaking(log, token, envoys_dump_of="x-aws-ec2-metadata-token") == []
