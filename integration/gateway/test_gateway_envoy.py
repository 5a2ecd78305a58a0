"""The Lambda gateway through a real Envoy: the shipped envoy/gateway.yaml and the bootstrap
`mesh-lambda gateway generate` writes each front two functions in two regions (each request
verified at its own capture hop by the independent botocore check), pass a route that names no
function untouched with the caller's x-forwarded-client-cert kept, and sign a caller's forged
signed call rather than let it through unsigned."""

import json

from harness import client
from harness.app import RecordingApp
from harness.capture import CaptureHop
from harness.certificates import CertificateAuthority, serving_tls
from harness.consul import generate
from harness.expectations import the_signed_request
from harness.gateway import (
    WEST,
    Functions,
    create_function,
    exercise,
    gateway_description,
    load,
    runnable,
)
from harness.paths import GATEWAY_ENVOY_CONFIG


def test_the_shipped_gateway_fronts_two_functions(aws, capture, start_bootstrap, wasm_path):
    # The shipped ARNs are moto's default account's: the functions exist there by those names.
    assert aws.account_id == "123456789012"
    functions = Functions(
        east_arn=aws.function_arn,
        west_arn=create_function(aws, "billing", WEST),
        east=capture,
        west=CaptureHop(aws.port, aws.credentials_by_access_key(), region=WEST).start(),
        plain=RecordingApp(b"status", "text/plain").start(),
    )
    try:
        config = runnable(
            load(GATEWAY_ENVOY_CONFIG),
            wasm_path,
            {
                "mesh-lambda.lambda.us-east-1.amazonaws.com": capture.port,
                "mesh-lambda.lambda.us-west-2.amazonaws.com": functions.west.port,
                "status": functions.plain.port,
            },
        )
        gateway = start_bootstrap("gateway", config, aws.user_credentials.as_environment())
        exercise(
            gateway.url,
            functions,
            "lambda.us-east-1.amazonaws.com",
            "lambda.us-west-2.amazonaws.com",
        )
    finally:
        functions.west.stop()
        functions.plain.stop()


def test_the_generated_gateway_fronts_two_functions(aws, cli, start_bootstrap, wasm_path, tmp_path):
    lambda_ca = CertificateAuthority(tmp_path / "lambda-ca", "test Lambda CA")
    tls = serving_tls(lambda_ca)
    credentials = aws.credentials_by_access_key()
    functions = Functions(
        east_arn=aws.function_arn,
        west_arn=create_function(aws, "billing", WEST),
        east=CaptureHop(aws.port, credentials, region=aws.region, tls=tls).start(),
        west=CaptureHop(aws.port, credentials, region=WEST, tls=tls).start(),
        plain=RecordingApp(b"status", "text/plain").start(),
    )
    try:
        description = gateway_description(
            wasm_path,
            lambda_ca,
            (functions.east_arn, functions.east.authority),
            (functions.west_arn, functions.west.authority),
            functions.plain.port,
        )
        out = generate(cli, description, tmp_path / "generator", platform="gateway")
        # Run as generated: only the ports the kernel picks and this build's .wasm differ.
        config = runnable(load(out / "envoy" / "gateway.yaml"), wasm_path)
        gateway = start_bootstrap("gateway", config, aws.user_credentials.as_environment())
        exercise(gateway.url, functions, functions.east.authority, functions.west.authority)
        stats = gateway.stats()
        for hop in (functions.east, functions.west):
            cluster = f"cluster.mesh-lambda.localhost_{hop.port}"
            assert stats[f"{cluster}.ssl.handshake"] >= 1
    finally:
        functions.east.stop()
        functions.west.stop()
        functions.plain.stop()


def test_an_event_carries_the_callers_path_without_the_gateways_prefix(
    aws, capture, start_bootstrap, wasm_path
):
    """What docs/src/gateway.md says of the prefix: the filter reads the path before Envoy's
    router would rewrite it (so a `prefix_rewrite` on the route changes nothing the function
    sees); a function taking an event (here the native filter's, `payload_passthrough: false`)
    names the gateway's prefix in `strip_path_prefix` and sees the caller's path, as the
    caller sent it before its sidecar's service-router put the prefix in front."""
    config = runnable(
        load(GATEWAY_ENVOY_CONFIG),
        wasm_path,
        {"mesh-lambda.lambda.us-east-1.amazonaws.com": capture.port},
    )
    [listener] = config["static_resources"]["listeners"]
    manager = listener["filter_chains"][0]["filters"][0]["typed_config"]
    [plugin] = [f for f in manager["http_filters"] if f["name"] == "mesh-lambda"]
    value = plugin["typed_config"]["config"]["configuration"]
    functions = json.loads(value["value"])
    functions["functions"]["authentication"]["payload_passthrough"] = False
    functions["functions"]["authentication"]["strip_path_prefix"] = "/authentication"
    value["value"] = json.dumps(functions)
    gateway = start_bootstrap("gateway", config, aws.user_credentials.as_environment())

    client.call(gateway.url, "POST", "/authentication/login?next=1", body=b"{}")
    invoked = the_signed_request(capture)
    event = json.loads(invoked.body)
    assert event["raw_path"] == "/login?next=1", event
    assert event["query_string_parameters"] == {"next": "1"}, event
