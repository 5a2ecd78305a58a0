"""IMDSv2 session tokens: a VM keeps its token across credential refreshes (so there are
fewer token PUTs than refreshes), and when the service no longer knows the token (an instance
reboot: GETs answered 401), the filter gets a fresh token and carries on, with no request
failing meanwhile."""

import time

from harness.envoy import plugin_configuration
from harness.metadata import IMDS_TOKEN_HEADER, IMDS_TOKEN_PATH
from harness.traffic import SteadyTraffic

LIFETIME_SECONDS = 12
MARGIN_SECONDS = 8  # a refresh every ~4 s
VMS = 2  # --concurrency 1: the main thread's VM and one worker's


def wait_for_documents(imds, count: int, within: float) -> None:
    deadline = time.monotonic() + within
    while len(imds.documents()) < count and time.monotonic() < deadline:
        time.sleep(0.1)
    assert len(imds.documents()) >= count, imds.describe()


def test_token_reused_across_refreshes_and_renewed_after_401(
    aws, capture, start_envoy, instance_metadata
):
    instance_metadata.lifetime_seconds = LIFETIME_SECONDS
    configuration = plugin_configuration(
        arn=aws.function_arn,
        payload_passthrough=True,
        credentials={"provider": "instance_metadata", "refresh_margin_seconds": MARGIN_SECONDS},
    )
    envoy = start_envoy(configuration, environment={}, clusters=[instance_metadata.cluster()])

    with SteadyTraffic(envoy.url, interval=0.1) as traffic:
        wait_for_documents(instance_metadata, 3, within=15)
        puts = instance_metadata.count(IMDS_TOKEN_PATH)
        documents = len(instance_metadata.documents())
        # At most one token per VM, and fewer tokens than documents: reused across refreshes.
        assert puts <= VMS, instance_metadata.describe()
        assert puts < documents, instance_metadata.describe()
        for request in instance_metadata.requests:
            if request.method == "GET":
                assert request.status == 200, instance_metadata.describe()

        # The service forgets its tokens, possibly more than once: the VM that fetches next
        # must be one holding a token for the 401 path to be taken.
        renewed = False
        for _ in range(3):
            forgotten_at = time.time()
            instance_metadata.forget_tokens()
            wait_for_documents(instance_metadata, len(instance_metadata.documents()) + 1, within=8)
            after = [r for r in instance_metadata.requests if r.at >= forgotten_at]
            statuses = [(r.method, r.status) for r in after]
            if ("GET", 401) in statuses:
                renewed = True
                break
        assert renewed, instance_metadata.describe()

    # After the 401: one fresh token, then the listing and document with that token.
    refused = statuses.index(("GET", 401))
    put, listing, document = after[refused + 1 : refused + 4]
    assert (put.method, put.path, put.status) == ("PUT", IMDS_TOKEN_PATH, 200)
    new_token = instance_metadata.issued[-1][0]
    assert (listing.status, document.status) == (200, 200)
    assert listing.header(IMDS_TOKEN_HEADER) == document.header(IMDS_TOKEN_HEADER) == new_token

    assert [o for o in traffic.outcomes if o.status != 200] == [], traffic.describe()
    used = {r.access_key_id for r in capture.requests}
    assert used <= {m.credentials.access_key_id for m in instance_metadata.served}
    assert len(used) >= 3
    for request in capture.requests:
        assert request.verdict.ok and not request.credentials_expired, request.describe()
