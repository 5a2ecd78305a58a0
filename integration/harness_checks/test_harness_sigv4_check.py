"""The independent signature check itself: it accepts what botocore signs and rejects each
kind of mistake a signer can make. No Envoy, no moto, no filter needed."""

from datetime import UTC, datetime, timedelta

import pytest
from botocore.auth import SIGNED_HEADERS_BLACKLIST, SigV4Auth
from botocore.utils import normalize_url_path

from harness.aws import AwsCredentials
from harness.expectations import invoke_path
from harness.sdk_signing import WireRequest, sign
from harness.sigv4_check import verify_sigv4

USER = AwsCredentials("AKIDUSEREXAMPLE", "user/secret+example")
SESSION = AwsCredentials("ASIASESSIONEXAMPLE", "session/secret", "session-token//example==")
KNOWN = {USER.access_key_id: USER, SESSION.access_key_id: SESSION}
ARN = "arn:aws:lambda:us-east-1:123456789012:function:authentication"
BODY = b'{"hello": "world"}'


def check(wire: WireRequest, known=KNOWN, **options):
    return verify_sigv4(
        wire.method, wire.target, wire.headers, wire.body, known, region="us-east-1", **options
    )


class SignsEveryHeader(SigV4Auth):
    """A signer that also signs user-agent (botocore never does)."""

    def headers_to_sign(self, request):
        chosen = super().headers_to_sign(request)
        for name, value in request.headers.items():
            if name.lower() in SIGNED_HEADERS_BLACKLIST:
                chosen[name.lower()] = value
        return chosen


class EncodesPathOnce(SigV4Auth):
    """The classic Lambda mistake: canonical URI not encoded a second time."""

    def _normalize_url_path(self, path):
        return normalize_url_path(path)


class LeavesHostUnsigned(SigV4Auth):
    def headers_to_sign(self, request):
        chosen = super().headers_to_sign(request)
        del chosen["host"]
        return chosen


def test_accepts_botocore_signature_and_encodes_arn_path_twice():
    verdict = check(sign(USER, invoke_path(ARN), BODY))
    assert verdict.ok, str(verdict)
    assert "/functions/arn%253Aaws%253Alambda%253A" in verdict.canonical_request


def test_accepts_session_token_and_qualifier_query():
    wire = sign(SESSION, invoke_path(ARN) + "?Qualifier=%24LATEST", BODY)
    verdict = check(wire)
    assert verdict.ok, str(verdict)
    assert "x-amz-security-token" in verdict.signed_headers
    assert "\nQualifier=%24LATEST\n" in verdict.canonical_request


def test_accepts_empty_body():
    verdict = check(sign(USER, invoke_path(ARN), b""))
    assert verdict.ok, str(verdict)
    assert verdict.canonical_request.endswith(
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    )


def test_rejects_wrong_secret_but_accepts_it_with_that_secret():
    wrong = USER.with_secret("not-the-secret")
    wire = sign(wrong, invoke_path(ARN), BODY)
    assert "differs from botocore's" in check(wire).reason
    assert check(wire, known={USER.access_key_id: wrong}).ok


@pytest.mark.parametrize(
    ("mutate", "reason"),
    [
        (lambda w: WireRequest(w.method, w.target, w.headers, b'{"hello": "mars"}'), "differs"),
        (lambda w: WireRequest("PUT", w.target, w.headers, w.body), "differs"),
        (lambda w: WireRequest(w.method, w.target + "?Qualifier=7", w.headers, w.body), "differs"),
        (lambda w: w.with_header("Host", "lambda.us-west-2.amazonaws.com"), "differs"),
        (lambda w: w.with_header("X-Amz-Date", "20200101T000000Z"), "scope date"),
        (
            lambda w: WireRequest(
                w.method, w.target, w.headers + [("X-Amz-Date", w.header("X-Amz-Date"))], w.body
            ),
            "2 X-Amz-Date",
        ),
        (
            lambda w: w.with_header(
                "Authorization",
                w.header("Authorization").replace("host;x-amz-date", "x-amz-date;host"),
            ),
            "sorted",
        ),
        (
            lambda w: w.with_header(
                "Authorization", w.header("Authorization").replace("/lambda/", "/s3/")
            ),
            "scope service",
        ),
        (
            lambda w: w.with_header(
                "Authorization",
                w.header("Authorization").replace(USER.access_key_id, "AKIDSOMEONEELSE"),
            ),
            "unknown access key id",
        ),
        (lambda w: w.with_header("X-Amz-Security-Token", "smuggled"), "long-term credentials"),
        (
            lambda w: WireRequest(
                w.method, w.target, [h for h in w.headers if h[0] != "Authorization"], w.body
            ),
            "0 Authorization",
        ),
    ],
    ids=[
        "body",
        "method",
        "query",
        "host",
        "scope-date",
        "two-dates",
        "unsorted",
        "service",
        "unknown-key",
        "token-with-user-key",
        "unsigned",
    ],
)
def test_rejects_tampering(mutate, reason):
    verdict = check(mutate(sign(USER, invoke_path(ARN), BODY)))
    assert not verdict.ok
    assert reason in verdict.reason, verdict.reason


def test_rejects_payload_hash_header_that_is_not_the_body_hash():
    wire = sign(USER, invoke_path(ARN), BODY, headers=[("X-Amz-Content-SHA256", "0" * 64)])
    assert "X-Amz-Content-SHA256" in check(wire).reason


def test_rejects_stale_clock():
    ten_minutes_ago = datetime.now(UTC).replace(tzinfo=None) - timedelta(minutes=10)
    wire = sign(USER, invoke_path(ARN), BODY, at=ten_minutes_ago)
    assert "away from now" in check(wire).reason
    assert check(wire, now=datetime.now(UTC) - timedelta(minutes=10)).ok


def test_rejects_session_token_other_than_the_sessions():
    wire = sign(SESSION, invoke_path(ARN), BODY).with_header("X-Amz-Security-Token", "other")
    assert "not the session's token" in check(wire).reason


def test_rejects_path_encoded_only_once_in_canonical_request():
    verdict = check(sign(USER, invoke_path(ARN), BODY, signer_class=EncodesPathOnce))
    assert "differs from botocore's" in verdict.reason


def test_rejects_signed_user_agent_even_with_a_matching_signature():
    wire = sign(
        USER,
        invoke_path(ARN),
        BODY,
        headers=[("User-Agent", "curl/8")],
        signer_class=SignsEveryHeader,
    )
    assert "botocore would sign" in check(wire).reason


def test_rejects_unsigned_host():
    wire = sign(USER, invoke_path(ARN), BODY, signer_class=LeavesHostUnsigned)
    assert "lacks host" in check(wire).reason


def test_rejects_other_region_when_region_is_pinned():
    wire = sign(USER, invoke_path(ARN), BODY, region="eu-west-1")
    assert "scope region" in check(wire).reason
