"""A token file laid out and rotated as Kubernetes does it, and the shipped
`envoy/token-file.yaml` that serves its current contents on a loopback listener.

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

TOKEN_FILE_CONFIG = REPO_ROOT / "envoy" / "token-file.yaml"
TOKEN_FILE_SDS = REPO_ROOT / "envoy" / "token-file-sds.yaml"
TOKEN_PATH = "/token"
TOKEN_HEADER = "x-mesh-lambda-token"
LISTENER = "mesh-lambda-token-file"
CLUSTER = "mesh_lambda_token_file"


class KubernetesTokenDir:
    """`<dir>/..<stamp>/token`, `<dir>/..data -> ..<stamp>`, `<dir>/token -> ..data/token`."""

    def __init__(self, directory: Path):
        self.directory = directory
        self._stamps = 0

    @property
    def token_path(self) -> Path:
        return self.directory / "token"

    def _new_stamp(self) -> str:
        self._stamps += 1
        return f"..2026_12_06_00_00_{self._stamps:02d}.000"

    def write(self, token: str | None) -> None:
        """Publish `token` (None: a timestamped directory without the file). The first call
        creates the directory and the `token` symlink after `..data`, as Kubernetes does."""
        first = not self.directory.exists()
        self.directory.mkdir(parents=True, exist_ok=True)
        data = self.directory / "..data"
        old = os.readlink(data) if data.is_symlink() else None
        stamp = self._new_stamp()
        (self.directory / stamp).mkdir()
        if token is not None:
            (self.directory / stamp / "token").write_text(token)
        temporary = self.directory / "..data_tmp"
        temporary.symlink_to(stamp)
        os.rename(temporary, data)  # atomic: the rename Envoy's watch sees
        if first or not self.token_path.is_symlink():
            self.token_path.symlink_to("..data/token")
        if old is not None:
            shutil.rmtree(self.directory / old)


def render_token_file_config(*, token_file: Path, sds_path: Path, filename: Path | None = None):
    """envoy/token-file.yaml with ports chosen by the kernel (the listener's, read back through
    the admin API) and the SDS file written to `sds_path`, naming `filename` (default
    `token_file`; another path only to show what breaks). Returns the bootstrap."""
    sds = yaml.safe_load(TOKEN_FILE_SDS.read_text())
    secret = sds["resources"][0]["generic_secret"]["secret"]
    secret["filename"] = str(filename or token_file)
    sds_path.write_text(yaml.safe_dump(sds, sort_keys=False))

    config = copy.deepcopy(yaml.safe_load(TOKEN_FILE_CONFIG.read_text()))
    config["admin"]["address"]["socket_address"]["port_value"] = 0
    (listener,) = config["static_resources"]["listeners"]
    listener["address"]["socket_address"]["port_value"] = 0
    manager = listener["filter_chains"][0]["filters"][0]["typed_config"]
    injector = manager["http_filters"][0]["typed_config"]
    source = injector["credential"]["typed_config"]["credential"]["sds_config"]
    source["path_config_source"]["path"] = str(sds_path)
    return config


def shipped_cluster_port() -> int:
    """The port the shipped cluster calls, and the shipped listener's."""
    config = yaml.safe_load(TOKEN_FILE_CONFIG.read_text())
    (listener,) = config["static_resources"]["listeners"]
    (cluster,) = config["static_resources"]["clusters"]
    endpoint = cluster["load_assignment"]["endpoints"][0]["lb_endpoints"][0]["endpoint"]
    assert cluster["name"] == CLUSTER
    assert endpoint["address"]["socket_address"] == listener["address"]["socket_address"]
    return endpoint["address"]["socket_address"]["port_value"]
