"""A bad plugin configuration stops Envoy at startup with one log line that names the field
and quotes the bad value, and never echoes the whole configuration."""

import json
import re

import pytest

ARN = "arn:aws:lambda:us-east-1:123456789012:function:authentication"
YAML_INSTEAD_OF_JSON = f"arn: {ARN}\ninvocation_mode: synchronous\n"


def quoted(value: str) -> str:
    return f'"{value}"'


# id -> (configuration: dict is sent as JSON, str as is; field named; bad value quoted, or
# the reason where the value alone is not wrong)
CASES = {
    "arn-missing": ({"invocation_mode": "synchronous"}, "arn", None),
    "arn-of-s3": ({"arn": "arn:aws:s3:::bucket"}, "arn", quoted("arn:aws:s3:::bucket")),
    "arn-not-an-arn": ({"arn": "not-an-arn"}, "arn", quoted("not-an-arn")),
    "arn-without-region": (
        {"arn": "arn:aws:lambda::123456789012:function:authentication"},
        "arn",
        quoted("arn:aws:lambda::123456789012:function:authentication"),
    ),
    "arn-without-name": (
        {"arn": "arn:aws:lambda:us-east-1:123456789012:function:"},
        "arn",
        quoted("arn:aws:lambda:us-east-1:123456789012:function:"),
    ),
    "arn-of-a-layer": (
        {"arn": "arn:aws:lambda:us-east-1:123456789012:layer:tools:3"},
        "arn",
        quoted("arn:aws:lambda:us-east-1:123456789012:layer:tools:3"),
    ),
    "arn-not-a-string": ({"arn": 42}, "arn", None),
    "unknown-field": ({"arn": ARN, "arnn": ARN}, "arnn", None),
    "passthrough-not-bool": (
        {"arn": ARN, "payload_passthrough": "yes"},
        "payload_passthrough",
        quoted("yes"),
    ),
    "format-without-event": (
        {"arn": ARN, "payload_passthrough": True, "payload_format": "envoy"},
        "payload_format",
        None,
    ),
    "format-unknown": (
        {"arn": ARN, "payload_passthrough": False, "payload_format": "soap"},
        "payload_format",
        quoted("soap"),
    ),
    "function-error-unknown": (
        {"arn": ARN, "function_error": "ignore"},
        "function_error",
        quoted("ignore"),
    ),
    "max-bytes-not-number": (
        {"arn": ARN, "max_request_bytes": "big"},
        "max_request_bytes",
        quoted("big"),
    ),
    "max-bytes-zero": ({"arn": ARN, "max_request_bytes": 0}, "max_request_bytes", None),
    # Over 64 MiB: the generators' listener buffer (plus headroom) would overflow a uint32.
    "max-bytes-over-the-bound": (
        {"arn": ARN, "max_request_bytes": 4294967295},
        "max_request_bytes",
        "from 1 to 67108864, got 4294967295",
    ),
    # A region of another partition has no endpoint in the ARN's (the reason, not the value).
    "arn-region-of-another-partition": (
        {"arn": "arn:aws:lambda:cn-north-1:123456789012:function:f"},
        "arn",
        "region cn-north-1 is in partition aws-cn, not aws",
    ),
    "arn-partition-of-another-region": (
        {"arn": "arn:aws-cn:lambda:us-east-1:123456789012:function:f"},
        "arn",
        "region us-east-1 is in partition aws, not aws-cn",
    ),
    "sts-host-naming-no-region": (
        {
            "arn": ARN,
            "credentials": {
                "assume_role": {
                    "role_arn": "arn:aws:iam::123456789012:role/r",
                    "sts_host": "sts-proxy.internal.test",
                }
            },
        },
        "sts_host",
        "give sts_region",
    ),
    "mode-unknown": (
        {"arn": ARN, "invocation_mode": "sideways"},
        "invocation_mode",
        quoted("sideways"),
    ),
    "streaming-with-an-event": (
        {"arn": ARN, "invocation_mode": "streaming", "payload_passthrough": False},
        "invocation_mode",
        quoted("streaming"),
    ),
    "qualifier-twice": ({"arn": f"{ARN}:live", "qualifier": "7"}, "qualifier", None),
    "not-json": (YAML_INSTEAD_OF_JSON, None, None),
    "empty": ("", None, None),
}


@pytest.mark.parametrize(("configuration", "field", "bad_value"), CASES.values(), ids=CASES.keys())
def test_invalid_configuration_is_refused(
    start_envoy_expecting_refusal, configuration, field, bad_value
):
    text = configuration if isinstance(configuration, str) else json.dumps(configuration)

    result = start_envoy_expecting_refusal(text)

    assert result.exit_code is not None, "Envoy accepted the configuration (still running)"
    assert result.exit_code != 0
    lines = [line for line in result.log.splitlines() if "invalid configuration" in line]
    assert len(lines) == 1, f"expected one 'invalid configuration' line, got {lines}"
    message = lines[0].split("invalid configuration", 1)[1]
    if field is not None:
        assert re.search(rf"\b{field}\b", message), f"{field} not named in: {lines[0]}"
    if bad_value is not None:
        assert bad_value in message, f"{bad_value} not quoted in: {lines[0]}"
    if len(text) > 24:
        assert text.strip() not in result.log, "the raw configuration was logged"


def test_valid_configuration_is_accepted(start_envoy, aws):
    """The counterpart: every field set to a good value starts."""
    envoy = start_envoy(
        json.dumps(
            {
                "arn": aws.function_arn,
                "qualifier": "live",
                "invocation_mode": "ASYNCHRONOUS",
                "payload_passthrough": True,
                "host_rewrite": "lambda.us-east-1.api.aws",
                "max_request_bytes": 1024,
            }
        )
    )
    assert envoy.exit_code is None
    assert "invalid configuration" not in envoy.log_text()
