"""The release's SBOM (scripts/sbom.py) on this repository: every crate of the filter's
wasm32-wasip1 graph and of the command's Linux graph, with purl and licence, build-time crates
told apart from linked ones, checked against CycloneDX 1.6's schema, the same bytes twice."""

import json
from datetime import UTC, datetime

import pytest

from .conftest import load_script

sbom = load_script("sbom")
CREATED = datetime(2026, 12, 7, tzinfo=UTC)
WASM = b"\0asm\1\0\0\0"


@pytest.fixture(scope="module")
def document() -> dict:
    return json.loads(sbom.validated_json(sbom.build_bom("abc123", WASM, CREATED)))


def by_name(document: dict, name: str) -> list[dict]:
    return [c for c in document["components"] if c["name"] == name]


def reached(document: dict, name: str) -> set[str]:
    """The bom-refs the component named `name` (ours) depends on, transitively."""
    edges = {d["ref"]: d.get("dependsOn", []) for d in document["dependencies"]}
    (start,) = (c["bom-ref"] for c in by_name(document, name))
    seen, pending = set(), [start]
    while pending:
        current = pending.pop()
        if current not in seen:
            seen.add(current)
            pending.extend(edges.get(current, []))
    return seen


def test_every_component_names_its_crate_version_purl_and_licence(document):
    assert len(document["components"]) > 50
    for component in document["components"]:
        name, version = component["name"], component["version"]
        purl = sbom.PackageURL.from_string(component["purl"])
        assert (purl.type, purl.name, purl.version) == ("cargo", name, version), component
        assert component["licenses"][0]["expression"], component
        assert component["scope"] in ("required", "excluded")
        if not component["purl"].startswith("pkg:cargo/mesh-lambda"):
            # crates.io's checksum of the .crate, from Cargo.lock.
            assert [h["alg"] for h in component["hashes"]] == ["SHA-256"], component


def test_the_module_is_its_wasm_graph_and_carries_the_shipped_sha256(document):
    (module,) = by_name(document, "mesh-lambda")
    assert module["type"] == "application"
    assert {h["content"] for h in module["hashes"]} == {sbom.hashlib.sha256(WASM).hexdigest()}
    module_graph = reached(document, "mesh-lambda")
    assert "pkg:cargo/aws-sigv4@" in " ".join(module_graph)
    # The command's HTTP client and TLS are not in the module.
    for crate in ("reqwest", "rustls"):
        assert not any(ref.startswith(f"pkg:cargo/{crate}@") for ref in module_graph), crate
        assert any(
            ref.startswith(f"pkg:cargo/{crate}@") for ref in reached(document, "mesh-lambda-cli")
        )
    assert by_name(document, "mesh-lambda-cli")[0]["type"] == "application"


def test_proc_macros_and_build_tools_are_excluded_from_the_artifact(document):
    for name in ("syn", "serde_derive", "cc"):
        assert {c["scope"] for c in by_name(document, name)} == {"excluded"}, name
    for name in ("serde", "aws-sigv4", "ring"):
        assert {c["scope"] for c in by_name(document, name)} == {"required"}, name


def test_the_same_inputs_give_the_same_bytes():
    first = sbom.validated_json(sbom.build_bom("abc123", WASM, CREATED))
    assert first == sbom.validated_json(sbom.build_bom("abc123", WASM, CREATED))
    assert json.loads(first)["metadata"]["timestamp"] == "2026-12-07T00:00:00+00:00"


def test_cargo_slash_licences_are_spdx_or():
    package = {"name": "x", "version": "1.0.0", "license": "MIT/Apache-2.0"}
    assert sbom.licence_of(package) == "MIT OR Apache-2.0"


def test_a_crate_without_a_licence_expression_is_refused():
    package = {"name": "x", "version": "1.0.0", "license": None, "license_file": "LICENSE"}
    with pytest.raises(sbom.SbomError, match=r"x 1\.0\.0 has no SPDX licence"):
        sbom.licence_of(package)


def test_a_crate_from_another_source_is_refused():
    package = {"name": "x", "version": "1.0.0", "license": "MIT", "source": "git+https://e/x"}
    with pytest.raises(sbom.SbomError, match="comes from git"):
        sbom.component_of(package, sbom.ComponentScope.REQUIRED, {}, "https://r", "abc")
