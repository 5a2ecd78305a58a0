"""Each credential provider on its own (pinned with `credentials.provider`), against
stand-ins speaking the documented protocols and handing out credentials minted by moto's STS:
the callouts are what the endpoints expect, and every request is signed with the credentials
they handed out (re-verified by the capture hop, accepted by moto)."""

from harness import client
from harness.envoy import plugin_configuration
from harness.expectations import assert_local_reply, assert_nothing_sent_upstream
from harness.metadata import (
    ECS_HOST,
    EKS_POD_IDENTITY_HOST,
    IMDS_HOST,
    IMDS_ROLES_PATH,
    IMDS_TOKEN_HEADER,
    IMDS_TOKEN_PATH,
    IMDS_TTL_HEADER,
)

REQUESTS = 3


def pinned(aws, provider: str, **settings) -> str:
    return plugin_configuration(
        arn=aws.function_arn,
        payload_passthrough=True,
        detailed_errors=True,
        credentials={"provider": provider, **settings},
    )


def assert_all_signed_by(capture, stand_in, count: int = REQUESTS):
    """`count` requests reached Lambda, all verified, all with the one document's key."""
    [served] = stand_in.served
    seen = capture.requests
    assert len(seen) == count, capture.describe()
    for request in seen:
        assert request.verdict.ok, request.describe()
        assert request.access_key_id == served.credentials.access_key_id
        assert request.header("x-amz-security-token") == served.credentials.session_token
        assert request.answer.status == 200, request.describe()


def send_requests(envoy, count: int = REQUESTS):
    for number in range(count):
        body = b'{"n": %d}' % number
        answer = client.call(envoy.url, "POST", "/", body=body)
        assert answer.status == 200, str(answer)
        assert answer.body == body


def test_container_by_relative_uri(aws, capture, start_envoy, container_endpoint):
    envoy = start_envoy(
        pinned(aws, "container"),
        environment=container_endpoint.relative_uri_environment(),
        clusters=[container_endpoint.cluster()],
    )

    send_requests(envoy)

    assert_all_signed_by(capture, container_endpoint)
    [fetch] = container_endpoint.requests  # fetched once, used for every request
    assert (fetch.method, fetch.path, fetch.status) == ("GET", container_endpoint.path, 200)
    assert fetch.header("host") == ECS_HOST
    assert fetch.header("authorization") is None


def test_container_by_full_uri_with_token(aws, capture, start_envoy, container_endpoint):
    container_endpoint.authorization = "Bearer pod-identity-token-d4f8a1"
    envoy = start_envoy(
        pinned(aws, "container"),
        environment=container_endpoint.full_uri_environment(),
        clusters=[container_endpoint.cluster()],
    )

    send_requests(envoy)

    assert_all_signed_by(capture, container_endpoint)
    [fetch] = container_endpoint.requests
    assert (fetch.method, fetch.path, fetch.status) == ("GET", container_endpoint.path, 200)
    assert fetch.header("host") == EKS_POD_IDENTITY_HOST
    assert fetch.header("authorization") == container_endpoint.authorization


def test_container_refusing_the_token_gives_a_503(aws, capture, start_envoy, container_endpoint):
    container_endpoint.authorization = "Bearer the-right-token"
    environment = container_endpoint.full_uri_environment(token="Bearer a-wrong-token")
    envoy = start_envoy(
        pinned(aws, "container", max_wait_ms=2000),
        environment=environment,
        clusters=[container_endpoint.cluster()],
    )

    answer = client.call(envoy.url, "POST", "/", body=b'{"unsigned": "never"}')

    message = assert_local_reply(answer, 503, "CredentialsUnavailable")["message"]
    assert "container: HTTP 401 from the credentials endpoint" in message, message
    assert "a-wrong-token" not in message
    assert container_endpoint.count(container_endpoint.path) >= 1
    assert {r.status for r in container_endpoint.requests} == {401}
    assert_nothing_sent_upstream(capture)


def test_instance_metadata_v2(aws, capture, start_envoy, instance_metadata):
    envoy = start_envoy(
        pinned(aws, "instance_metadata", imds_token_ttl_seconds=900),
        environment={},
        clusters=[instance_metadata.cluster()],
    )

    send_requests(envoy)

    assert_all_signed_by(capture, instance_metadata)
    put, listing, document = instance_metadata.requests
    [(token, ttl)] = instance_metadata.issued
    assert (put.method, put.path, put.status) == ("PUT", IMDS_TOKEN_PATH, 200)
    assert put.header(IMDS_TTL_HEADER) == "900" and ttl == 900
    assert (listing.method, listing.path, listing.status) == ("GET", IMDS_ROLES_PATH, 200)
    assert (document.method, document.path, document.status) == (
        "GET",
        instance_metadata.role_path,
        200,
    )
    for request in (put, listing, document):
        assert request.header("host") == IMDS_HOST
    for request in (listing, document):
        assert request.header(IMDS_TOKEN_HEADER) == token
