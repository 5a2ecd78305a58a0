"""A function that failed (X-Amz-Function-Error) becomes a 502 that keeps the function's
error body and the header. moto never produces one, so the capture hop answers it."""

import json

import pytest

from harness import client
from harness.capture import CannedResponse
from harness.expectations import the_signed_request

ERROR_BODY = json.dumps({"errorMessage": "boom", "errorType": "RuntimeError",
                         "stackTrace": ["  File \"lambda_function.py\", line 2"]}).encode()


@pytest.mark.parametrize("kind", ["Unhandled", "Handled"])
def test_function_error_becomes_502_with_body_and_header(capture, start_envoy, kind):
    capture.answer_with(CannedResponse(200, [
        ("Content-Type", "application/json"),
        ("X-Amz-Function-Error", kind),
        ("X-Amz-Executed-Version", "$LATEST"),
    ], ERROR_BODY))
    envoy = start_envoy()

    answer = client.call(envoy.url, "POST", "/", body=b'{"fail": true}')

    assert answer.status == 502, str(answer)
    assert answer.body == ERROR_BODY
    assert answer.header("x-amz-function-error") == kind
    the_signed_request(capture)
