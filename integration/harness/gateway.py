"""The Lambda gateway the tests run: the shipped `envoy/gateway.yaml` (clusters pointed at the
test's servers, as envoy/local.yaml is by harness/envoy.py) or the bootstrap `mesh-lambda
gateway generate` writes, and the second function, `billing` in us-west-2, it fronts."""

import copy
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import botocore.exceptions
import botocore.session
import yaml
from botocore.config import Config

from . import client
from .app import RecordingApp
from .aws import ROLE_NAME, _function_zip
from .capture import CaptureHop
from .consul import hcl_string
from .envoy import FILTER_NAME
from .expectations import invoke_path, the_signed_request
from .processes import free_port

WEST = "us-west-2"
ROUTE_HEADER = "x-mesh-lambda-route"
# A caller's certificate details, as a Consul sidecar's public listener sets them.
XFCC = "By=spiffe://example.consul/ns/default/dc/dc1/svc/lambda-gateway;URI=spiffe://example.consul/ns/default/dc/dc1/svc/api"


def create_function(aws, name: str, region: str) -> str:
    """Function `name` (the echo function's code) in `region`, once per moto session: its ARN."""
    creds = aws.user_credentials
    lambda_client = botocore.session.Session().create_client(
        "lambda",
        region_name=region,
        endpoint_url=aws.endpoint,
        aws_access_key_id=creds.access_key_id,
        aws_secret_access_key=creds.secret_access_key,
        config=Config(retries={"total_max_attempts": 1}),
    )
    try:
        return lambda_client.create_function(
            FunctionName=name,
            Runtime="python3.12",
            Role=f"arn:aws:iam::{aws.account_id}:role/{ROLE_NAME}",
            Handler="lambda_function.handler",
            Code={"ZipFile": _function_zip()},
        )["FunctionArn"]
    except botocore.exceptions.ClientError as error:
        if error.response["Error"]["Code"] != "ResourceConflictException":
            raise
    return f"arn:aws:lambda:{region}:{aws.account_id}:function:{name}"


def _plugin(config: dict) -> dict:
    [listener] = config["static_resources"]["listeners"]
    manager = listener["filter_chains"][0]["filters"][0]["typed_config"]
    [plugin] = [f for f in manager["http_filters"] if f["name"] == FILTER_NAME]
    return plugin["typed_config"]["config"]


def runnable(
    config: dict,
    wasm_path: Path,
    endpoints: dict[str, int] | None = None,
    keep_listener_port: bool = False,
) -> dict:
    """`config` with ports the kernel picks (the listener's kept with `keep_listener_port`),
    this build's .wasm, and each cluster named in `endpoints` pointed at 127.0.0.1:<port>
    (everything else as written)."""
    config = copy.deepcopy(config)
    config["admin"]["address"]["socket_address"]["port_value"] = 0
    [listener] = config["static_resources"]["listeners"]
    if not keep_listener_port:
        listener["address"]["socket_address"]["port_value"] = 0
    _plugin(config)["vm_config"]["code"] = {"local": {"filename": str(Path(wasm_path).resolve())}}
    for cluster in config["static_resources"]["clusters"]:
        port = (endpoints or {}).get(cluster["name"])
        if port is None:
            continue
        [locality] = cluster["load_assignment"]["endpoints"]
        [endpoint] = locality["lb_endpoints"]
        address = endpoint["endpoint"]["address"]["socket_address"]
        address["address"], address["port_value"] = "127.0.0.1", port
    return config


def gateway_description(wasm_path, ca, east: tuple, west: tuple, plain_port: int) -> dict:
    """Two functions, each signed for its ARN's region and sent (host_rewrite) to its own hop,
    which serves TLS as Lambda does; the gateway's credentials from its environment."""

    def function(name, arn, host, bind_port):
        return {
            "name": name,
            "local_bind_port": bind_port,
            "filter": {
                "arn": arn,
                "host_rewrite": host,
                "payload_passthrough": True,
                "credentials": {"provider": "environment"},
            },
        }

    return {
        "service": "lambda-gateway",
        "wasm_file": str(wasm_path),
        "ca_bundle": str(ca.certificate),
        "gateway": {
            "port": free_port(),
            "admin_port": free_port(),
            "callers": ["api"],
            "plain_routes": [{"name": "status", "path_prefix": "/status/", "port": plain_port}],
        },
        "upstreams": [function("authentication", *east, 2345), function("billing", *west, 2346)],
    }


def plain(value):
    """python-hcl2's reading as HCL means it: strings unquoted, its own markers dropped, a
    block (a one-item list) as its object."""
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items() if not k.startswith("__")}
    if isinstance(value, list):
        return [plain(v) for v in value]
    if isinstance(value, str):
        return hcl_string(value)
    return value


def load(path: Path) -> dict:
    return yaml.safe_load(path.read_text())


@dataclass
class Functions:
    """The two functions, each behind its own capture hop, and the plain upstream."""

    east_arn: str
    west_arn: str
    east: CaptureHop
    west: CaptureHop
    plain: RecordingApp


def exercise(url: str, f: Functions, east_host: str, west_host: str) -> None:
    """Each function by its prefix, verified at its own hop (region, host, path, body, the
    botocore check); the plain route untouched, the sidecar's x-forwarded-client-cert kept;
    a path no route names refused; and a caller forging a signed call's path and route key is
    signed all the same (nothing reaches Lambda unsigned)."""
    east = client.call(url, "POST", "/authentication/login", body=b'{"to": "east"}')
    west = client.call(url, "POST", "/billing/pay", body=b'{"to": "west"}')
    assert east.status == 200, str(east)
    assert east.body == b'{"to": "east"}'  # the function echoes its payload
    assert west.status == 200, str(west)
    for hop, arn, region, host, body in [
        (f.east, f.east_arn, "us-east-1", east_host, b'{"to": "east"}'),
        (f.west, f.west_arn, WEST, west_host, b'{"to": "west"}'),
    ]:
        invoked = the_signed_request(hop)
        assert invoked.verdict.ok, invoked.describe()
        assert invoked.target == invoke_path(arn)
        assert invoked.header("host") == host
        assert f"/{region}/lambda/aws4_request" in invoked.header("authorization")
        assert invoked.header(ROUTE_HEADER) is None
        assert invoked.header("x-forwarded-client-cert") is None
        assert invoked.body == body

    headers = [("content-type", "text/plain"), ("x-forwarded-client-cert", XFCC)]
    untouched = client.call(url, "PUT", "/status/x?y=1", headers=headers, body=b"as it is")
    assert untouched.status == 200, str(untouched)
    (received,) = f.plain.requests
    assert (received.method, received.target, received.body) == (
        "PUT",
        "/status/x?y=1",
        b"as it is",
    )
    # ALWAYS_FORWARD_ONLY: the header the sidecar sets reaches past the gateway's connection
    # manager on this plaintext hop (every other value would have removed it).
    assert received.header("x-forwarded-client-cert") == XFCC
    assert received.header("authorization") is None

    nowhere = client.call(url, "POST", "/reports/", body=b"{}")
    assert nowhere.status == 404, str(nowhere)

    forged = client.call(
        url, "POST", invoke_path(f.west_arn), headers=[(ROUTE_HEADER, FILTER_NAME)], body=b"{}"
    )
    assert forged.status == 200, str(forged)
    assert len(f.west.requests) == 2, f.west.describe()
    assert f.west.requests[1].verdict.ok, f.west.requests[1].describe()
    assert len(f.east.requests) == 1, f.east.describe()


def lambda_routes(
    function: str, arn: str, region: str, cluster: str, prefix: str, signed_named: bool = True
) -> list:
    """The caller's route (by `prefix`) and the signed call's (its Invoke path and the route
    key the filter adds), both naming `function` in the filter's metadata: a caller who sends
    the signed call's path and key itself is still that function's, and signed. With
    `signed_named` false the signed call's route names no function (a misconfiguration)."""
    metadata = {"filter_metadata": {FILTER_NAME: {"function": function}}}
    route = {
        "cluster": cluster,
        "host_rewrite_literal": f"lambda.{region}.amazonaws.com",
        "timeout": "30s",
    }
    signed_path = "/2015-03-31/functions/" + quote(arn.rsplit(":function:", 1)[0], safe="") + "%3A"
    return [
        {
            "match": {
                "prefix": signed_path,
                "headers": [{"name": ROUTE_HEADER, "string_match": {"exact": FILTER_NAME}}],
            },
            "request_headers_to_remove": [ROUTE_HEADER],
            **({"metadata": metadata} if signed_named else {}),
            "route": route,
        },
        {"match": {"prefix": prefix}, "metadata": metadata, "route": route},
    ]
