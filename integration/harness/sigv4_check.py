"""An independent SigV4 check of a request exactly as it arrived, done with botocore.

moto recomputes signatures too, but it skips the payload hash, the clock and the scope date
and compares the query string as sent; this check covers those and explains what is wrong.
"""

import hashlib
import hmac
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import unquote

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from .aws import AwsCredentials

ALGORITHM = "AWS4-HMAC-SHA256"
AMZ_DATE_FORMAT = "%Y%m%dT%H%M%SZ"
MAX_CLOCK_SKEW = timedelta(minutes=5)
_SIGNATURE_HEX = re.compile(r"[0-9a-f]{64}")


@dataclass(frozen=True)
class SignatureVerdict:
    ok: bool
    reason: str
    canonical_request: str | None = None
    string_to_sign: str | None = None
    signed_headers: tuple[str, ...] = ()

    def __str__(self) -> str:
        text = "signature OK" if self.ok else f"signature REJECTED: {self.reason}"
        if self.canonical_request is not None:
            text += f"\n--- canonical request ---\n{self.canonical_request}"
            text += f"\n--- string to sign ---\n{self.string_to_sign}"
        return text


def _reject(reason: str, **details) -> SignatureVerdict:
    return SignatureVerdict(ok=False, reason=reason, **details)


@dataclass(frozen=True)
class _Authorization:
    access_key_id: str
    scope_date: str
    region: str
    service: str
    signed_headers: list[str]
    signature: str


def _parse_authorization(value: str) -> _Authorization | str:
    """The parsed header, or a string saying why it cannot be parsed."""
    algorithm, _, rest = value.partition(" ")
    if algorithm != ALGORITHM:
        return f"algorithm is {algorithm!r}, expected {ALGORITHM}"
    parts = {}
    for component in rest.split(","):
        name, sep, component_value = component.strip().partition("=")
        if not sep or name in parts:
            return f"malformed Authorization component {component.strip()!r}"
        parts[name] = component_value
    if set(parts) != {"Credential", "SignedHeaders", "Signature"}:
        return f"Authorization has components {sorted(parts)}"
    scope = parts["Credential"].split("/")
    if len(scope) != 5 or scope[4] != "aws4_request":
        return f"malformed credential scope {parts['Credential']!r}"
    if not _SIGNATURE_HEX.fullmatch(parts["Signature"]):
        return f"signature {parts['Signature']!r} is not 64 lower-case hex digits"
    return _Authorization(
        access_key_id=scope[0],
        scope_date=scope[1],
        region=scope[2],
        service=scope[3],
        signed_headers=parts["SignedHeaders"].split(";"),
        signature=parts["Signature"],
    )


def _split_target(target: str) -> tuple[str, list[tuple[str, str]]]:
    """Raw path (as on the wire) and the decoded query parameters."""
    path, _, query = target.partition("?")
    params = []
    for pair in query.split("&") if query else []:
        name, _, value = pair.partition("=")
        params.append((unquote(name), unquote(value)))
    return path, params


def verify_sigv4(
    method: str,
    target: str,
    headers: Sequence[tuple[str, str]],
    body: bytes,
    credentials_by_access_key: Mapping[str, AwsCredentials],
    *,
    service: str = "lambda",
    region: str | None = None,
    now: datetime | None = None,
) -> SignatureVerdict:
    """Check the request's SigV4 `Authorization` header against the known secrets."""
    values: dict[str, list[str]] = {}
    for name, value in headers:
        values.setdefault(name.lower(), []).append(value)

    authorization_values = values.get("authorization", [])
    if len(authorization_values) != 1:
        return _reject(f"{len(authorization_values)} Authorization headers, expected 1")
    auth = _parse_authorization(authorization_values[0])
    if isinstance(auth, str):
        return _reject(auth)
    if auth.service != service:
        return _reject(f"scope service is {auth.service!r}, expected {service!r}")
    if region is not None and auth.region != region:
        return _reject(f"scope region is {auth.region!r}, expected {region!r}")

    amz_dates = values.get("x-amz-date", [])
    if len(amz_dates) != 1:
        return _reject(f"{len(amz_dates)} X-Amz-Date headers, expected 1")
    amz_date = amz_dates[0]
    try:
        signed_at = datetime.strptime(amz_date, AMZ_DATE_FORMAT).replace(tzinfo=UTC)
    except ValueError:
        return _reject(f"X-Amz-Date {amz_date!r} is not {AMZ_DATE_FORMAT}")
    if auth.scope_date != amz_date[:8]:
        return _reject(f"scope date {auth.scope_date} differs from X-Amz-Date {amz_date}")
    skew = abs((now or datetime.now(UTC)) - signed_at)
    if skew > MAX_CLOCK_SKEW:
        return _reject(f"X-Amz-Date {amz_date} is {skew} away from now")

    signed = auth.signed_headers
    if signed != sorted(set(signed)) or any(name != name.lower() for name in signed):
        return _reject(f"SignedHeaders {';'.join(signed)} not lower-case, sorted and unique")
    for required in ("host", "x-amz-date"):
        if required not in signed:
            return _reject(f"SignedHeaders {';'.join(signed)} lacks {required}")
    missing = [name for name in signed if name not in values]
    if missing:
        return _reject(f"signed headers absent from the request: {missing}")

    credentials = credentials_by_access_key.get(auth.access_key_id)
    if credentials is None:
        return _reject(f"unknown access key id {auth.access_key_id!r}")
    tokens = values.get("x-amz-security-token", [])
    if credentials.session_token is None and tokens:
        return _reject("X-Amz-Security-Token sent with long-term credentials")
    if credentials.session_token is not None and tokens != [credentials.session_token]:
        return _reject("X-Amz-Security-Token missing, repeated or not the session's token")

    body_hashes = values.get("x-amz-content-sha256", [])
    if body_hashes and body_hashes != [hashlib.sha256(body).hexdigest()]:
        return _reject(f"X-Amz-Content-SHA256 {body_hashes} is not sha256 of the body")

    path, params = _split_target(target)
    if not path.startswith("/"):
        return _reject(f"request target {target!r} does not start with '/'")
    request = AWSRequest(method=method, url=f"http://{values['host'][0]}{path}", data=body)
    request.params = params
    for name in signed:
        for value in values[name]:
            request.headers[name] = value  # HTTPHeaders appends: repeated headers stay repeated
    request.context["timestamp"] = amz_date

    signer = SigV4Auth(
        Credentials(
            credentials.access_key_id, credentials.secret_access_key, credentials.session_token
        ),
        auth.service,
        auth.region,
    )
    botocore_choice = signer.signed_headers(signer.headers_to_sign(request))
    if botocore_choice != ";".join(signed):
        return _reject(f"SignedHeaders {';'.join(signed)}, botocore would sign {botocore_choice}")
    canonical_request = signer.canonical_request(request)
    string_to_sign = signer.string_to_sign(request, canonical_request)
    expected = signer.signature(string_to_sign, request)
    details = {
        "canonical_request": canonical_request,
        "string_to_sign": string_to_sign,
        "signed_headers": tuple(signed),
    }
    if not hmac.compare_digest(expected, auth.signature):
        return _reject(f"signature {auth.signature} differs from botocore's {expected}", **details)
    return SignatureVerdict(ok=True, reason="OK", **details)
