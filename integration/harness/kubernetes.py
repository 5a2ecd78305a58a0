"""The generated Kubernetes files read back as `kubectl apply` reads them, and the proto
merge control planes apply to patches."""

from pathlib import Path

import yaml


def documents(path: Path) -> list[dict]:
    """Every YAML document of `path`; each must be a resource with apiVersion, kind, name."""
    found = [d for d in yaml.safe_load_all(path.read_text()) if d is not None]
    for d in found:
        assert {"apiVersion", "kind", "metadata", "spec"} <= set(d), f"{path}: {d}"
        assert d["metadata"]["name"], f"{path}: a resource without a name"
    return found


def by_kind(paths: list[Path]) -> dict[str, list[dict]]:
    kinds: dict[str, list[dict]] = {}
    for path in paths:
        for d in documents(path):
            kinds.setdefault(d["kind"], []).append(d)
    return kinds


def proto_merge(target: dict, patch: dict) -> None:
    """Merges `patch` into `target` as protobuf's MergeFrom does on their JSON forms: messages
    and maps merge, repeated fields append, scalars replace."""
    for key, value in patch.items():
        if isinstance(value, dict) and isinstance(target.get(key), dict):
            proto_merge(target[key], value)
        elif isinstance(value, list) and isinstance(target.get(key), list):
            target[key].extend(value)
        else:
            target[key] = value
