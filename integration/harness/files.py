"""Files laid out and rotated as Kubernetes does it, and the shipped `envoy/files.yaml`
that serves their current contents on a loopback listener.

Kubernetes' AtomicWriter (kubernetes/kubernetes pkg/volume/util/atomic_writer.go) writes a
projected volume as: the files in a new timestamped directory `..<timestamp>`, a symlink
`..data_tmp` to it renamed over `..data`, the user-visible names (`token`) symlinks into
`..data/`, and the old timestamped directory removed.
"""

import copy
import os
import shutil
from pathlib import Path

import yaml

from .paths import REPO_ROOT
from .processes import free_port

FILES_CONFIG = REPO_ROOT / "envoy" / "files.yaml"
FILES_SDS = REPO_ROOT / "envoy" / "files-sds"
LISTENER = "mesh-lambda-files"
CLUSTER = "mesh_lambda_files"
# The secrets (and routes, `/<name>`) of envoy/files.yaml.
WEB_IDENTITY_TOKEN = "web-identity-token"
POD_IDENTITY_TOKEN = "pod-identity-token"
AWS_CREDENTIALS = "aws-credentials"
FILE_HEADER = "x-mesh-lambda-file"


class KubernetesTokenDir:
    """`<dir>/..<stamp>/token`, `<dir>/..data -> ..<stamp>`, `<dir>/token -> ..data/token`;
    `name` instead of `token` for another file (a secret's key: `credentials`)."""

    def __init__(self, directory: Path, name: str = "token"):
        self.directory = directory
        self.name = name
        self._stamps = 0

    @property
    def token_path(self) -> Path:
        return self.directory / self.name

    def _new_stamp(self) -> str:
        self._stamps += 1
        return f"..2026_12_06_00_00_{self._stamps:02d}.000"

    def write(self, token: str | None) -> None:
        """Publish `token` (None: a timestamped directory without the file). The first call
        creates the directory and the file's symlink after `..data`, as Kubernetes does."""
        first = not self.directory.exists()
        self.directory.mkdir(parents=True, exist_ok=True)
        data = self.directory / "..data"
        old = os.readlink(data) if data.is_symlink() else None
        stamp = self._new_stamp()
        (self.directory / stamp).mkdir()
        if token is not None:
            (self.directory / stamp / self.name).write_text(token)
        temporary = self.directory / "..data_tmp"
        temporary.symlink_to(stamp)
        os.rename(temporary, data)  # atomic: the rename Envoy's watch sees
        if first or not self.token_path.is_symlink():
            self.token_path.symlink_to(f"..data/{self.name}")
        if old is not None:
            shutil.rmtree(self.directory / old)


def render_files_config(files: dict[str, Path], *, sds_dir: Path, admin_port: int = 0):
    """envoy/files.yaml serving `files` (secret name -> the path Envoy reads; the shipped
    names only), without the routes and injectors of the others, as a generator writes it; the
    listener on a port the kernel picks, the SDS files written into `sds_dir`. Returns the
    bootstrap."""
    sds_dir.mkdir(parents=True, exist_ok=True)
    for name, path in files.items():
        sds = yaml.safe_load((FILES_SDS / f"{name}.yaml").read_text())
        (resource,) = sds["resources"]
        resource["generic_secret"]["secret"]["filename"] = str(path)
        (sds_dir / f"{name}.yaml").write_text(yaml.safe_dump(sds, sort_keys=False))

    config = copy.deepcopy(yaml.safe_load(FILES_CONFIG.read_text()))
    config["admin"]["address"]["socket_address"]["port_value"] = admin_port
    (listener,) = config["static_resources"]["listeners"]
    listener["address"]["socket_address"]["port_value"] = 0
    manager = listener["filter_chains"][0]["filters"][0]["typed_config"]
    (host,) = manager["route_config"]["virtual_hosts"]
    host["routes"] = [r for r in host["routes"] if r["match"]["path"][1:] in files]
    assert len(host["routes"]) == len(files), f"not all shipped: {set(files)}"
    kept = []
    for http_filter in manager["http_filters"]:
        if http_filter["name"] in files:
            injector = http_filter["typed_config"]
            source = injector["credential"]["typed_config"]["credential"]["sds_config"]
            source["path_config_source"]["path"] = str(sds_dir / f"{http_filter['name']}.yaml")
        elif http_filter["name"] != "envoy.filters.http.router":
            continue
        kept.append(http_filter)
    manager["http_filters"] = kept
    return config


def add_files_listener(config: dict, files: dict[str, Path], *, sds_dir: Path) -> None:
    """Adds envoy/files.yaml's listener (serving `files`, on a free port) and its cluster
    `mesh_lambda_files` to `config`, a filter's bootstrap, as a sidecar carries them, and a
    node id and cluster if it has none (the SDS subscriptions need them)."""
    files_config = render_files_config(files, sds_dir=sds_dir)
    (listener,) = files_config["static_resources"]["listeners"]
    (cluster,) = files_config["static_resources"]["clusters"]
    port = free_port()
    listener["address"]["socket_address"]["port_value"] = port
    endpoint = cluster["load_assignment"]["endpoints"][0]["lb_endpoints"][0]["endpoint"]
    endpoint["address"]["socket_address"]["port_value"] = port
    config["static_resources"]["listeners"].append(listener)
    config["static_resources"]["clusters"].append(cluster)
    config.setdefault("node", files_config["node"])


def shipped_cluster_port() -> int:
    """The port the shipped cluster calls, and the shipped listener's."""
    config = yaml.safe_load(FILES_CONFIG.read_text())
    (listener,) = config["static_resources"]["listeners"]
    (cluster,) = config["static_resources"]["clusters"]
    endpoint = cluster["load_assignment"]["endpoints"][0]["lb_endpoints"][0]["endpoint"]
    assert cluster["name"] == CLUSTER
    assert endpoint["address"]["socket_address"] == listener["address"]["socket_address"]
    return endpoint["address"]["socket_address"]["port_value"]
