"""Credentials per function (the `functions` form): `auth` signs with the top-level block's
credentials (the IAM user's key from the environment), `billing` with its own block, a role
it assumes through STS. Each request is verified independently (the capture hops' botocore
check) and must carry its own function's access key; STS is asked once for `billing`'s role
however many requests: credentials are fetched once per identity, not per function or per
request. (The environment, `auth`'s source, needs no callout: each VM reads it at start.)

STS is moto's behind the STS hop (harness/sts.py, as in credentials/test_assume_role.py);
the hop registers the keys moto hands out with the east capture hop, so an Invoke there
verifies with the role's keys. `billing` is the east function (its STS default is STS in its
own region, us-east-1, where the hop checks the signature); `auth` the west one."""

import copy
import json

from harness import client
from harness.aws import FUNCTION_NAME
from harness.bootstrap import static_cluster
from harness.capture import CaptureHop
from harness.envoy import render_config
from harness.expectations import (
    assert_local_reply,
    assert_nothing_sent_upstream,
    invoke_path,
    the_signed_request,
)
from harness.gateway import WEST, create_function, lambda_routes
from harness.metrics import wait_for_metrics, wait_until
from harness.sts import role_arn, sts_error

ROUNDS = 3


def _start_two_identities(aws, capture, sts_hop, start_bootstrap, wasm_path, west_hop, west_arn):
    """An Envoy whose filter has `auth` (west, the top-level environment credentials) and
    `billing` (east, its own block assuming the role), each routed to its own hop."""
    configuration = json.dumps(
        {
            "functions": {
                "auth": {"arn": west_arn, "payload_passthrough": True},
                "billing": {
                    "arn": aws.function_arn,
                    "payload_passthrough": True,
                    "credentials": {
                        "provider": "environment",
                        "fetch_timeout_ms": 1000,
                        "assume_role": {"role_arn": role_arn(aws)},
                    },
                },
            },
            "credentials": {"provider": "environment"},
            "detailed_errors": True,
        }
    )
    config = render_config(
        wasm_path=wasm_path, plugin_configuration=configuration, lambda_port=capture.port
    )
    resources = config["static_resources"]
    manager = resources["listeners"][0]["filter_chains"][0]["filters"][0]["typed_config"]
    east_cluster = resources["clusters"][0]["name"]
    resources["clusters"] += [static_cluster("lambda_west", west_hop.port), sts_hop.cluster()]
    manager["route_config"]["virtual_hosts"][0]["routes"] = [
        *lambda_routes("auth", west_arn, WEST, "lambda_west", "/auth"),
        *lambda_routes("billing", aws.function_arn, aws.region, east_cluster, "/billing"),
    ]
    return start_bootstrap("envoy", copy.deepcopy(config), aws.user_credentials.as_environment())


def _west(aws) -> tuple[CaptureHop, str]:
    """The west function's ARN and the hop its Lambda cluster points at."""
    arn = create_function(aws, FUNCTION_NAME, WEST)
    return CaptureHop(aws.port, aws.credentials_by_access_key(), region=WEST).start(), arn


def test_each_function_signs_with_its_own_identity_and_sts_is_asked_once(
    aws, capture, sts_hop, start_bootstrap, wasm_path
):
    west_hop, west_arn = _west(aws)
    try:
        envoy = _start_two_identities(
            aws, capture, sts_hop, start_bootstrap, wasm_path, west_hop, west_arn
        )

        for number in range(ROUNDS):
            for path in ["/auth", "/billing"]:
                body = b'{"to": "%s", "n": %d}' % (path[1:].encode(), number)
                answer = client.call(envoy.url, "POST", path, body=body)
                assert answer.status == 200, str(answer)
                assert answer.body == body

        # One AssumeRole call, for billing's role, signed with the user's key.
        [call] = sts_hop.calls()
        assert call.verdict.ok, call.describe()
        assert call.access_key_id == aws.user_credentials.access_key_id
        assert sts_hop.parameters(call)["RoleArn"] == role_arn(aws)
        [assumed] = sts_hop.assumed
        role_key = assumed.credentials.access_key_id
        assert role_key != aws.user_credentials.access_key_id

        # auth: every Invoke signed with the user's key (the top-level block), none with the role.
        assert len(west_hop.requests) == ROUNDS, west_hop.describe()
        for invoke in west_hop.requests:
            assert invoke.verdict.ok, invoke.describe()
            assert invoke.target == invoke_path(west_arn)
            assert invoke.access_key_id == aws.user_credentials.access_key_id
            assert invoke.header("x-amz-security-token") is None
        # billing: every Invoke signed with the role's keys and session token.
        assert len(capture.requests) == ROUNDS, capture.describe()
        for invoke in capture.requests:
            assert invoke.verdict.ok, invoke.describe()
            assert invoke.target == invoke_path(aws.function_arn)
            assert invoke.access_key_id == role_key
            assert invoke.header("x-amz-security-token") == assumed.credentials.session_token

        # The role fetched once for the proxy; the expiry gauge follows the identity whose
        # credentials expire (the environment's never do).
        metrics = wait_for_metrics(
            envoy,
            {"credential_fetches.assume_role": 1, "credential_fetch_failures.assume_role": 0},
        )
        assert metrics["credential_fetches.assume_role"] == 1, metrics
        assert metrics["credential_fetches.environment"] >= 1, metrics
        metrics = wait_until(envoy, lambda m: m.get("credentials.expiry_seconds", 0) > 0)
        assert 3000 < metrics["credentials.expiry_seconds"] <= 3600, metrics
        envoy.stop()
        log = envoy.log_text()
        assert "function auth: invoking" in log and "credentials: environment" in log
        assert f"function billing: invoking {aws.function_arn}" in log
        assert f"credentials: assume_role of {role_arn(aws)} with environment" in log
    finally:
        west_hop.stop()


def test_a_failing_identity_answers_only_its_own_functions_requests(
    aws, capture, sts_hop, start_bootstrap, wasm_path
):
    """STS refuses billing's role: billing's requests get the 503 naming STS's reason and
    nothing reaches its Lambda; auth's, of the other identity, are signed and answered."""
    sts_hop.answer_with(sts_error(403, "AccessDenied", "not authorized to assume it"))
    west_hop, west_arn = _west(aws)
    try:
        envoy = _start_two_identities(
            aws, capture, sts_hop, start_bootstrap, wasm_path, west_hop, west_arn
        )

        billing = client.call(envoy.url, "POST", "/billing", body=b'{"unsigned": "never"}')
        auth = client.call(envoy.url, "POST", "/auth", body=b'{"to": "auth"}')

        message = assert_local_reply(billing, 503, "CredentialsUnavailable")["message"]
        assert message.startswith(f"cannot assume role {role_arn(aws)}: STS refused (HTTP 403)")
        assert_nothing_sent_upstream(capture)
        assert auth.status == 200, str(auth)
        invoke = the_signed_request(west_hop)
        assert invoke.access_key_id == aws.user_credentials.access_key_id
    finally:
        west_hop.stop()
