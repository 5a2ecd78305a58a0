"""Errors of the Lambda API itself reach the caller with their status, x-amzn-errortype and
body, after one attempt (the capture hop answers them as Lambda would)."""

import json

import pytest

from harness import client
from harness.capture import CannedResponse
from harness.expectations import the_signed_request

API_ERRORS = [
    (
        429,
        "TooManyRequestsException",
        {
            "Reason": "ReservedFunctionConcurrentInvocationLimitExceeded",
            "Type": "User",
            "message": "Rate Exceeded.",
        },
    ),
    (
        404,
        "ResourceNotFoundException",
        {
            "Type": "User",
            "message": "Function not found: arn:aws:lambda:us-east-1:123456789012"
            ":function:authentication",
        },
    ),
    (
        403,
        "AccessDeniedException",
        {"Message": "User is not authorized to perform: lambda:InvokeFunction"},
    ),
    (
        413,
        "RequestTooLargeException",
        {"Type": "User", "message": "Request must be smaller than 6291456 bytes"},
    ),
    (500, "ServiceException", {"Type": "Service", "message": "Internal error"}),
    (502, "EC2UnexpectedException", {"Type": "Service", "message": "Unexpected EC2 error"}),
]


@pytest.mark.parametrize(
    ("status", "error_type", "document"), API_ERRORS, ids=[f"{s}-{t}" for s, t, _ in API_ERRORS]
)
def test_api_error_passes_through(capture, start_envoy, status, error_type, document):
    body = json.dumps(document).encode()
    capture.answer_with(
        CannedResponse(
            status,
            [
                ("Content-Type", "application/json"),
                ("x-amzn-RequestId", "8f5c7a1e-0000-4000-8000-000000000000"),
                ("x-amzn-ErrorType", error_type),
            ],
            body,
        )
    )
    envoy = start_envoy()

    answer = client.call(envoy.url, "POST", "/", body=b'{"api": "error"}')

    assert answer.status == status, str(answer)
    assert answer.header("x-amzn-errortype") == error_type
    assert answer.body == body
    the_signed_request(capture)  # exactly one attempt, correctly signed
