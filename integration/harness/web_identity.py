"""STS for the web-identity (IRSA) tests: a hop standing where STS would be (the filter's `sts`
cluster) that plays STS's part in `AssumeRoleWithWebIdentity` and forwards everything else.

    Envoy + mesh-lambda ──AssumeRoleWithWebIdentity (unsigned)──▶ this hop ──▶ moto
                        ──AssumeRole (signed, role chaining)────▶ this hop ──▶ moto

STS checks the token (its signature by the cluster's OIDC issuer, audience `sts.amazonaws.com`,
expiry) and no AWS signature: the STS API reference for AssumeRoleWithWebIdentity says calling it
"does not require the use of AWS security credentials". moto's server, with signature checking
on, refuses any unsigned call (it answers 500), and checks no token. So the hop takes STS's place
for the token: it records the call as it arrived (the test reads the token and that no
`Authorization` came), refuses a token it does not currently take (the pod's current one) as
STS refuses it (`InvalidIdentityToken`, `ExpiredTokenException`: the error codes of the API
reference), and for the current token asks moto itself, signing the same form with the IAM
user's key, so the role's keys come from moto and the Lambda capture hop verifies each Invoke
with exactly those.
"""

from urllib.parse import parse_qsl

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from .aws import LambdaWorld
from .capture import CannedResponse, CaptureHop
from .sts import StsHop, sts_error

ACTION = "AssumeRoleWithWebIdentity"


class WebIdentityStsHop(StsHop):
    def __init__(self, aws: LambdaWorld, lambda_capture: CaptureHop, region: str):
        super().__init__(aws, lambda_capture, region=region)
        self._aws = aws
        # The tokens STS takes now: the pod's current one (and, during a rotation, the one
        # before it, still unexpired, as a projected token is).
        self.accepted_tokens: set[str] = set()
        # (status, code, message) STS answers a token it refuses with.
        self.refusal = (400, "InvalidIdentityToken", "Incorrect token audience")

    def web_identity_calls(self):
        return [c for c in self.calls() if self.parameters(c).get("Action") == ACTION]

    def _record(self, method, target, headers, body):
        record, canned = super()._record(method, target, headers, body)
        if (
            canned is None
            and dict(parse_qsl(body.decode(errors="replace"))).get("Action") == ACTION
        ):
            token = dict(parse_qsl(body.decode())).get("WebIdentityToken")
            if token not in self.accepted_tokens:
                status, code, message = self.refusal
                canned = sts_error(status, code, message)
        return record, canned

    def _forward(self, method, target, headers, body) -> CannedResponse:
        if dict(parse_qsl(body.decode(errors="replace"))).get("Action") != ACTION:
            return super()._forward(method, target, headers, body)
        host = next(value for name, value in headers if name.lower() == "host")
        user = self._aws.user_credentials
        signed = AWSRequest(
            method=method,
            url=f"http://{host}{target}",
            data=body,
            headers={
                name: value
                for name, value in headers
                if name.lower() in ("content-type", "accept", "host")
            },
        )
        SigV4Auth(
            Credentials(user.access_key_id, user.secret_access_key), "sts", self.region
        ).add_auth(signed)
        answer = super()._forward(method, target, list(signed.headers.items()), body)
        if answer.status == 200:
            # The role's keys may sign the next call here (role chaining: AssumeRole with
            # them), which this hop verifies as it verifies every signed call.
            self.accept_credentials(self.assumed[-1].credentials)
        return answer
