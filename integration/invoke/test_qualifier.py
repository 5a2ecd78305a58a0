"""A qualifier (version or alias), given as a field or as the ARN's suffix, reaches Lambda as
`?Qualifier=` and is covered by the signature."""

import pytest

from harness import client
from harness.envoy import plugin_configuration
from harness.expectations import invoke_path, the_signed_request


@pytest.mark.parametrize(
    ("qualifier", "wire_query"),
    [("live", "Qualifier=live"), ("1", "Qualifier=1"), ("$LATEST", "Qualifier=%24LATEST")],
)
def test_qualifier_field_becomes_the_query(aws, capture, start_envoy, qualifier, wire_query):
    envoy = start_envoy(
        plugin_configuration(arn=aws.function_arn, payload_passthrough=True, qualifier=qualifier)
    )

    answer = client.call(envoy.url, "POST", "/", body=b'{"q": 1}')

    assert answer.status == 200, str(answer)
    invoked = the_signed_request(capture)
    assert invoked.target == f"{invoke_path(aws.function_arn)}?{wire_query}"
    assert f"\n{wire_query}\n" in invoked.verdict.canonical_request


@pytest.mark.parametrize("qualifier", ["live", "1"])
def test_arn_suffix_becomes_the_query(aws, capture, start_envoy, qualifier):
    envoy = start_envoy(
        plugin_configuration(arn=f"{aws.function_arn}:{qualifier}", payload_passthrough=True)
    )

    answer = client.call(envoy.url, "POST", "/", body=b'{"q": 2}')

    assert answer.status == 200, str(answer)
    invoked = the_signed_request(capture)
    assert invoked.decoded_query() == [("Qualifier", qualifier)]
    # The path names the function by its ARN without the suffix: the qualifier is only in
    # the query.
    assert invoked.path == invoke_path(aws.function_arn)
