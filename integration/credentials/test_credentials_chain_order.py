"""The default chain (environment, container, instance metadata) with every source that is
available: the first available one signs (the capture hop's access key id says who was used)
and the ones after it are never asked (the stand-ins' request counts say who was asked)."""

import pytest

from harness import client
from harness.envoy import plugin_configuration
from harness.expectations import assert_local_reply, assert_nothing_sent_upstream


def signing_key_ids(capture) -> set[str]:
    for request in capture.requests:
        assert request.verdict.ok, request.describe()
    return {request.access_key_id for request in capture.requests}


def start_with_both_stand_ins(aws, start_envoy, container, imds, environment: dict):
    return start_envoy(
        plugin_configuration(
            arn=aws.function_arn, payload_passthrough=True, detailed_errors=True, credentials={}
        ),
        environment=environment,
        clusters=[container.cluster(), imds.cluster()],
    )


def send_two(envoy):
    for body in (b'{"first": 1}', b'{"second": 2}'):
        answer = client.call(envoy.url, "POST", "/", body=body)
        assert answer.status == 200, str(answer)


def test_environment_beats_the_metadata_endpoints(
    aws, capture, start_envoy, container_endpoint, instance_metadata
):
    environment = {
        **aws.user_credentials.as_environment(),
        **container_endpoint.relative_uri_environment(),
    }
    envoy = start_with_both_stand_ins(
        aws, start_envoy, container_endpoint, instance_metadata, environment
    )

    send_two(envoy)

    assert signing_key_ids(capture) == {aws.user_credentials.access_key_id}
    assert container_endpoint.requests == [] and instance_metadata.requests == []


def test_container_beats_instance_metadata(
    aws, capture, start_envoy, container_endpoint, instance_metadata
):
    envoy = start_with_both_stand_ins(
        aws,
        start_envoy,
        container_endpoint,
        instance_metadata,
        container_endpoint.relative_uri_environment(),
    )

    send_two(envoy)

    [served] = container_endpoint.served
    assert signing_key_ids(capture) == {served.credentials.access_key_id}
    assert instance_metadata.requests == []


def test_instance_metadata_when_nothing_else_is_there(
    aws, capture, start_envoy, container_endpoint, instance_metadata
):
    envoy = start_with_both_stand_ins(aws, start_envoy, container_endpoint, instance_metadata, {})

    send_two(envoy)

    [served] = instance_metadata.served
    assert signing_key_ids(capture) == {served.credentials.access_key_id}
    assert container_endpoint.requests == []  # no container variable: not even asked


@pytest.mark.parametrize("how", ["error", "refuse"])
def test_a_failing_container_endpoint_falls_through_to_instance_metadata(
    aws, capture, start_envoy, container_endpoint, instance_metadata, how
):
    container_endpoint.go_down(how)
    envoy = start_with_both_stand_ins(
        aws,
        start_envoy,
        container_endpoint,
        instance_metadata,
        container_endpoint.relative_uri_environment(),
    )

    send_two(envoy)

    [served] = instance_metadata.served
    assert signing_key_ids(capture) == {served.credentials.access_key_id}
    assert container_endpoint.served == []


def test_ec2_metadata_disabled_skips_instance_metadata(
    aws, capture, start_envoy, container_endpoint, instance_metadata
):
    envoy = start_with_both_stand_ins(
        aws,
        start_envoy,
        container_endpoint,
        instance_metadata,
        {"AWS_EC2_METADATA_DISABLED": "true"},
    )

    answer = client.call(envoy.url, "POST", "/", body=b'{"unsigned": "never"}')

    message = assert_local_reply(answer, 503, "CredentialsUnavailable")["message"]
    assert "environment: AWS_ACCESS_KEY_ID not set" in message, message
    assert "container: AWS_CONTAINER_CREDENTIALS_RELATIVE_URI and _FULL_URI not set" in message
    assert "instance_metadata: disabled by AWS_EC2_METADATA_DISABLED" in message, message
    assert instance_metadata.requests == [] and container_endpoint.requests == []
    assert_nothing_sent_upstream(capture)
