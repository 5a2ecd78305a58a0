"""STS for the assume-role tests: a hop standing where STS would be (the filter's `sts`
cluster), in front of moto's STS.

    Envoy + mesh-lambda ──AssumeRole──▶ STS hop (record + botocore check, service sts) ──▶ moto
                        ──Invoke─────▶ capture hop (verified with the keys moto assumed) ──▶ moto

The hop records each call exactly as it arrives and checks its signature with botocore (as
the capture hop does for Lambda); moto then checks it again and answers. The credentials of
every AssumeRole answer moto gives are read with Python's own XML parser and registered with
the Lambda capture hop, with their Expiration: an Invoke verifies only if it was signed with
keys STS handed out. The hop can also answer as STS does when it refuses (canned answers in
STS's documented error format) for the refusals moto does not make (a wrong external id,
throttling: moto checks neither).
"""

import json
import xml.etree.ElementTree as ElementTree
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import parse_qsl

import requests

from .aws import ROLE_NAME, AwsCredentials, LambdaWorld, botocore_client
from .bootstrap import static_cluster
from .capture import CannedResponse, CapturedRequest, CaptureHop

STS_NAMESPACE = "{https://sts.amazonaws.com/doc/2011-06-15/}"
_LAMBDA_ONLY = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": ["lambda:*"], "Resource": "*"}],
}


@dataclass(frozen=True)
class Assumed:
    """Credentials an AssumeRole answer handed out."""

    credentials: AwsCredentials
    expires_at: float  # unix seconds


def role_arn(aws: LambdaWorld) -> str:
    """The role moto holds (provisioned by harness/aws.py)."""
    return f"arn:aws:iam::{aws.account_id}:role/{ROLE_NAME}"


def sts_error(status: int, code: str, message: str) -> CannedResponse:
    """An answer in STS's error format (`ErrorResponse/Error`, as the STS API reference shows)."""
    body = (
        f'<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">'
        f"<Error><Type>Sender</Type><Code>{code}</Code><Message>{message}</Message></Error>"
        f"<RequestId>7a62c49f-347e-4fc4-9331-6e8eEXAMPLE</RequestId></ErrorResponse>"
    ).encode()
    return CannedResponse(status, [("Content-Type", "text/xml")], body)


class StsHop(CaptureHop):
    """Start with `start()`, point the filter's STS cluster at it (`cluster()`)."""

    def __init__(self, aws: LambdaWorld, lambda_capture: CaptureHop, region: str):
        """`region`: the one each call's signature must be for (STS's, not the function's)."""
        super().__init__(aws.port, aws.credentials_by_access_key(), region=region, service="sts")
        self.region = region
        self._lambda_capture = lambda_capture
        self.assumed: list[Assumed] = []

    def cluster(self, name: str = "sts") -> dict:
        return static_cluster(name, self.port, connect_timeout="1s")

    def calls(self) -> list[CapturedRequest]:
        return self.requests

    @staticmethod
    def parameters(call: CapturedRequest) -> dict[str, str]:
        """The form parameters of an AssumeRole call."""
        pairs = parse_qsl(call.body.decode(), keep_blank_values=True, strict_parsing=True)
        names = [name for name, _ in pairs]
        assert len(names) == len(set(names)), f"a parameter sent twice: {pairs}"
        return dict(pairs)

    def _forward(self, method, target, headers, body) -> CannedResponse:
        answer = super()._forward(method, target, headers, body)
        if answer.status == 200:
            assumed = _assumed(answer.body)
            self._lambda_capture.accept_credentials(assumed.credentials, assumed.expires_at)
            with self._lock:
                self.assumed.append(assumed)
        return answer


def _assumed(body: bytes) -> Assumed:
    """The credentials of an AssumeRole or AssumeRoleWithWebIdentity answer."""
    root = ElementTree.fromstring(body)
    results = ("AssumeRoleResult", "AssumeRoleWithWebIdentityResult")
    found = next(
        (
            element
            for result in results
            if (element := root.find(f"{STS_NAMESPACE}{result}/{STS_NAMESPACE}Credentials"))
            is not None
        ),
        None,
    )
    assert found is not None, body

    def text(name: str) -> str:
        value = found.findtext(f"{STS_NAMESPACE}{name}")
        assert value, f"{name} missing in {body!r}"
        return value

    expiration = datetime.fromisoformat(text("Expiration"))
    return Assumed(
        AwsCredentials(text("AccessKeyId"), text("SecretAccessKey"), text("SessionToken")),
        expiration.timestamp(),
    )


def user_without_sts(aws: LambdaWorld) -> AwsCredentials:
    """A new IAM user allowed `lambda:*` only, so moto's STS refuses its AssumeRole
    (AccessDenied). moto's signature checking is on; its `reset-auth` lets exactly the next
    four requests (the four IAM calls here) through unsigned, then checks again."""
    requests.post(
        f"{aws.endpoint}/moto-api/reset-auth",
        data=b"4",
        headers={"Content-Type": "text/plain"},
        timeout=10,
    ).raise_for_status()
    iam = botocore_client(aws.endpoint, "iam", AwsCredentials("AKIDBOOTSTRAP", "unused"))
    iam.create_user(UserName="mesh-lambda-no-sts")
    key = iam.create_access_key(UserName="mesh-lambda-no-sts")["AccessKey"]
    policy = iam.create_policy(
        PolicyName="mesh-lambda-lambda-only", PolicyDocument=json.dumps(_LAMBDA_ONLY)
    )["Policy"]["Arn"]
    iam.attach_user_policy(UserName="mesh-lambda-no-sts", PolicyArn=policy)
    return AwsCredentials(key["AccessKeyId"], key["SecretAccessKey"])
