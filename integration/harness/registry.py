"""An OCI registry for the `mesh-lambda oci` tests: Debian's `docker-registry` (distribution)
serving a temp dir on 127.0.0.1, optionally with TLS and htpasswd users; and the command run
against it.

The registry's storage is a plain folder, so a test can corrupt a stored blob
(`blob_file`) to see that a pull refuses it.
"""

import base64
import hashlib
import json
import os
import subprocess
import time
from pathlib import Path

import bcrypt
import requests
import yaml

from .certificates import CertificateAuthority
from .processes import free_port, stop_process

START_TIMEOUT_SECONDS = 10.0
CLI_TIMEOUT_SECONDS = 60


class Registry:
    """`docker-registry serve` on a free port; `users` ({name: password}) turns on htpasswd
    authentication, `ca` serves HTTPS with a certificate for `localhost` that CA issues."""

    def __init__(
        self,
        directory: Path,
        *,
        users: dict[str, str] | None = None,
        ca: CertificateAuthority | None = None,
    ):
        self.directory = directory
        self.port = free_port()
        self.tls = ca.issue("registry", dns=["localhost"]) if ca else None
        self.ca_file = ca.certificate if ca else None
        self.users = users or {}
        self._process: subprocess.Popen | None = None

    @property
    def host(self) -> str:
        """host:port as references name it (TLS certificates are for `localhost`)."""
        return f"{'localhost' if self.tls else '127.0.0.1'}:{self.port}"

    @property
    def storage(self) -> Path:
        return self.directory / "storage"

    def _config(self) -> dict:
        http: dict = {"addr": f"127.0.0.1:{self.port}"}
        config = {
            "version": 0.1,
            "log": {"level": "warn"},
            "storage": {"filesystem": {"rootdirectory": str(self.storage)}},
            "http": http,
        }
        if self.tls:
            http["tls"] = {"certificate": str(self.tls.certificate), "key": str(self.tls.key)}
        if self.users:
            htpasswd = self.directory / "htpasswd"
            htpasswd.write_text(
                "".join(
                    f"{name}:{bcrypt.hashpw(password.encode(), bcrypt.gensalt(4)).decode()}\n"
                    for name, password in self.users.items()
                )
            )
            config["auth"] = {"htpasswd": {"realm": "mesh-lambda-tests", "path": str(htpasswd)}}
        return config

    def start(self) -> "Registry":
        self.directory.mkdir(parents=True, exist_ok=True)
        config = self.directory / "config.yml"
        config.write_text(yaml.safe_dump(self._config()))
        self.log_path = self.directory / "registry.log"
        with self.log_path.open("wb") as log:
            self._process = subprocess.Popen(
                ["docker-registry", "serve", str(config)], stdout=log, stderr=subprocess.STDOUT
            )
        self._wait_ready()
        return self

    def _wait_ready(self) -> None:
        scheme = "https" if self.tls else "http"
        verify = str(self.ca_file) if self.ca_file else False
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError(f"docker-registry exited: {self.log_path.read_text()}")
            try:
                answer = requests.get(f"{scheme}://{self.host}/v2/", verify=verify, timeout=1)
                if answer.status_code in (200, 401):
                    return
            except requests.ConnectionError:
                pass
            time.sleep(0.05)
        raise RuntimeError(f"docker-registry did not answer /v2/ on {self.host}")

    def stop(self) -> None:
        if self._process is not None:
            stop_process(self._process)

    def blob_file(self, digest: str) -> Path:
        """Where the registry keeps a blob's (or a manifest's) bytes."""
        hex_digest = digest.removeprefix("sha256:")
        return (
            self.storage / "docker/registry/v2/blobs/sha256" / hex_digest[:2] / hex_digest / "data"
        )

    def blob(self, repository: str, digest: str) -> bytes:
        """A blob as a plain client fetches it (anonymous, plain HTTP)."""
        url = f"http://{self.host}/v2/{repository}/blobs/{digest}"
        return requests.get(url, timeout=10).content


def basic_auth(user: str, password: str) -> str:
    """A docker config `auth` value."""
    return base64.b64encode(f"{user}:{password}".encode()).decode()


def run_cli(cli: Path, *args, environment: dict | None = None) -> subprocess.CompletedProcess:
    """`mesh-lambda oci ARGS...` with exactly `environment` (plus PATH and HOME) as its
    environment, so the user's own registry credentials never leak into a test."""
    env = {"PATH": os.environ["PATH"], "HOME": "/nonexistent", **(environment or {})}
    return subprocess.run(
        [str(cli), "oci", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=CLI_TIMEOUT_SECONDS,
        env=env,
    )


def write_layout(directory: Path, config: tuple[str, bytes], *layers: tuple[str, bytes]) -> Path:
    """An OCI layout with one image of these layers, written here without the command."""

    def put(media_type: str, data: bytes) -> dict:
        digest = sha256_digest(data)
        path = directory / "blobs" / "sha256" / digest.removeprefix("sha256:")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        return {"mediaType": media_type, "digest": digest, "size": len(data)}

    manifest = {
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": put(*config),
        "layers": [put(*layer) for layer in layers],
    }
    entry = put(manifest["mediaType"], json.dumps(manifest).encode())
    (directory / "index.json").write_text(json.dumps({"schemaVersion": 2, "manifests": [entry]}))
    (directory / "oci-layout").write_text('{"imageLayoutVersion": "1.0.0"}')
    return directory


def sha256_digest(data: bytes) -> str:
    return f"sha256:{hashlib.sha256(data).hexdigest()}"
