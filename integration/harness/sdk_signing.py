"""Requests signed by botocore the way an AWS SDK signs them: known-good inputs for the
harness's own tests (the verifier, the capture hop, moto's auth)."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from unittest import mock
from urllib.parse import urlsplit

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from .aws import REGION, AwsCredentials

LAMBDA_HOST = f"lambda.{REGION}.amazonaws.com"


@dataclass(frozen=True)
class WireRequest:
    method: str
    target: str
    headers: list[tuple[str, str]]
    body: bytes

    def with_header(self, name: str, value: str) -> "WireRequest":
        """The same request with every `name` header replaced by one `value`."""
        kept = [(k, v) for k, v in self.headers if k.lower() != name.lower()]
        return WireRequest(self.method, self.target, kept + [(name, value)], self.body)

    def header(self, name: str) -> str:
        return next(v for k, v in self.headers if k.lower() == name.lower())


def sign(
    credentials: AwsCredentials,
    target: str,
    body: bytes = b"",
    *,
    method: str = "POST",
    host: str = LAMBDA_HOST,
    headers: Sequence[tuple[str, str]] = (),
    at: datetime | None = None,
    signer_class: type[SigV4Auth] = SigV4Auth,
    service: str = "lambda",
    region: str = REGION,
) -> WireRequest:
    """Sign `method host target` with botocore; returns what goes on the wire."""
    request = AWSRequest(method=method, url=f"https://{host}{target}", data=body)
    request.headers["Host"] = host
    for name, value in headers:
        request.headers[name] = value
    signer = signer_class(
        Credentials(
            credentials.access_key_id, credentials.secret_access_key, credentials.session_token
        ),
        service,
        region,
    )
    clock = at or datetime.now(UTC).replace(tzinfo=None)
    with mock.patch("botocore.auth.get_current_datetime", return_value=clock):
        signer.add_auth(request)
    split = urlsplit(request.url)
    wire_target = split.path + (f"?{split.query}" if split.query else "")
    return WireRequest(method, wire_target, list(request.headers.items()), body)
