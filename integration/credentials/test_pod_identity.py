"""EKS Pod Identity with its token file: the container source reads
AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE's current contents through Envoy's files listener
(envoy/files.yaml) at each fetch and sends them as `Authorization` to the agent at
AWS_CONTAINER_CREDENTIALS_FULL_URI (the EKS Pod Identity agent on 169.254.170.23; here a
stand-in that takes only the pod's current token, harness/metadata.py).

What the SDKs do, for comparison: botocore's ContainerMetadataFetcher / ContainerProvider
(credentials.py) reads AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE at each retrieval, and
AWS_CONTAINER_AUTHORIZATION_TOKEN wins when both are set; EKS's webhook sets the file's path
to /var/run/secrets/pods.eks.amazonaws.com/serviceaccount/eks-pod-identity-token (EKS user
guide, "Pod Identity": the agent's address and the token's path).
"""

import time

import pytest

from harness import client
from harness.envoy import plugin_configuration
from harness.expectations import assert_local_reply, assert_nothing_sent_upstream
from harness.files import POD_IDENTITY_TOKEN, KubernetesTokenDir
from harness.metadata import EKS_POD_IDENTITY_HOST
from harness.traffic import SteadyTraffic

FIRST_TOKEN = "eyJhbGciOiJSUzI1NiJ9.eyJhdWQiOiJwa2NzLWVrcy1wb2QtaWRlbnRpdHkifQ.first"
SECOND_TOKEN = "eyJhbGciOiJSUzI1NiJ9.eyJhdWQiOiJwa2NzLWVrcy1wb2QtaWRlbnRpdHkifQ.second"
LIFETIME_SECONDS = 8
MARGIN_SECONDS = 6  # a fetch every ~2 s


def pod_identity_environment(container_endpoint, tokens) -> dict[str, str]:
    """The variables EKS's Pod Identity webhook sets, with no token of its own."""
    return {
        "AWS_CONTAINER_CREDENTIALS_FULL_URI": (
            f"http://{EKS_POD_IDENTITY_HOST}{container_endpoint.path}"
        ),
        "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE": str(tokens.token_path),
    }


def start_pod_identity_envoy(start_envoy, aws, container_endpoint, tokens, **credentials):
    return start_envoy(
        plugin_configuration(
            arn=aws.function_arn,
            payload_passthrough=True,
            detailed_errors=True,
            credentials={"provider": "container", "max_wait_ms": 3000, **credentials},
        ),
        environment=pod_identity_environment(container_endpoint, tokens),
        clusters=[container_endpoint.cluster()],
        files={POD_IDENTITY_TOKEN: tokens.token_path},
        concurrency=2,
    )


@pytest.mark.smoke
def test_a_rotated_pod_identity_token_is_sent_at_the_next_fetch(
    aws, capture, start_envoy, container_endpoint, tmp_path
):
    tokens = KubernetesTokenDir(tmp_path / "pods.eks.amazonaws.com" / "serviceaccount")
    tokens.write(FIRST_TOKEN)
    container_endpoint.authorization = FIRST_TOKEN
    container_endpoint.lifetime_seconds = LIFETIME_SECONDS
    envoy = start_pod_identity_envoy(
        start_envoy, aws, container_endpoint, tokens, refresh_margin_seconds=MARGIN_SECONDS
    )
    pid = envoy.pid

    with SteadyTraffic(envoy.url, interval=0.1, streams=2) as traffic:
        time.sleep(3)
        tokens.write(SECOND_TOKEN)
        container_endpoint.authorization = SECOND_TOKEN  # the agent takes only the new one
        rotated_at = len(container_endpoint.requests)
        served_before = len(container_endpoint.served)
        time.sleep(5)
    traffic.all_answered_200(more_than=40)
    assert envoy.pid == pid and envoy.exit_code is None

    sent = [r.header("authorization") for r in container_endpoint.requests]
    assert sent[0] == FIRST_TOKEN
    assert SECOND_TOKEN in sent[rotated_at:], sent
    # After the rotation, at most one fetch raced it with the old token; all later ones
    # carried the new token and were answered.
    late = container_endpoint.requests[rotated_at + 1 :]
    assert late and all(r.header("authorization") == SECOND_TOKEN for r in late), sent
    assert all(r.status == 200 for r in late)
    for request in container_endpoint.requests:
        assert request.header("host") == EKS_POD_IDENTITY_HOST

    served = {m.credentials.access_key_id for m in container_endpoint.served}
    for request in capture.requests:
        assert request.verdict.ok, request.describe()
        assert not request.credentials_expired, request.describe()
        assert request.access_key_id in served
    # The last Invokes signed with keys fetched with the new token.
    after = {m.credentials.access_key_id for m in container_endpoint.served[served_before:]}
    assert capture.requests[-1].access_key_id in after

    envoy.stop()
    log = envoy.log_text()
    assert FIRST_TOKEN not in log and SECOND_TOKEN not in log


def test_a_missing_pod_identity_token_file_gives_503_and_never_calls_the_agent(
    aws, capture, start_envoy, container_endpoint, tmp_path
):
    tokens = KubernetesTokenDir(tmp_path / "serviceaccount")
    tokens.write(None)
    envoy = start_pod_identity_envoy(start_envoy, aws, container_endpoint, tokens)
    answer = client.call(envoy.url, "POST", "/", body=b'{"unsigned": "never"}')
    message = assert_local_reply(answer, 503, "CredentialsUnavailable")["message"]
    assert (
        "container: the file of AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE is missing or empty"
        in message
    ), message
    assert container_endpoint.requests == []
    assert_nothing_sent_upstream(capture)
