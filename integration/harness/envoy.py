"""Running Envoy on the shipped `envoy/local.yaml`, adjusted only where a test must.

What is changed: ports (0: the kernel picks, read back through the admin API), the Lambda
cluster's endpoint (the capture hop), the .wasm filename (absolute) and the plugin
configuration string. Everything else is the configuration users run.
"""

import copy
import itertools
import json
import os
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import requests
import yaml

from .files import LISTENER as FILES_LISTENER
from .files import add_files_listener
from .paths import ENVOY_BINARY, LOCAL_ENVOY_CONFIG
from .processes import stop_process

FILTER_NAME = "mesh-lambda"
READY_TIMEOUT_SECONDS = 30.0
REFUSAL_TIMEOUT_SECONDS = 20.0

# Unique per Envoy in this run and apart from other runs (and from Envoy's default 0).
_base_ids = itertools.count((os.getpid() % 2_000_000) * 1000 + 1)


def next_base_id() -> int:
    return next(_base_ids)


def load_local_config(path: Path = LOCAL_ENVOY_CONFIG) -> dict:
    return yaml.safe_load(path.read_text())


def _only(items: list, what: str):
    assert len(items) == 1, f"envoy/local.yaml: expected one {what}, found {len(items)}"
    return items[0]


def _connection_manager(config: dict) -> dict:
    listener = _only(config["static_resources"]["listeners"], "listener")
    chain = _only(listener["filter_chains"], "filter chain")
    return _only(chain["filters"], "network filter")["typed_config"]


def _http_filters(config: dict) -> list[dict]:
    return _connection_manager(config)["http_filters"]


def render_config(
    *,
    wasm_path: Path,
    plugin_configuration: str,
    lambda_port: int,
    with_filter: bool = True,
    listener_port: int = 0,
    admin_port: int = 0,
    extra_clusters: list[dict] | None = None,
    http1_trailers: bool = False,
    allow_on_headers_stop_iteration: bool = True,
    use_remote_address: bool = False,
    remote_code: "RemoteCode | None" = None,
    route_timeout: str | None = None,
    route_idle_timeout: str | None = None,
    shipped_config: Path = LOCAL_ENVOY_CONFIG,
    files: dict[str, Path] | None = None,
    files_sds_dir: Path | None = None,
) -> dict:
    """envoy/local.yaml with the test's ports, wasm file and plugin configuration, plus
    `extra_clusters` (e.g. the credential endpoints' clusters, pointed at stand-ins) and,
    with `http1_trailers`, HTTP/1 request trailers passed to the filters. Without
    `allow_on_headers_stop_iteration`, the filter is loaded as Consul's builtin/wasm, Istio's
    WasmPlugin and Envoy Gateway load it: without that setting. With `remote_code`, Envoy
    fetches the module over HTTP and checks its sha256 instead of reading the file.
    `route_timeout` (e.g. "2s") replaces the route's timeout, `route_idle_timeout` its idle
    timeout. `shipped_config`: another of the shipped configurations (envoy/streaming.yaml).
    `files` (secret name -> path): envoy/files.yaml's listener and cluster serving them, the SDS
    files written into `files_sds_dir`."""
    config = copy.deepcopy(load_local_config(shipped_config))
    config["admin"]["address"]["socket_address"]["port_value"] = admin_port
    listener = _only(config["static_resources"]["listeners"], "listener")
    listener["address"]["socket_address"]["port_value"] = listener_port

    if http1_trailers:
        _connection_manager(config)["http_protocol_options"] = {"enable_trailers": True}
    if use_remote_address:
        _connection_manager(config)["use_remote_address"] = True
    virtual_host = _only(_connection_manager(config)["route_config"]["virtual_hosts"], "host")
    route = _only(virtual_host["routes"], "route")["route"]
    signed_host = _signed_host(plugin_configuration)
    if signed_host is not None:
        # As a user must: the Host the route sends is the one the filter signs for.
        route["host_rewrite_literal"] = signed_host
    if route_timeout is not None:
        route["timeout"] = route_timeout
    if route_idle_timeout is not None:
        route["idle_timeout"] = route_idle_timeout
    filters = _http_filters(config)
    mesh_lambda = _only([f for f in filters if f["name"] == FILTER_NAME], "mesh-lambda filter")
    plugin = mesh_lambda["typed_config"]["config"]
    plugin["vm_config"]["code"]["local"]["filename"] = str(Path(wasm_path).resolve())
    if remote_code is not None:
        plugin["vm_config"]["code"] = remote_code.code_source()
    plugin["configuration"]["value"] = plugin_configuration
    if not allow_on_headers_stop_iteration:
        del plugin["allow_on_headers_stop_iteration"]
    if not with_filter:
        filters.remove(mesh_lambda)

    cluster = _only(config["static_resources"]["clusters"], "cluster")
    endpoints = _only(cluster["load_assignment"]["endpoints"], "locality")["lb_endpoints"]
    address = _only(endpoints, "endpoint")["endpoint"]["address"]["socket_address"]
    address["address"] = "127.0.0.1"
    address["port_value"] = lambda_port
    config["static_resources"]["clusters"] += copy.deepcopy(extra_clusters or [])
    if remote_code is not None:
        config["static_resources"]["clusters"].append(remote_code.cluster())
    if files:
        add_files_listener(config, files, sds_dir=files_sds_dir)
    return config


def _signed_host(plugin_configuration: str) -> str | None:
    """The host the filter signs for: `host_rewrite`, else Lambda's host in the ARN's region
    (None when the configuration is not one the filter takes)."""
    try:
        fields = json.loads(plugin_configuration)
        host = fields.get("host_rewrite")
        return host or f"lambda.{fields['arn'].split(':')[3]}.amazonaws.com"
    except (ValueError, AttributeError, KeyError, IndexError, TypeError):
        return None


@dataclass(frozen=True)
class RemoteCode:
    """Envoy's remote code source: the module from an HTTP server on 127.0.0.1, checked
    against a sha256 (the raw .wasm's, as Consul's builtin/wasm `Remote.SHA256` takes it)."""

    port: int
    path: str
    sha256: str

    CLUSTER = "mesh-lambda.wasm-source"

    def code_source(self) -> dict:
        return {
            "remote": {
                "http_uri": {
                    "uri": f"http://127.0.0.1:{self.port}{self.path}",
                    "cluster": self.CLUSTER,
                    "timeout": "10s",
                },
                "sha256": self.sha256,
                "retry_policy": {"num_retries": 3},
            }
        }

    def cluster(self) -> dict:
        return {
            "name": self.CLUSTER,
            "type": "STATIC",
            "connect_timeout": "1s",
            "load_assignment": {
                "cluster_name": self.CLUSTER,
                "endpoints": [
                    {
                        "lb_endpoints": [
                            {
                                "endpoint": {
                                    "address": {
                                        "socket_address": {
                                            "address": "127.0.0.1",
                                            "port_value": self.port,
                                        }
                                    }
                                }
                            }
                        ]
                    }
                ],
            },
        }


def plugin_configuration(*, payload_passthrough: bool, **fields) -> str:
    """The JSON string that goes into the filter's `configuration.value`. Every test says
    which payload mode it runs (the default, the native filter's event, is a test of its own)."""
    return json.dumps({**fields, "payload_passthrough": payload_passthrough})


class EnvoyStartError(RuntimeError):
    pass


@dataclass(frozen=True)
class RefusalResult:
    exit_code: int | None  # None: Envoy was still running after the timeout (it accepted)
    log: str


class EnvoyProcess:
    """One Envoy subprocess with its own directory, admin port and base id."""

    def __init__(
        self,
        workdir: Path,
        config: dict,
        environment: dict[str, str],
        *,
        log_level: str = "info",
        concurrency: int = 1,
    ):
        workdir.mkdir(parents=True, exist_ok=True)
        self.workdir = workdir
        self.base_id = next_base_id()
        self.config_path = workdir / "envoy.yaml"
        self.config_path.write_text(yaml.safe_dump(config, sort_keys=False))
        self.log_path = workdir / "envoy.log"
        self._console_path = workdir / "envoy.console"
        self._admin_address_path = workdir / "admin.address"
        self._environment = environment
        self._log_level = log_level
        self._concurrency = concurrency
        self._process: subprocess.Popen | None = None
        self.admin_url: str | None = None
        self.url: str | None = None

    def launch(self) -> None:
        """Start the process (without waiting for anything)."""
        command = [
            str(ENVOY_BINARY),
            "-c",
            str(self.config_path),
            "--base-id",
            str(self.base_id),
            "--disable-hot-restart",  # no shared-memory segment left behind in /dev/shm
            "--concurrency",
            str(self._concurrency),
            "--log-level",
            self._log_level,
            "--log-path",
            str(self.log_path),
            "--admin-address-path",
            str(self._admin_address_path),
        ]
        with open(self._console_path, "wb") as console:
            self._process = subprocess.Popen(
                command,
                cwd=self.workdir,
                env=self._environment,
                stdin=subprocess.DEVNULL,
                stdout=console,
                stderr=subprocess.STDOUT,
            )

    def wait_ready(self, timeout: float = READY_TIMEOUT_SECONDS) -> None:
        """Wait for admin /ready to answer 200, then read the listener's bound port."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.exit_code is not None:
                raise EnvoyStartError(f"Envoy exited with {self.exit_code} while starting")
            if self.admin_url is None and self._admin_address_path.exists():
                address = self._admin_address_path.read_text().strip()
                if address:
                    self.admin_url = f"http://{address}"
            if self.admin_url is not None and self._is_ready():
                port = self._listener_port()
                self.url = None if port is None else f"http://127.0.0.1:{port}"
                return
            time.sleep(0.05)
        raise EnvoyStartError(f"Envoy not ready within {timeout}s")

    def _is_ready(self) -> bool:
        try:
            return requests.get(f"{self.admin_url}/ready", timeout=2).status_code == 200
        except requests.RequestException:
            return False

    def _listener_port(self) -> int | None:
        """The port of the one listener, the files listener a test adds (harness/files.py)
        aside; None when Envoy has several (use `listener_url`)."""
        statuses = [s for s in self._listener_statuses() if s["name"] != FILES_LISTENER]
        if len(statuses) != 1:
            return None
        return statuses[0]["local_address"]["socket_address"]["port_value"]

    def _listener_statuses(self) -> list[dict]:
        answer = requests.get(f"{self.admin_url}/listeners?format=json", timeout=5)
        answer.raise_for_status()
        return answer.json()["listener_statuses"]

    def listener_url(self, name: str) -> str:
        """The URL of the listener called `name`."""
        for status in self._listener_statuses():
            if status["name"] == name:
                return f"http://127.0.0.1:{status['local_address']['socket_address']['port_value']}"
        raise KeyError(f"no listener {name!r}")

    def stats(self) -> dict[str, int]:
        """Envoy's counters and gauges, by name."""
        answer = requests.get(f"{self.admin_url}/stats?format=json", timeout=5)
        answer.raise_for_status()
        return {s["name"]: s["value"] for s in answer.json()["stats"] if "value" in s}

    def wait_exit(self, timeout: float) -> int | None:
        try:
            return self._process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return None

    @property
    def pid(self) -> int | None:
        return None if self._process is None else self._process.pid

    @property
    def exit_code(self) -> int | None:
        return None if self._process is None else self._process.poll()

    def stop(self) -> None:
        if self._process is not None:
            stop_process(self._process)

    def log_text(self) -> str:
        """Envoy's log file followed by anything it wrote to stdout/stderr."""
        parts = [
            p.read_text(errors="replace") for p in (self.log_path, self._console_path) if p.exists()
        ]
        return "".join(parts)


def envoy_environment(aws_variables: dict[str, str]) -> dict[str, str]:
    """A clean environment: the runner's own AWS_* variables never leak into Envoy."""
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin")}
    env.update(aws_variables)
    return env


def envoy_version(binary: Path = ENVOY_BINARY) -> tuple[int, int, int]:
    """The release of the Envoy the tests run, from `envoy --version`
    ("... version: <sha>/1.40.0/Clean/RELEASE/BoringSSL")."""
    output = subprocess.run(
        [str(binary), "--version"], capture_output=True, text=True, timeout=30, check=True
    ).stdout
    release = output.split("version:", 1)[1].strip().split("/")[1]
    major, minor, patch = (int(part) for part in release.split(".")[:3])
    return major, minor, patch
