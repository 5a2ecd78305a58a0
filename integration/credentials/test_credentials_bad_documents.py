"""Credential documents that are wrong in a way a real endpoint can produce are refused: the
request gets the filter's 503 naming the provider and the reason (quoting no secret), Envoy
keeps serving, and once the endpoint serves a good document, requests work."""

import json
import time

import pytest
import requests

from harness.envoy import plugin_configuration
from harness.expectations import assert_nothing_sent_upstream
from harness.traffic import timed_call


def _without(name):
    return lambda doc: json.dumps({k: v for k, v in doc.items() if k != name}).encode()


def _with(**changes):
    return lambda doc: json.dumps({**doc, **changes}).encode()


def _past(doc):
    return json.dumps(
        {**doc, "Expiration": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - 60))}
    ).encode()


# case id -> (provider, rewrite of the good document, what the 503 must say)
CASES = {
    "not-json": (
        "container",
        lambda doc: b"<html>Service Unavailable</html>",
        "container: credential document is not JSON",
    ),
    "no-token": ("container", _without("Token"), "container: credential document has no Token"),
    "empty-secret": (
        "container",
        _with(SecretAccessKey=""),
        "container: credential document has an empty SecretAccessKey",
    ),
    "expired": ("container", _past, "container: credential document expired already"),
    "expiration-not-a-time": (
        "container",
        _with(Expiration="tomorrow"),
        'container: credential document\'s Expiration "tomorrow" is not an RFC 3339 UTC time',
    ),
    "imds-code-not-success": (
        "instance_metadata",
        _with(Code="AssumeRoleUnauthorizedAccess"),
        "instance_metadata: credential document has Code "
        '"AssumeRoleUnauthorizedAccess", not "Success"',
    ),
}


@pytest.mark.parametrize(("provider", "rewrite", "reason"), CASES.values(), ids=CASES.keys())
def test_bad_document_is_refused_and_a_good_one_later_works(
    aws, capture, start_envoy, container_endpoint, instance_metadata, provider, rewrite, reason
):
    stand_in = container_endpoint if provider == "container" else instance_metadata
    stand_in.rewrite_documents(rewrite)
    configuration = plugin_configuration(
        arn=aws.function_arn,
        payload_passthrough=True,
        detailed_errors=True,
        credentials={"provider": provider, "max_wait_ms": 2000},
    )
    envoy = start_envoy(
        configuration,
        environment=container_endpoint.relative_uri_environment(),
        clusters=[stand_in.cluster()],
    )

    refused = timed_call(envoy.url)

    assert refused.status == 503, str(refused)
    message = json.loads(refused.body)["message"]
    assert message.startswith(f"no AWS credentials from any provider ({reason}"), message
    [bad] = stand_in.served
    for secret in (bad.credentials.secret_access_key, bad.credentials.session_token):
        assert secret not in message
    assert_nothing_sent_upstream(capture)

    stand_in.rewrite_documents(None)
    deadline = time.monotonic() + 6
    while (outcome := timed_call(envoy.url)).status != 200 and time.monotonic() < deadline:
        time.sleep(0.2)
    assert outcome.status == 200, str(outcome)
    good = stand_in.served[-1]
    assert [r.access_key_id for r in capture.requests] == [good.credentials.access_key_id]
    assert capture.requests[0].verdict.ok

    assert envoy.exit_code is None
    assert requests.get(f"{envoy.admin_url}/ready", timeout=2).status_code == 200
    envoy.stop()
    log = envoy.log_text()
    for sign_of_a_crash in ("panicked", "wasm trap", "Plugin configured to fail closed"):
        assert sign_of_a_crash not in log
