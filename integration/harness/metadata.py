"""Stand-ins for the credential endpoints a proxy really has: the ECS container credentials
endpoint and the EC2 instance metadata service (IMDSv2), as threaded HTTP servers on
127.0.0.1 that Envoy reaches through the shipped clusters (envoy/sidecar.yaml) re-pointed.

Both hand out session credentials minted by moto's STS (AssumeRole with the IAM user's key)
under an Expiration the test chooses. Each minted key is registered with the capture hop with
that Expiration, so a request signed with it later is refused there as AWS refuses it
(403 ExpiredTokenException). Every request is recorded; a stand-in can be switched down
(answering 500, refusing connections on a closed port, or hanging without an answer) and back.
"""

import copy
import json
import secrets
import socket
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import yaml

from .aws import ROLE_NAME, AwsCredentials, LambdaWorld, botocore_client
from .capture import CaptureHop, _read_chunked
from .paths import SIDECAR_ENVOY_CONFIG

CONTAINER_CLUSTER = "aws_container_credentials"  # the filter's default cluster names,
INSTANCE_METADATA_CLUSTER = "aws_instance_metadata"  # defined in envoy/sidecar.yaml
ECS_HOST = "169.254.170.2"
EKS_POD_IDENTITY_HOST = "169.254.170.23"
IMDS_HOST = "169.254.169.254"
IMDS_TOKEN_PATH = "/latest/api/token"
IMDS_ROLES_PATH = "/latest/meta-data/iam/security-credentials/"
IMDS_TTL_HEADER = "x-aws-ec2-metadata-token-ttl-seconds"
IMDS_TOKEN_HEADER = "x-aws-ec2-metadata-token"
IMDS_MAX_TOKEN_TTL = 21600
DOWN_MODES = ("error", "refuse", "hang")
HANG_LIMIT_SECONDS = 60.0


def _rfc3339(unix_seconds: float) -> str:
    return datetime.fromtimestamp(unix_seconds, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class MintedCredentials:
    credentials: AwsCredentials
    expires_at: int  # unix seconds, what the document announces as Expiration

    @property
    def expiration(self) -> str:
        return _rfc3339(self.expires_at)


class CredentialMint:
    """Session credentials from moto's STS, each registered with the capture hop."""

    def __init__(self, aws: LambdaWorld, capture: CaptureHop):
        self.role_arn = f"arn:aws:iam::{aws.account_id}:role/{ROLE_NAME}"
        self._sts = botocore_client(aws.endpoint, "sts", aws.user_credentials)
        self._capture = capture
        self._lock = threading.Lock()
        self.minted: list[MintedCredentials] = []

    def mint(self, lifetime_seconds: int) -> MintedCredentials:
        """AssumeRole; the Expiration announced is now + lifetime (whole seconds)."""
        with self._lock:
            assumed = self._sts.assume_role(
                RoleArn=self.role_arn,
                RoleSessionName=f"stand-in-{len(self.minted) + 1}",
            )["Credentials"]
            minted = MintedCredentials(
                AwsCredentials(
                    assumed["AccessKeyId"], assumed["SecretAccessKey"], assumed["SessionToken"]
                ),
                int(time.time()) + lifetime_seconds,
            )
            self._capture.accept_credentials(minted.credentials, minted.expires_at)
            self.minted.append(minted)
            return minted

    def by_access_key(self, access_key_id: str) -> MintedCredentials | None:
        with self._lock:
            return next(
                (m for m in self.minted if m.credentials.access_key_id == access_key_id), None
            )


def shipped_cluster(shipped_name: str, port: int, name: str | None = None) -> dict:
    """The cluster `shipped_name` of envoy/sidecar.yaml, pointed at 127.0.0.1:`port`."""
    clusters = yaml.safe_load(SIDECAR_ENVOY_CONFIG.read_text())["static_resources"]["clusters"]
    found = [c for c in clusters if c["name"] == shipped_name]
    assert len(found) == 1, f"envoy/sidecar.yaml: expected one cluster {shipped_name}"
    cluster = copy.deepcopy(found[0])
    cluster["name"] = cluster["load_assignment"]["cluster_name"] = name or shipped_name
    [locality] = cluster["load_assignment"]["endpoints"]
    [endpoint] = locality["lb_endpoints"]
    endpoint["endpoint"]["address"]["socket_address"] = {"address": "127.0.0.1", "port_value": port}
    return cluster


@dataclass
class MetadataRequest:
    method: str
    path: str
    headers: list[tuple[str, str]]
    at: float = field(default_factory=time.time)
    status: int | None = None  # None: not answered (down, hanging or refused)

    def header(self, name: str) -> str | None:
        found = [v for k, v in self.headers if k.lower() == name.lower()]
        assert len(found) <= 1, f"header {name} sent {len(found)} times: {found}"
        return found[0] if found else None

    def __str__(self) -> str:
        head = ", ".join(f"{k}: {v}" for k, v in self.headers)
        return f"{self.at:.3f} {self.method} {self.path} -> {self.status} [{head}]"


class _StandIn:
    """A threaded HTTP server on 127.0.0.1 that records requests and can go down."""

    cluster_name: str

    def __init__(self, mint: CredentialMint, lifetime_seconds: int):
        self.mint = mint
        self.lifetime_seconds = lifetime_seconds  # of the credentials it hands out
        self.port = 0
        self._lock = threading.Lock()
        self._requests: list[MetadataRequest] = []
        self._mode = "up"
        self._delays: list[float] = []
        self._released = threading.Event()
        self._released.set()
        self._connections: set[socket.socket] = set()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._document_rewrite: Callable[[dict], bytes] | None = None
        self.served: list[MintedCredentials] = []  # in document order

    # --- life cycle -------------------------------------------------------------------

    def start(self):
        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), self._handler_class())
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._released.set()
        self._close_listener()
        self._drop_connections()

    def _close_listener(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None

    def _drop_connections(self) -> None:
        with self._lock:
            connections = list(self._connections)
        for connection in connections:
            try:
                connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def cluster(self) -> dict:
        """The shipped Envoy cluster for this endpoint, pointed at this stand-in."""
        return shipped_cluster(self.cluster_name, self.port)

    # --- switches ---------------------------------------------------------------------

    def go_down(self, how: str) -> None:
        """`error`: 500 to everything; `refuse`: the port is closed (and open connections
        dropped); `hang`: requests are read, never answered."""
        assert how in DOWN_MODES, how
        with self._lock:
            self._mode = how
        if how == "hang":
            self._released.clear()
        if how == "refuse":
            self._close_listener()
            self._drop_connections()

    def come_back(self) -> None:
        with self._lock:
            was, self._mode = self._mode, "up"
        self._released.set()
        if was == "refuse":
            self.start()  # the same port again

    def delay_next_answers(self, seconds: float, count: int = 1) -> None:
        with self._lock:
            self._delays += [seconds] * count

    def rewrite_documents(self, rewrite: Callable[[dict], bytes] | None) -> None:
        """Serve rewrite(the good document) instead of the good document (None: stop)."""
        with self._lock:
            self._document_rewrite = rewrite

    # --- what it saw ------------------------------------------------------------------

    @property
    def requests(self) -> list[MetadataRequest]:
        with self._lock:
            return list(self._requests)

    def count(self, path: str | None = None, method: str | None = None) -> int:
        return sum(
            1
            for r in self.requests
            if (path is None or r.path == path) and (method is None or r.method == method)
        )

    def describe(self) -> str:
        seen = self.requests
        lines = [f"{type(self).__name__} on 127.0.0.1:{self.port} ({len(seen)} requests)"]
        lines += [str(r) for r in seen]
        return "\n".join(lines)

    # --- answering --------------------------------------------------------------------

    def _answer(self, request: MetadataRequest) -> tuple[int, list[tuple[str, str]], bytes]:
        raise NotImplementedError

    def _document(self, extra: dict) -> tuple[int, list[tuple[str, str]], bytes]:
        """A credential document with freshly minted credentials."""
        minted = self.mint.mint(self.lifetime_seconds)
        credentials = minted.credentials
        document = {
            **extra,
            "AccessKeyId": credentials.access_key_id,
            "SecretAccessKey": credentials.secret_access_key,
            "Token": credentials.session_token,
            "Expiration": minted.expiration,
        }
        with self._lock:
            rewrite = self._document_rewrite
            self.served.append(minted)
        body = rewrite(document) if rewrite else json.dumps(document).encode()
        return 200, [("Content-Type", "application/json")], body

    def _handler_class(self):
        stand_in = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def setup(self):
                super().setup()
                with stand_in._lock:
                    stand_in._connections.add(self.connection)

            def finish(self):
                with stand_in._lock:
                    stand_in._connections.discard(self.connection)
                super().finish()

            def _handle(self):
                if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
                    _read_chunked(self.rfile)
                else:
                    self.rfile.read(int(self.headers.get("Content-Length", 0) or 0))
                request = MetadataRequest(self.command, self.path, list(self.headers.items()))
                with stand_in._lock:
                    stand_in._requests.append(request)
                    mode = stand_in._mode
                    delay = stand_in._delays.pop(0) if stand_in._delays else 0.0
                if mode in ("hang", "refuse"):
                    if mode == "hang":
                        stand_in._released.wait(HANG_LIMIT_SECONDS)
                    self.close_connection = True  # no answer at all
                    return
                if mode == "error":
                    status, headers, body = 500, [("Content-Type", "text/plain")], b"down"
                else:
                    time.sleep(delay)
                    status, headers, body = stand_in._answer(request)
                request.status = status
                self.send_response_only(status)
                for name, value in headers:
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = _handle

            def log_message(self, format, *args):  # keep pytest's output clean
                pass

        return Handler


class ContainerCredentialsEndpoint(_StandIn):
    """The ECS task credentials endpoint (169.254.170.2), or with `authorization` set, one
    reached through AWS_CONTAINER_CREDENTIALS_FULL_URI with a token (EKS Pod Identity)."""

    cluster_name = CONTAINER_CLUSTER

    def __init__(
        self, mint: CredentialMint, lifetime_seconds: int = 900, authorization: str | None = None
    ):
        super().__init__(mint, lifetime_seconds)
        self.path = f"/v2/credentials/{uuid.uuid4()}"
        self.authorization = authorization

    def relative_uri_environment(self) -> dict[str, str]:
        return {"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI": self.path}

    def envoy_settings(self) -> dict:
        """start_envoy's `environment` and `clusters` for a proxy that reaches this stand-in
        by the relative URI."""
        return {"environment": self.relative_uri_environment(), "clusters": [self.cluster()]}

    def full_uri_environment(
        self, authority: str = EKS_POD_IDENTITY_HOST, token: str | None = None
    ) -> dict[str, str]:
        """FULL_URI with the stand-in's path and (default: the expected) token."""
        env = {"AWS_CONTAINER_CREDENTIALS_FULL_URI": f"http://{authority}{self.path}"}
        token = token or self.authorization
        if token is not None:
            env["AWS_CONTAINER_AUTHORIZATION_TOKEN"] = token
        return env

    def documents(self) -> list[MetadataRequest]:
        """The requests answered with a credential document."""
        return [r for r in self.requests if r.path == self.path and r.status == 200]

    def _answer(self, request):
        if request.method != "GET":
            return 405, [("Content-Type", "text/plain")], b"method not allowed"
        if self.authorization is not None and request.header("authorization") != self.authorization:
            return (
                401,
                [("Content-Type", "application/json")],
                json.dumps({"message": "invalid authorization token"}).encode(),
            )
        if request.path != self.path:
            return 404, [("Content-Type", "text/plain")], b"not found"
        return self._document({"RoleArn": self.mint.role_arn})


class InstanceMetadataService(_StandIn):
    """IMDSv2: a session token from PUT /latest/api/token (TTL header required) is needed by
    every GET; the role list and the role's credential document."""

    cluster_name = INSTANCE_METADATA_CLUSTER

    def __init__(self, mint: CredentialMint, lifetime_seconds: int = 900):
        super().__init__(mint, lifetime_seconds)
        self.role_name = ROLE_NAME
        self._tokens: dict[str, float] = {}  # token -> unix time it expires
        self.issued: list[tuple[str, int]] = []  # (token, ttl) in issue order

    @property
    def role_path(self) -> str:
        return IMDS_ROLES_PATH + self.role_name

    def forget_tokens(self) -> None:
        """Every token issued so far becomes invalid (as after an instance reboot)."""
        with self._lock:
            self._tokens.clear()

    def documents(self) -> list[MetadataRequest]:
        return [r for r in self.requests if r.path == self.role_path and r.status == 200]

    def _answer(self, request):
        text = [("Content-Type", "text/plain")]
        if request.path == IMDS_TOKEN_PATH:
            if request.method != "PUT":
                return 405, text, b""
            if request.header("x-forwarded-for") is not None:
                return 403, text, b""  # IMDSv2 refuses token requests that went via a proxy
            ttl = request.header(IMDS_TTL_HEADER)
            if ttl is None or not ttl.isdigit() or not 1 <= int(ttl) <= IMDS_MAX_TOKEN_TTL:
                return 400, text, b""
            token = secrets.token_urlsafe(40)
            with self._lock:
                self._tokens[token] = time.time() + int(ttl)
                self.issued.append((token, int(ttl)))
            return 200, text + [(IMDS_TTL_HEADER, ttl)], token.encode()
        if request.method not in ("GET", "HEAD"):
            return 405, text, b""
        token = request.header(IMDS_TOKEN_HEADER)
        with self._lock:
            valid = token is not None and self._tokens.get(token, 0) > time.time()
        if not valid:
            return 401, text, b""
        if request.path == IMDS_ROLES_PATH:
            return 200, text, self.role_name.encode()
        if request.path == self.role_path:
            return self._document(
                {"Code": "Success", "LastUpdated": _rfc3339(time.time()), "Type": "AWS-HMAC"}
            )
        return 404, text, b""
