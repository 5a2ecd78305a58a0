"""invocation_mode maps to X-Amz-Invocation-Type, and Lambda's status comes back."""

import pytest

from harness import client
from harness.envoy import plugin_configuration
from harness.expectations import the_signed_request


@pytest.mark.parametrize(
    ("mode", "invocation_type", "status"),
    [
        ("synchronous", "RequestResponse", 200),
        ("SYNCHRONOUS", "RequestResponse", 200),
        ("asynchronous", "Event", 202),
        ("ASYNCHRONOUS", "Event", 202),
        ("dry_run", "DryRun", 204),
        ("DRY_RUN", "DryRun", 204),
    ],
)
def test_invocation_mode(aws, capture, start_envoy, mode, invocation_type, status):
    envoy = start_envoy(
        plugin_configuration(arn=aws.function_arn, payload_passthrough=True, invocation_mode=mode)
    )

    answer = client.call(envoy.url, "POST", "/", body=b'{"mode": "test"}')

    assert answer.status == status, str(answer)
    invoked = the_signed_request(capture)
    assert invoked.header("x-amz-invocation-type") == invocation_type
    assert invoked.body == b'{"mode": "test"}'
    if status == 204:
        assert answer.body == b""
