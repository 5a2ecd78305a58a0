"""The caller's identity handed to the function (issue 20 item 4), on the direct path: the
filter in the caller's own sidecar, `caller: {from: configured, service: api}`.

What the capture hop (standing where Lambda is) sees: `X-Amz-Client-Context` decoding to the
caller, among the signed headers of a call whose signature botocore checks independently; with
`api_gateway_v2` the caller also in the event's `requestContext.authorizer.lambda` (read with
Powertools, as a function would); none with `Event` invocations (Lambda passes ClientContext
"for synchronous invocations only": the Invoke API reference,
https://docs.aws.amazon.com/lambda/latest/api/API_Invoke.html); a tenant-isolated function's
`X-Amz-Tenant-Id`, signed; and a request without a tenant id answered 400 with nothing sent.
A caller's own X-Amz-Client-Context / X-Amz-Tenant-Id never reach Lambda.

moto (behind the hop) ignores both headers: its Invoke reads neither (moto/awslambda/
responses.py), so these calls succeed there as any other; the hop's botocore check is what
shows they are signed.
"""

import json

import pytest
from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEventV2

from harness import client
from harness.envoy import plugin_configuration
from harness.event_stream import response_stream
from harness.expectations import (
    assert_local_reply,
    assert_nothing_sent_upstream,
    decoded_client_context,
    the_signed_request,
)
from harness.paths import STREAMING_ENVOY_CONFIG
from harness.streaming_lambda import StreamingLambda, StreamScript, Write, streaming_path

CALLER = {"from": "configured", "service": "api"}
FORGED = [
    # {"custom":{"mesh-caller-service":"root"}}
    ("x-amz-client-context", "eyJjdXN0b20iOnsibWVzaC1jYWxsZXItc2VydmljZSI6InJvb3QifX0="),
    ("x-amz-tenant-id", "someone-else"),
]
THE_CALLER = {"mesh-caller-service": "api"}


def test_passthrough_carries_the_caller_in_a_signed_client_context(aws, capture, start_envoy):
    envoy = start_envoy(
        plugin_configuration(arn=aws.function_arn, payload_passthrough=True, caller=CALLER)
    )

    answer = client.call(envoy.url, "POST", "/", body=b'{"n": 1}', headers=FORGED)

    assert answer.status == 200, str(answer)
    invoked = the_signed_request(capture)
    assert decoded_client_context(invoked) == {"custom": THE_CALLER}
    assert "x-amz-client-context" in invoked.verdict.signed_headers, invoked.verdict
    assert invoked.header("x-amz-tenant-id") is None, invoked.headers
    assert invoked.body == b'{"n": 1}'


def test_the_v2_event_carries_the_caller_as_a_lambda_authorizers_context(aws, capture, start_envoy):
    envoy = start_envoy(
        plugin_configuration(
            arn=aws.function_arn,
            payload_passthrough=False,
            payload_format="api_gateway_v2",
            caller=CALLER,
        )
    )

    answer = client.call(envoy.url, "POST", "/orders", body=b'{"n": 1}', headers=FORGED)

    assert answer.status == 200, str(answer)
    invoked = the_signed_request(capture)
    event = APIGatewayProxyEventV2(json.loads(invoked.body))
    assert event.request_context.authorizer.get_lambda == THE_CALLER
    assert decoded_client_context(invoked) == {"custom": THE_CALLER}
    assert "x-amz-client-context" in invoked.verdict.signed_headers, invoked.verdict
    assert invoked.header("x-amz-tenant-id") is None, invoked.headers
    # The forged headers are the request's, in the event: never the call's.
    assert event.headers["x-amz-tenant-id"] == "someone-else"


def test_a_streamed_invocation_carries_the_client_context(aws, start_envoy):
    """InvokeWithResponseStream takes `X-Amz-Client-Context` as Invoke does (botocore's
    lambda service-2.json, `InvokeWithResponseStreamRequest.ClientContext`), and it is a
    synchronous call: the filter sends the caller on that path too."""
    stand_in = StreamingLambda(
        aws.credentials_by_access_key(),
        aws.region,
        streaming_path(aws.function_arn),
        StreamScript(writes=[Write(response_stream([b"streamed"]))]),
    ).start()
    try:
        envoy = start_envoy(
            plugin_configuration(
                arn=aws.function_arn,
                payload_passthrough=True,
                invocation_mode="streaming",
                caller=CALLER,
            ),
            lambda_port=stand_in.port,
            shipped_config=STREAMING_ENVOY_CONFIG,
        )

        got = client.stream(envoy.url, b'{"n": 1}')

        assert got.status == 200, got
        assert got.body == b"streamed", got
        request = stand_in.assert_one_good_request()
        assert decoded_client_context(request) == {"custom": THE_CALLER}
        assert "x-amz-client-context" in request.verdict.signed_headers, request.describe()
    finally:
        stand_in.stop()


def test_an_event_invocation_carries_no_client_context(aws, capture, start_envoy):
    envoy = start_envoy(
        plugin_configuration(
            arn=aws.function_arn,
            payload_passthrough=True,
            invocation_mode="asynchronous",
            caller=CALLER,
        )
    )

    answer = client.call(envoy.url, "POST", "/", body=b'{"n": 1}', headers=FORGED)

    assert answer.status == 202, str(answer)
    invoked = the_signed_request(capture)
    assert invoked.header("x-amz-invocation-type") == "Event"
    assert invoked.header("x-amz-client-context") is None, invoked.headers
    assert invoked.header("x-amz-tenant-id") is None, invoked.headers


def test_a_tenant_isolated_function_gets_the_callers_service_signed(aws, capture, start_envoy):
    envoy = start_envoy(
        plugin_configuration(
            arn=aws.function_arn,
            payload_passthrough=True,
            caller=CALLER,
            tenant_id={"from": "caller_service"},
        )
    )

    answer = client.call(envoy.url, "POST", "/", body=b'{"n": 1}', headers=FORGED)

    assert answer.status == 200, str(answer)
    invoked = the_signed_request(capture)
    assert invoked.header_values("x-amz-tenant-id") == ["api"]
    assert "x-amz-tenant-id" in invoked.verdict.signed_headers, invoked.verdict
    assert decoded_client_context(invoked) == {"custom": THE_CALLER}


@pytest.mark.parametrize(
    "sent",
    [
        [],
        [("x-tenant-id", "")],
        [("x-tenant-id", "not,a,tenant")],
        # Lambda's own header is not the configured one.
        FORGED,
    ],
)
def test_no_tenant_id_is_a_400_and_nothing_reaches_lambda(aws, capture, start_envoy, sent):
    envoy = start_envoy(
        plugin_configuration(
            arn=aws.function_arn,
            payload_passthrough=True,
            caller=CALLER,
            tenant_id={"from": "header", "header": "x-tenant-id"},
        )
    )

    answer = client.call(envoy.url, "POST", "/", body=b'{"n": 1}', headers=sent)

    assert_local_reply(answer, 400, "TenantIdMissing")
    assert_nothing_sent_upstream(capture)

    # The same listener, with the header: the tenant id it names, signed.
    answer = client.call(envoy.url, "POST", "/", body=b"{}", headers=[("x-tenant-id", "blue")])
    assert answer.status == 200, str(answer)
    invoked = the_signed_request(capture)
    assert invoked.header("x-amz-tenant-id") == "blue"
    assert "x-amz-tenant-id" in invoked.verdict.signed_headers, invoked.verdict
