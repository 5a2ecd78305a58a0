"""Writes the release's SBOM: a CycloneDX 1.6 JSON document of the crates in the filter (the
wasm32-wasip1 dependency graph of the `mesh-lambda` package) and in the command
(`mesh-lambda-cli`, built for Linux x86_64 and aarch64), from `cargo metadata` and Cargo.lock,
validated against CycloneDX's JSON schema before it is written.

Each crate is one component: name, version, purl (pkg:cargo/NAME@VERSION; crates.io is the
purl type's default repository), its licence expression as Cargo.toml gives it, and for
crates.io crates the sha256 Cargo.lock records for the .crate file. A crate compiled into a
binary has scope `required`; one only run at build time (a build script's dependency, a proc
macro and what only it uses) has scope `excluded`, which CycloneDX defines as "not used in the
built artifact". The dependency graph is the resolve's (normal and build edges; no dev ones).

Deterministic: the serial number derives from the revision, the timestamp is
SOURCE_DATE_EPOCH, and the order is sorted.

Usage: sbom.py --revision SHA --wasm dist/plugin.wasm --out sbom.cdx.json
"""

import argparse
import hashlib
import json
import os
import subprocess
import sys
import tomllib
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from cyclonedx.model import ExternalReference, ExternalReferenceType, HashAlgorithm, HashType, XsUri
from cyclonedx.model.bom import Bom
from cyclonedx.model.component import Component, ComponentScope, ComponentType
from cyclonedx.model.license import LicenseExpression
from cyclonedx.output.json import JsonV1Dot6
from cyclonedx.schema import SchemaVersion
from cyclonedx.validation.json import JsonStrictValidator
from packageurl import PackageURL

ROOT = Path(__file__).resolve().parent.parent
MODULE = ("mesh-lambda", ["wasm32-wasip1"])
COMMAND = ("mesh-lambda-cli", ["x86_64-unknown-linux-gnu", "aarch64-unknown-linux-gnu"])
CRATES_IO = "registry+https://github.com/rust-lang/crates.io-index"


class SbomError(Exception):
    """A crate the SBOM cannot describe honestly (no licence, an unknown source)."""


@dataclass
class Graph:
    """One root's resolve: the packages by id, their normal and build edges, and which of them
    are linked into the root's binary."""

    packages: dict[str, dict]
    edges: dict[str, set[str]] = field(default_factory=dict)
    linked: set[str] = field(default_factory=set)


def cargo_metadata(platforms: list[str]) -> dict:
    command = ["cargo", "metadata", "--format-version", "1", "--locked"]
    for platform in platforms:
        command += ["--filter-platform", platform]
    return json.loads(subprocess.run(command, cwd=ROOT, check=True, capture_output=True).stdout)


def graph_of(metadata: dict, root_name: str) -> Graph:
    packages = {p["id"]: p for p in metadata["packages"]}
    nodes = {n["id"]: n for n in metadata["resolve"]["nodes"]}
    roots = [i for i, p in packages.items() if p["name"] == root_name and p["source"] is None]
    if len(roots) != 1:
        raise SbomError(f"the workspace has no single package named {root_name}")
    graph = Graph(packages)

    def is_proc_macro(package_id: str) -> bool:
        return any("proc-macro" in t["kind"] for t in packages[package_id]["targets"])

    # Linked: reached from the root through normal edges without passing a proc macro.
    pending = [roots[0]]
    while pending:
        current = pending.pop()
        if current in graph.linked:
            continue
        graph.linked.add(current)
        for dep in nodes[current]["deps"]:
            kinds = {k["kind"] for k in dep["dep_kinds"]}
            if None in kinds and not is_proc_macro(dep["pkg"]):
                pending.append(dep["pkg"])
    # Everything the build needs: normal and build edges from the root, transitively.
    pending = [roots[0]]
    while pending:
        current = pending.pop()
        if current in graph.edges:
            continue
        graph.edges[current] = {
            dep["pkg"]
            for dep in nodes[current]["deps"]
            if {k["kind"] for k in dep["dep_kinds"]} & {None, "build"}
        }
        pending.extend(graph.edges[current])
    return graph


def lock_checksums() -> dict[tuple[str, str], str]:
    lock = tomllib.loads((ROOT / "Cargo.lock").read_text())
    return {
        (p["name"], p["version"]): p["checksum"] for p in lock.get("package", []) if "checksum" in p
    }


def licence_of(package: dict) -> str:
    text = package.get("license")
    if not text:
        raise SbomError(
            f"{package['name']} {package['version']} has no SPDX licence expression in its "
            "Cargo.toml (cargo deny's licences check should have refused it)"
        )
    # Cargo's older "A/B" form means either; SPDX spells it "A OR B".
    return " OR ".join(part.strip() for part in text.split("/"))


def component_of(package: dict, scope: ComponentScope, checksums, repository, revision):
    name, version, source = package["name"], package["version"], package["source"]
    if source is None:
        # Ours, unpublished: the purl says where the source is.
        purl = PackageURL(
            "cargo",
            name=name,
            version=version,
            qualifiers={"vcs_url": f"git+{repository}@{revision}"},
        )
    elif source == CRATES_IO:
        purl = PackageURL("cargo", name=name, version=version)
    else:
        raise SbomError(f"{name} {version} comes from {source}, not crates.io (see deny.toml)")
    hashes = []
    if (name, version) in checksums:
        hashes.append(HashType(alg=HashAlgorithm.SHA_256, content=checksums[(name, version)]))
    return Component(
        type=ComponentType.LIBRARY,
        name=name,
        version=version,
        purl=purl,
        bom_ref=str(purl),
        scope=scope,
        licenses=[LicenseExpression(licence_of(package))],
        hashes=hashes,
        description=package.get("description") or None,
    )


def build_bom(revision: str, wasm: bytes, created: datetime) -> Bom:
    checksums = lock_checksums()
    graphs = {
        name: graph_of(cargo_metadata(platforms), name) for name, platforms in (MODULE, COMMAND)
    }
    root_package = next(p for p in graphs[MODULE[0]].packages.values() if p["name"] == MODULE[0])
    repository = root_package["repository"]
    version = root_package["version"]

    bom = Bom(serial_number=uuid.uuid5(uuid.NAMESPACE_URL, f"{repository}@{revision}"))
    bom.metadata.timestamp = created
    release = Component(
        type=ComponentType.APPLICATION,
        name="mesh-lambda",
        version=version,
        bom_ref="release",
        licenses=[LicenseExpression(licence_of(root_package))],
        external_references=[
            ExternalReference(type=ExternalReferenceType.VCS, url=XsUri(repository))
        ],
    )
    bom.metadata.component = release

    components: dict[str, Component] = {}
    # A crate in both graphs is required if either binary links it.
    linked = {i for graph in graphs.values() for i in graph.linked}
    everything = {i: g.packages[i] for g in graphs.values() for i in g.edges}

    def own(name: str) -> Component:
        return components[
            next(i for i, p in everything.items() if p["name"] == name and not p["source"])
        ]

    for package_id, package in sorted(everything.items()):
        scope = ComponentScope.REQUIRED if package_id in linked else ComponentScope.EXCLUDED
        components[package_id] = component_of(package, scope, checksums, repository, revision)
    module = own(MODULE[0])
    module.type = ComponentType.APPLICATION
    # The module as shipped (plugin.wasm, after wasm-opt): its sha256 is the release's.
    module.hashes.add(HashType(alg=HashAlgorithm.SHA_256, content=hashlib.sha256(wasm).hexdigest()))
    command = own(COMMAND[0])
    command.type = ComponentType.APPLICATION

    for component in components.values():
        bom.components.add(component)
    bom.register_dependency(release, [module, command])
    edges: dict[str, set[str]] = {}
    for graph in graphs.values():
        for package_id, deps in graph.edges.items():
            edges.setdefault(package_id, set()).update(deps)
    for package_id, deps in sorted(edges.items()):
        bom.register_dependency(components[package_id], [components[d] for d in sorted(deps)])
    return bom


def validated_json(bom: Bom) -> str:
    text = JsonV1Dot6(bom).output_as_string(indent=2)
    errors = JsonStrictValidator(SchemaVersion.V1_6).validate_str(text)
    if errors:
        raise SbomError(f"the SBOM does not validate against CycloneDX 1.6: {errors}")
    return text + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--revision", required=True)
    parser.add_argument("--wasm", required=True, type=Path)
    parser.add_argument("--out", required=True, type=Path)
    args = parser.parse_args()
    epoch = int(os.environ.get("SOURCE_DATE_EPOCH", "0"))
    try:
        text = validated_json(
            build_bom(args.revision, args.wasm.read_bytes(), datetime.fromtimestamp(epoch, UTC))
        )
    except SbomError as error:
        print(f"sbom: {error}", file=sys.stderr)
        return 1
    args.out.write_text(text)
    print(f"{args.out} {len(json.loads(text)['components'])} components")
    return 0


if __name__ == "__main__":
    sys.exit(main())
