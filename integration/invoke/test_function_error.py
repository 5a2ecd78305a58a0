"""A function that failed (X-Amz-Function-Error) becomes a 502 that keeps the function's
error body and the header. moto never produces one, so the capture hop answers it."""

import json

import pytest

from harness import client
from harness.capture import CannedResponse
from harness.expectations import the_signed_request

ERROR_BODY = json.dumps(
    {
        "errorMessage": "boom",
        "errorType": "RuntimeError",
        "stackTrace": ['  File "lambda_function.py", line 2'],
    }
).encode()


def answer_with_function_error(capture, kind: str) -> None:
    capture.answer_with(
        CannedResponse(
            200,
            [
                ("Content-Type", "application/json"),
                ("X-Amz-Function-Error", kind),
                ("X-Amz-Executed-Version", "$LATEST"),
            ],
            ERROR_BODY,
        )
    )


@pytest.mark.parametrize("kind", ["Unhandled", "Handled"])
def test_function_error_becomes_502_with_body_and_header(capture, start_envoy, kind):
    answer_with_function_error(capture, kind)
    envoy = start_envoy()

    answer = client.call(envoy.url, "POST", "/", body=b'{"fail": true}')

    assert answer.status == 502, str(answer)
    assert answer.body == ERROR_BODY
    assert answer.header("x-amz-function-error") == kind
    the_signed_request(capture)


def test_a_function_error_header_that_is_not_utf8_is_still_a_502(capture, start_envoy):
    # Header values may carry any byte from 0x80 up (obs-text); reading one must not crash the
    # VM (the SDK's string reader panics on it): the next request is served as usual.
    answer_with_function_error(capture, "Unhandled\xff")
    envoy = start_envoy()

    answer = client.call(envoy.url, "POST", "/", body=b'{"fail": true}')

    assert answer.status == 502, str(answer)
    assert answer.body == ERROR_BODY
    capture.answer_with(None)
    again = client.call(envoy.url, "POST", "/", body=b'{"fail": false}')
    assert again.status == 200, str(again)
    assert again.body == b'{"fail": false}'
