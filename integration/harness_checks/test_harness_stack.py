"""The harness end to end without the filter: moto's auth, the capture hop and Envoy on
envoy/local.yaml with mesh-lambda taken out of the chain. Requests are signed here by
botocore, so a failure in this file is a harness problem, not a filter problem."""

import json

import botocore.exceptions
import pytest

from harness import client
from harness.aws import botocore_client
from harness.capture import CannedResponse
from harness.envoy import EnvoyProcess, envoy_environment, load_local_config
from harness.expectations import invoke_path, the_signed_request
from harness.sdk_signing import LAMBDA_HOST, sign

BODY = b'{"from": "harness"}'


def send_through(envoy, wire):
    return client.call(envoy.url, wire.method, wire.target, wire.headers, wire.body)


def test_moto_invokes_with_the_users_key_and_refuses_a_wrong_secret(aws):
    answer = botocore_client(aws.endpoint, "lambda", aws.user_credentials).invoke(
        FunctionName=aws.function_arn, Payload=BODY
    )
    assert answer["StatusCode"] == 200
    assert answer["Payload"].read() == BODY

    wrong = botocore_client(aws.endpoint, "lambda", aws.user_credentials.with_secret("wrong"))
    with pytest.raises(botocore.exceptions.ClientError) as refused:
        wrong.invoke(FunctionName=aws.function_arn, Payload=BODY)
    assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403


@pytest.mark.parametrize("kind", ["user", "session"])
def test_signed_request_through_envoy_reaches_moto_verified(aws, capture, start_envoy, kind):
    credentials = aws.user_credentials if kind == "user" else aws.session_credentials
    envoy = start_envoy(with_filter=False)
    wire = sign(credentials, invoke_path(aws.function_arn), BODY)

    answer = send_through(envoy, wire)

    assert answer.status == 200, str(answer)
    assert answer.body == BODY
    seen = the_signed_request(capture)
    assert (seen.method, seen.target, seen.body) == ("POST", wire.target, BODY)
    assert seen.header("host") == LAMBDA_HOST
    assert seen.header("authorization") == wire.header("Authorization")


def test_wrong_secret_is_refused_by_moto_and_by_the_check(aws, capture, start_envoy):
    envoy = start_envoy(with_filter=False)
    wrong = aws.user_credentials.with_secret("wrong")
    answer = send_through(envoy, sign(wrong, invoke_path(aws.function_arn), BODY))

    assert answer.status == 403, str(answer)
    [seen] = capture.requests
    assert not seen.verdict.ok
    assert seen.verify_with({wrong.access_key_id: wrong}).ok


def test_capture_hop_relays_a_canned_answer(aws, capture, start_envoy):
    envoy = start_envoy(with_filter=False)
    capture.answer_with(
        CannedResponse(
            429,
            [
                ("Content-Type", "application/json"),
                ("x-amzn-errortype", "TooManyRequestsException"),
            ],
            b'{"message": "Rate Exceeded."}',
        )
    )

    answer = send_through(envoy, sign(aws.user_credentials, invoke_path(aws.function_arn), BODY))

    assert answer.status == 429
    assert answer.header("x-amzn-errortype") == "TooManyRequestsException"
    assert json.loads(answer.body) == {"message": "Rate Exceeded."}
    assert len(capture.requests) == 1


def test_envoy_refusing_a_config_is_seen_as_an_exit_with_its_log(tmp_path):
    config = load_local_config()
    http_filters = config["static_resources"]["listeners"][0]["filter_chains"][0]["filters"][0][
        "typed_config"
    ]["http_filters"]
    http_filters[:] = [f for f in http_filters if f["name"] != "mesh-lambda"]
    config["static_resources"]["clusters"][0]["name"] = "not-the-routed-cluster"
    config["admin"]["address"]["socket_address"]["port_value"] = 0
    config["static_resources"]["listeners"][0]["address"]["socket_address"]["port_value"] = 0
    envoy = EnvoyProcess(tmp_path / "envoy", config, envoy_environment({}))
    envoy.launch()
    try:
        exit_code = envoy.wait_exit(20)
    finally:
        envoy.stop()
    assert exit_code not in (None, 0)
    assert "unknown cluster" in envoy.log_text()
