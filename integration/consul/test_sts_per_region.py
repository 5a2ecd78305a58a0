"""Upstreams that assume roles through STS in two regions, in one generated Consul sidecar:
each upstream's AssumeRole call reaches its own region's STS, signed for that region. The
generator names each STS cluster by its host (`mesh-lambda.<sts host>`) and writes that name
into the upstream's filter configuration; with one cluster for every region (the filter's
default name, `sts`), the second region's call would go to the first region's STS and fail.

Each generated STS cluster is pointed at an STS hop standing for its host (plain HTTP: the hop
checks the signature with botocore for `sts` in its region, then moto checks it again)."""

from harness import client
from harness.capture import CaptureHop
from harness.certificates import CertificateAuthority, serving_tls
from harness.consul import Mesh, caller_bootstrap, generate, read_entries
from harness.descriptions import description, lambda_upstream
from harness.processes import free_port
from harness.sts import StsHop, role_arn

REGIONS = ("us-east-1", "eu-west-2")


def address_of(cluster: dict) -> str:
    [locality] = cluster["load_assignment"]["endpoints"]
    [endpoint] = locality["lb_endpoints"]
    return endpoint["endpoint"]["address"]["socket_address"]["address"]


def test_each_upstream_reaches_its_own_regions_sts(aws, cli, wasm_path, start_bootstrap, tmp_path):
    lambda_ca = CertificateAuthority(tmp_path / "lambda-ca", "test Lambda CA")
    capture = CaptureHop(
        aws.port, aws.credentials_by_access_key(), region=aws.region, tls=serving_tls(lambda_ca)
    ).start()
    hops = {region: StsHop(aws, capture, region).start() for region in REGIONS}
    try:
        ports = {region: free_port() for region in REGIONS}
        upstreams = [
            lambda_upstream(
                aws.function_arn,
                capture.authority,
                environment_credentials=False,
                plugin={
                    "payload_passthrough": True,
                    "credentials": {
                        "provider": "environment",
                        "assume_role": {"role_arn": role_arn(aws), "sts_region": region},
                    },
                },
                name=f"reports-{region}",
                local_bind_port=ports[region],
            )
            for region in REGIONS
        ]
        wanted = description({"wasm_file": str(wasm_path)}, lambda_ca.certificate, upstreams)
        entries = read_entries(generate(cli, wanted, tmp_path / "generator"))
        mesh = Mesh.create(tmp_path / "mesh", ["api", "billing"])
        bootstrap = caller_bootstrap(entries, mesh, "api", "billing", free_port(), free_port())
        clusters = bootstrap["static_resources"]["clusters"]
        sts_names = {}
        for index, cluster in enumerate(clusters):
            host = address_of(cluster)
            if host.startswith("sts."):
                region = host.split(".")[1]
                sts_names[region] = cluster["name"]
                clusters[index] = hops[region].cluster(cluster["name"])
        start_bootstrap("api-sidecar", bootstrap, environment=aws.user_credentials.as_environment())

        for region in REGIONS:
            answer = client.call(f"http://127.0.0.1:{ports[region]}", "POST", "/", body=b"{}")
            assert answer.status == 200, f"{region}: {answer}"

        for region, hop in hops.items():
            calls = hop.calls()
            assert len(calls) == 1, f"{region}'s STS got {len(calls)} calls: {hop.describe()}"
            [call] = calls
            assert call.verdict.ok, call.describe()
            assert call.header("host") == f"sts.{region}.amazonaws.com"
            assert f"/{region}/sts/aws4_request," in call.header("authorization")
            assert call.answer.status == 200, call.describe()
        assert sts_names == {r: f"mesh-lambda.sts.{r}.amazonaws.com" for r in REGIONS}
        invokes = capture.requests
        assert len(invokes) == len(REGIONS)
        assumed = {a.credentials.access_key_id for hop in hops.values() for a in hop.assumed}
        for invoke in invokes:
            assert invoke.verdict.ok, invoke.describe()
            assert invoke.access_key_id in assumed
    finally:
        capture.stop()
        for hop in hops.values():
            hop.stop()
