"""host_rewrite is the Host Lambda receives and the host the request is signed for."""

from harness import client
from harness.envoy import plugin_configuration
from harness.expectations import invoke_path, the_signed_request

DUAL_STACK_HOST = "lambda.us-east-1.api.aws"  # Lambda's dual-stack endpoint


def test_host_rewrite_is_sent_and_signed(aws, capture, start_envoy):
    envoy = start_envoy(
        plugin_configuration(
            arn=aws.function_arn, payload_passthrough=True, host_rewrite=DUAL_STACK_HOST
        )
    )

    answer = client.call(envoy.url, "POST", "/", body=b'{"host": "rewritten"}')

    assert answer.status == 200, str(answer)
    invoked = the_signed_request(capture)
    assert invoked.header("host") == DUAL_STACK_HOST
    assert invoked.target == invoke_path(aws.function_arn)
    assert f"\nhost:{DUAL_STACK_HOST}\n" in invoked.verdict.canonical_request
    assert "/us-east-1/lambda/aws4_request" in invoked.header("authorization")
