"""The gateway's per-function callers, Consul-shaped: the callers' sidecars (`api`, `web`)
reach the gateway's sidecar over mTLS; that sidecar enforces the intentions (allow `api`,
deny `web`) with the RBAC filter Consul generates and appends the caller's certificate to
x-forwarded-client-cert as Consul sets it; behind it, on 127.0.0.1, the gateway Envoy with the
filter in the `functions` form: `auth` (us-east-1) lists `api`, `billing` (us-west-2) lists
only `payroll`.

Sources read (cited where used):
- hashicorp/consul `agent/xds/listeners.go` `makeInboundListener`: an HTTP service's public
  listener gets the RBAC HTTP filter (`makeRBACHTTPFilter`) and, unless the mesh sanitizes or
  the protocol is grpc, `APPEND_FORWARD` with Subject, Cert, Chain, Dns and Uri
  (`harness.consul.CONSUL_XFCC`); `agent/xds/rbac.go` and its golden
  `testdata/rbac/default-deny-one-allow--httpfilter.golden` for the policy
  (`harness.consul.intentions_rbac`). Consul enforces intentions with the RBAC *network*
  filter only for TCP services, which get no x-forwarded-client-cert at all; a gateway whose
  functions learn their callers is an HTTP service, so its intentions are the HTTP filter's.
- Envoy's docs, HttpConnectionManager `forward_client_cert_details`: `ALWAYS_FORWARD_ONLY`
  "Always forward the XFCC header in the request, regardless of whether the client connection
  is mTLS" (the default, SANITIZE, would drop the sidecar's header on the plaintext hop to
  the gateway); `use_remote_address: true` keeps `source.address` the connection's peer (with
  `false` Envoy takes it from x-forwarded-for, which a caller writes).
"""

import http.client
import json
import re
import ssl

from harness import client
from harness.app import RecordingApp
from harness.aws import FUNCTION_NAME
from harness.bootstrap import static_cluster
from harness.capture import CaptureHop
from harness.consul import (
    Mesh,
    intentions_rbac,
    public_listener_bootstrap,
    spiffe_id,
    upstream_bootstrap,
)
from harness.envoy import render_config
from harness.expectations import (
    assert_local_reply,
    decoded_client_context,
    invoke_path,
    the_signed_request,
)
from harness.gateway import WEST, create_function, lambda_routes
from harness.metrics import moved, wait_for_metrics
from harness.processes import free_port

XFCC = "x-forwarded-client-cert"


def _gateway_config(
    wasm_path,
    aws,
    capture,
    *,
    west_arn: str,
    west_port: int,
    plain_port: int,
    use_remote_address: bool = True,
) -> dict:
    """The gateway Envoy: `auth` (us-east-1) lists `api`; `billing` (us-west-2) lists
    `payroll` and is tenant-isolated (the caller's service is the tenant); `/plain` names no
    function; the sidecar's header passed on (ALWAYS_FORWARD_ONLY), the peer the connection's
    (`use_remote_address`)."""
    configuration = json.dumps(
        {
            "functions": {
                "auth": {"arn": aws.function_arn, "payload_passthrough": True, "callers": ["api"]},
                "billing": {
                    "arn": west_arn,
                    "payload_passthrough": True,
                    "callers": ["payroll"],
                    "tenant_id": {"from": "caller_service"},
                },
            },
            "caller": {"from": "forwarded_client_cert"},
        }
    )
    config = render_config(
        wasm_path=wasm_path,
        plugin_configuration=configuration,
        lambda_port=capture.port,
        use_remote_address=use_remote_address,
    )
    resources = config["static_resources"]
    manager = resources["listeners"][0]["filter_chains"][0]["filters"][0]["typed_config"]
    manager["forward_client_cert_details"] = "ALWAYS_FORWARD_ONLY"
    east_cluster = resources["clusters"][0]["name"]
    resources["clusters"] += [
        static_cluster("lambda_west", west_port),
        static_cluster("plain", plain_port),
    ]
    manager["route_config"]["virtual_hosts"][0]["routes"] = [
        *lambda_routes("auth", aws.function_arn, aws.region, east_cluster, "/auth"),
        *lambda_routes("billing", west_arn, WEST, "lambda_west", "/billing"),
        {"match": {"prefix": "/plain"}, "route": {"cluster": "plain"}},
    ]
    return config


def _mtls_call(mesh: Mesh, service: str, port: int, path: str, headers: dict) -> client.Answer:
    """A request to the gateway's sidecar as `service` itself (its certificate, no sidecar of
    its own in between): what a workload holding its mesh certificate can send."""
    leaf = mesh.leaves[service]
    tls = ssl.create_default_context(cafile=str(mesh.ca.certificate))
    tls.check_hostname = False  # Consul checks the URI SAN, not a host name
    tls.load_cert_chain(leaf.certificate, leaf.key)
    connection = http.client.HTTPSConnection("127.0.0.1", port, context=tls, timeout=30)
    try:
        connection.request("POST", path, body=b'{"who": "direct"}', headers=headers)
        answer = connection.getresponse()
        return client.Answer(answer.status, answer.getheaders(), answer.read())
    finally:
        connection.close()


def test_only_listed_callers_reach_a_function_as_the_sidecar_vouches(
    aws, capture, start_bootstrap, wasm_path, tmp_path
):
    west_arn = create_function(aws, FUNCTION_NAME, WEST)
    west_hop = CaptureHop(aws.port, aws.credentials_by_access_key(), region=WEST).start()
    plain = RecordingApp(b"plain answer", "text/plain").start()
    try:
        mesh = Mesh.create(tmp_path / "mesh", ["api", "web", "payroll", "lambda-gateway"])
        gateway = start_bootstrap(
            "gateway",
            _gateway_config(
                wasm_path,
                aws,
                capture,
                west_arn=west_arn,
                west_port=west_hop.port,
                plain_port=plain.port,
            ),
            aws.user_credentials.as_environment(),
        )
        gateway_port = int(gateway.url.rsplit(":", 1)[1])
        sidecar_port = free_port()
        start_bootstrap(
            "gateway-sidecar",
            public_listener_bootstrap(
                mesh,
                "lambda-gateway",
                sidecar_port,
                gateway_port,
                intentions=intentions_rbac(["api", "payroll"]),
            ),
        )
        ports = {"api": free_port(), "web": free_port()}
        for caller, port in ports.items():
            start_bootstrap(
                f"{caller}-sidecar",
                upstream_bootstrap(mesh, caller, "lambda-gateway", port, sidecar_port),
            )
        api, web = (f"http://127.0.0.1:{ports[c]}" for c in ("api", "web"))

        # `api` reaches `auth`, which lists it: signed, and verified by the independent check.
        answer = client.call(api, "POST", "/auth", body=b'{"from": "api"}')
        assert answer.status == 200, str(answer)
        invoked = the_signed_request(capture)
        assert invoked.target == invoke_path(aws.function_arn)
        assert invoked.body == b'{"from": "api"}'
        # ... told who called, as the sidecar vouched for it, in the signed client context.
        assert decoded_client_context(invoked) == {
            "custom": {"mesh-caller-service": "api", "mesh-caller-spiffe-id": spiffe_id("api")}
        }
        assert "x-amz-client-context" in invoked.verdict.signed_headers, invoked.verdict
        assert invoked.header("x-amz-tenant-id") is None

        # `web` has no intention: the sidecar's RBAC answers 403, nothing reaches the gateway.
        answer = client.call(web, "POST", "/auth", body=b'{"from": "web"}')
        assert answer.status == 403, str(answer)
        assert b"RBAC" in answer.body, str(answer)

        # `api` calling `billing`, which lists only `payroll`: the filter's 403, counted.
        answer = client.call(api, "POST", "/billing", body=b'{"from": "api"}')
        document = assert_local_reply(answer, 403, "CallerNotAllowed")
        assert "payroll" not in document["message"] and "api" not in document["message"]

        # A forged header from the `api` app, naming `payroll`: its sidecar drops it (Envoy's
        # default SANITIZE on Consul's upstream listener); `api` is still refused.
        forged = f'URI={spiffe_id("payroll")};Subject="CN=payroll"'
        answer = client.call(
            api, "POST", "/billing", headers=[(XFCC, forged)], body=b'{"from": "api"}'
        )
        assert_local_reply(answer, 403, "CallerNotAllowed")

        # The same forgery sent by a workload holding `api`'s certificate straight to the
        # gateway's sidecar: APPEND_FORWARD keeps it, first; the sidecar's own element, last,
        # names `api`, and only the last counts.
        answer = _mtls_call(mesh, "api", sidecar_port, "/billing", {XFCC: forged})
        assert_local_reply(answer, 403, "CallerNotAllowed")
        # While `payroll` itself reaches `billing`, in the other region, signed for it.
        answer = _mtls_call(mesh, "payroll", sidecar_port, "/billing", {})
        assert answer.status == 200, str(answer)
        invoked = the_signed_request(west_hop)
        assert invoked.target == invoke_path(west_arn)
        assert f"/{WEST}/lambda/aws4_request" in invoked.header("authorization")
        # `billing` is tenant-isolated: the verified caller is its tenant, signed.
        assert invoked.header("x-amz-tenant-id") == "payroll"
        assert "x-amz-tenant-id" in invoked.verdict.signed_headers, invoked.verdict
        assert decoded_client_context(invoked)["custom"]["mesh-caller-spiffe-id"] == spiffe_id(
            "payroll"
        )

        # Straight to the gateway Envoy (no sidecar, so no certificate): no caller, refused.
        answer = client.call(gateway.url, "POST", "/auth", body=b'{"from": "nobody"}')
        assert_local_reply(answer, 403, "CallerNotAllowed")

        # A route naming no function passes through the same filter untouched.
        answer = client.call(
            api, "PUT", "/plain/x?y=1", headers=[("x-caller", "kept")], body=b"as it is"
        )
        assert (answer.status, answer.body) == (200, b"plain answer"), str(answer)
        (received,) = plain.requests
        seen = (received.method, received.target, received.body, received.header("x-caller"))
        assert seen == ("PUT", "/plain/x?y=1", b"as it is", "kept")
        assert received.header("authorization") is None

        # Nothing else reached Lambda, and every refusal was counted.
        assert len(capture.requests) == 1, capture.describe()
        assert len(west_hop.requests) == 1, west_hop.describe()
        stats = wait_for_metrics(gateway, {"caller_refused": 4})
        counters = moved(stats)
        counters.pop("credential_fetches.environment", None)  # each VM's read at start
        assert counters == {"caller_refused": 4, "invocations.synchronous": 2}, stats
        # Each refusal logged at info with its context id and the caller as vouched for.
        gateway.stop()
        refusals = [line for line in gateway.log_text().splitlines() if "CallerNotAllowed" in line]
        assert len(refusals) == 4, refusals
        not_listed = f"403 CallerNotAllowed: caller {spiffe_id('api')} is not on the function's"
        assert all(re.search(r"\[info\].*context \d+: 403 ", line) for line in refusals)
        assert sum(not_listed in line for line in refusals) == 3, refusals
        assert "caller is not known" in refusals[3], refusals
    finally:
        west_hop.stop()
        plain.stop()


def test_the_peer_decides_whether_the_header_is_trusted(aws, capture, start_bootstrap, wasm_path):
    """`source.address` through a real Envoy: with `use_remote_address: false` Envoy takes it
    from x-forwarded-for (its last address, xff_num_trusted_hops 0), so a header that claims
    another peer makes the sidecar's header untrusted (`untrusted: refuse`: 403), while with
    `use_remote_address: true`, as the gateway must run, the peer is the connection's (here
    loopback) whatever the caller writes. The test machine has loopback addresses alone, so
    this is how a peer other than the local sidecar is seen through Envoy."""
    vouched = f'By={spiffe_id("lambda-gateway")};Hash=ab;Subject="";URI={spiffe_id("api")}'
    headers = [(XFCC, vouched), ("x-forwarded-for", "192.0.2.7")]
    gateways = {
        remote: start_bootstrap(
            f"gateway-remote-{remote}",
            _gateway_config(
                wasm_path,
                aws,
                capture,
                west_arn=f"arn:aws:lambda:{WEST}:{aws.account_id}:function:unused",
                west_port=free_port(),
                plain_port=free_port(),
                use_remote_address=remote,
            ),
            aws.user_credentials.as_environment(),
        )
        for remote in (False, True)
    }
    answer = client.call(gateways[False].url, "POST", "/auth", headers=headers, body=b"{}")
    assert_local_reply(answer, 403, "CallerNotAllowed")
    assert capture.requests == [], capture.describe()
    answer = client.call(gateways[False].url, "POST", "/auth", headers=headers[:1], body=b"{}")
    assert answer.status == 200, str(answer)
    answer = client.call(gateways[True].url, "POST", "/auth", headers=headers, body=b"{}")
    assert answer.status == 200, str(answer)
    assert len(capture.requests) == 2, capture.describe()
    gateways[False].stop()
    refusals = [
        line for line in gateways[False].log_text().splitlines() if "CallerNotAllowed" in line
    ]
    assert len(refusals) == 1, refusals
    assert "from 192.0.2.7:0, which is not the local sidecar" in refusals[0], refusals
