"""The credential stand-ins and the capture hop's expiry check, without Envoy or the filter:
the stand-ins speak the documented protocols, their credentials work at moto, and the capture
hop refuses credentials past their announced Expiration. A failure here is a harness problem."""

import time

import pytest
import requests

from harness import client
from harness.expectations import invoke_path
from harness.metadata import IMDS_ROLES_PATH, IMDS_TOKEN_HEADER, IMDS_TOKEN_PATH, IMDS_TTL_HEADER
from harness.sdk_signing import sign

BODY = b'{"from": "stand-in"}'


def url(stand_in, path):
    return f"http://127.0.0.1:{stand_in.port}{path}"


def invoke_via_capture(aws, capture, credentials):
    wire = sign(credentials, invoke_path(aws.function_arn), BODY)
    return client.call(
        f"http://127.0.0.1:{capture.port}", wire.method, wire.target, wire.headers, wire.body
    )


def test_imds_protocol(instance_metadata):
    put = requests.put(url(instance_metadata, IMDS_TOKEN_PATH), timeout=5)
    assert put.status_code == 400  # no TTL header
    assert (
        requests.put(
            url(instance_metadata, IMDS_TOKEN_PATH), timeout=5, headers={IMDS_TTL_HEADER: "21601"}
        ).status_code
        == 400
    )
    assert (
        requests.put(
            url(instance_metadata, IMDS_TOKEN_PATH),
            timeout=5,
            headers={IMDS_TTL_HEADER: "60", "X-Forwarded-For": "10.0.0.1"},
        ).status_code
        == 403
    )
    assert requests.get(url(instance_metadata, IMDS_ROLES_PATH), timeout=5).status_code == 401

    token = requests.put(
        url(instance_metadata, IMDS_TOKEN_PATH), timeout=5, headers={IMDS_TTL_HEADER: "1"}
    ).text
    with_token = {IMDS_TOKEN_HEADER: token}
    listing = requests.get(url(instance_metadata, IMDS_ROLES_PATH), headers=with_token, timeout=5)
    assert (listing.status_code, listing.text) == (200, instance_metadata.role_name)
    document = requests.get(
        url(instance_metadata, instance_metadata.role_path), headers=with_token, timeout=5
    ).json()
    assert document["Code"] == "Success" and document["Type"] == "AWS-HMAC"
    assert set(document) == {
        "Code",
        "LastUpdated",
        "Type",
        "AccessKeyId",
        "SecretAccessKey",
        "Token",
        "Expiration",
    }
    assert (
        requests.get(
            url(instance_metadata, IMDS_ROLES_PATH + "other"), headers=with_token, timeout=5
        ).status_code
        == 404
    )
    time.sleep(1.1)  # the token's TTL
    assert (
        requests.get(
            url(instance_metadata, IMDS_ROLES_PATH), headers=with_token, timeout=5
        ).status_code
        == 401
    )

    token = requests.put(
        url(instance_metadata, IMDS_TOKEN_PATH), timeout=5, headers={IMDS_TTL_HEADER: "600"}
    ).text
    instance_metadata.forget_tokens()
    assert (
        requests.get(
            url(instance_metadata, IMDS_ROLES_PATH), timeout=5, headers={IMDS_TOKEN_HEADER: token}
        ).status_code
        == 401
    )
    assert instance_metadata.count(IMDS_TOKEN_PATH, "PUT") == 5


def test_container_endpoint_protocol_and_minted_credentials_work(aws, capture, container_endpoint):
    container_endpoint.authorization = "Bearer good"
    container_endpoint.lifetime_seconds = 30
    path = url(container_endpoint, container_endpoint.path)
    assert requests.get(path, timeout=5).status_code == 401
    assert requests.get(path, headers={"Authorization": "Bearer bad"}, timeout=5).status_code == 401
    assert (
        requests.get(
            url(container_endpoint, "/v2/credentials/other"),
            timeout=5,
            headers={"Authorization": "Bearer good"},
        ).status_code
        == 404
    )
    document = requests.get(path, headers={"Authorization": "Bearer good"}, timeout=5).json()
    assert set(document) == {"RoleArn", "AccessKeyId", "SecretAccessKey", "Token", "Expiration"}
    [minted] = container_endpoint.served
    assert document["Expiration"] == minted.expiration
    assert minted.expires_at - 31 <= time.time() <= minted.expires_at - 29

    answer = invoke_via_capture(aws, capture, minted.credentials)
    assert answer.status == 200, str(answer)
    [seen] = capture.requests
    assert seen.verdict.ok and not seen.credentials_expired
    assert seen.access_key_id == document["AccessKeyId"]


def test_capture_hop_refuses_credentials_past_their_expiration(aws, capture, sts_mint):
    minted = sts_mint.mint(lifetime_seconds=0)  # expires now

    answer = invoke_via_capture(aws, capture, minted.credentials)

    assert answer.status == 403, str(answer)
    assert answer.header("x-amzn-errortype") == "ExpiredTokenException"
    [seen] = capture.requests
    assert seen.verdict.ok and seen.credentials_expired


@pytest.mark.parametrize("how", ["error", "refuse", "hang"])
def test_stand_in_goes_down_and_comes_back(container_endpoint, how):
    path = url(container_endpoint, container_endpoint.path)
    container_endpoint.go_down(how)
    if how == "error":
        assert requests.get(path, timeout=5).status_code == 500
    elif how == "refuse":
        with pytest.raises(requests.ConnectionError):
            requests.get(path, timeout=5)
    else:
        with pytest.raises(requests.Timeout):
            requests.get(path, timeout=0.5)
    container_endpoint.come_back()
    assert requests.get(path, timeout=5).status_code == 200
