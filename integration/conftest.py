"""Fixtures: the filter build, one moto server per session, a capture hop and Envoys per test.

When a test fails, the log of every Envoy it started and every request the capture hop saw
are added to the failure report (and copied to integration/.artifacts/).
"""

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from harness.aws import AwsCredentials, LambdaWorld, MotoServer, provision
from harness.capture import CaptureHop
from harness.consul import build_cli
from harness.envoy import (
    REFUSAL_TIMEOUT_SECONDS,
    EnvoyProcess,
    EnvoyStartError,
    RefusalResult,
    RemoteCode,
    envoy_environment,
    plugin_configuration,
    render_config,
)
from harness.paths import ARTIFACTS_DIR, ENVOY_BINARY, LOCAL_ENVOY_CONFIG
from harness.processes import free_port
from harness.wasm import FilterBuildError, build_filter

# The credential endpoints' stand-ins and their fixtures (container_endpoint, ...).
pytest_plugins = ["harness.credential_fixtures"]

LOG_LINES_IN_REPORT = 300
_ENVOYS = pytest.StashKey[list]()
_CAPTURES = pytest.StashKey[list]()
_MOTO = pytest.StashKey[MotoServer]()


@pytest.fixture(scope="session")
def wasm_path():
    """The filter, built by this run (cargo is quick when nothing changed)."""
    try:
        return build_filter()
    except (FilterBuildError, subprocess.TimeoutExpired) as error:
        failure = f"building the filter failed: {error}"
    pytest.fail(failure, pytrace=False)


@pytest.fixture(scope="session")
def cli():
    """The host-side `mesh-lambda` command, built by this run."""
    return build_cli()


@pytest.fixture(scope="session")
def aws(request, tmp_path_factory) -> LambdaWorld:
    moto = MotoServer(tmp_path_factory.mktemp("moto") / "moto.log")
    request.config.stash[_MOTO] = moto
    moto.start()
    try:
        yield provision(moto)
    finally:
        moto.stop()


@pytest.fixture
def capture(request, aws) -> CaptureHop:
    """Where Envoy's Lambda cluster points: records, verifies, forwards to moto."""
    hop = CaptureHop(aws.port, aws.credentials_by_access_key(), region=aws.region).start()
    request.node.stash.setdefault(_CAPTURES, []).append(hop)
    yield hop
    hop.stop()


@pytest.fixture
def default_configuration(aws) -> str:
    return plugin_configuration(arn=aws.function_arn, payload_passthrough=True)


def _launched(envoy: EnvoyProcess, started: list[EnvoyProcess], what: str = "") -> EnvoyProcess:
    """Starts `envoy` (kept in `started`, whose logs a failure report carries) and waits until
    it is ready."""
    started.append(envoy)
    envoy.launch()
    try:
        envoy.wait_ready()
    except EnvoyStartError as error:
        pytest.fail(f"{what}{error} (log in the report below)", pytrace=False)
    return envoy


@pytest.fixture
def start_envoy(request, tmp_path, capture, aws, default_configuration):
    """start_envoy(configuration=None, *, environment=None, ...) -> a ready EnvoyProcess.

    configuration: the plugin's JSON string (default: the function's ARN, passthrough).
    environment: the AWS_* variables Envoy gets (default: the IAM user's key); {} for none.
    clusters: more Envoy clusters (e.g. the credential endpoints, see harness/metadata.py).
    http1_trailers: let HTTP/1 request trailers reach the filters (Envoy drops them by default).
    allow_on_headers_stop_iteration: False loads the filter without that setting.
    use_remote_address: the connection manager takes the peer's address from the connection.
    remote_code: a RemoteCode: Envoy fetches the module over HTTP instead of reading the file.
    lambda_port: where the Lambda cluster points (default: the capture hop; e.g. a FaultyLambda).
    route_timeout: the route's timeout instead of the shipped one (e.g. "2s");
    route_idle_timeout: its idle timeout.
    shipped_config: another shipped configuration than envoy/local.yaml.
    wasm: another build of the filter (e.g. harness/wasm.py's test-crash build).
    files: secret name -> path: envoy/files.yaml's listener and cluster serving those files
    (harness/files.py), as a sidecar using a token or credentials file carries them.
    """
    started: list[EnvoyProcess] = request.node.stash.setdefault(_ENVOYS, [])

    def start(
        configuration: str | None = None,
        *,
        environment: dict | None = None,
        log_level: str = "info",
        concurrency: int = 1,
        with_filter: bool = True,
        clusters: list[dict] | None = None,
        http1_trailers: bool = False,
        allow_on_headers_stop_iteration: bool = True,
        use_remote_address: bool = False,
        remote_code: RemoteCode | None = None,
        lambda_port: int | None = None,
        route_timeout: str | None = None,
        route_idle_timeout: str | None = None,
        shipped_config: Path = LOCAL_ENVOY_CONFIG,
        wasm: str | None = None,
        files: dict | None = None,
    ) -> EnvoyProcess:
        if wasm is None:
            wasm = request.getfixturevalue("wasm_path") if with_filter else "unused.wasm"
        config = render_config(
            wasm_path=wasm,
            plugin_configuration=configuration or default_configuration,
            lambda_port=capture.port if lambda_port is None else lambda_port,
            route_timeout=route_timeout,
            route_idle_timeout=route_idle_timeout,
            shipped_config=shipped_config,
            with_filter=with_filter,
            extra_clusters=clusters,
            http1_trailers=http1_trailers,
            allow_on_headers_stop_iteration=allow_on_headers_stop_iteration,
            use_remote_address=use_remote_address,
            remote_code=remote_code,
            files=files,
            files_sds_dir=tmp_path / f"files-sds-{len(started) + 1}",
        )
        if environment is None:
            environment = aws.user_credentials.as_environment()
        envoy = EnvoyProcess(
            tmp_path / f"envoy-{len(started) + 1}",
            config,
            envoy_environment(environment),
            log_level=log_level,
            concurrency=concurrency,
        )
        return _launched(envoy, started)

    yield start
    for envoy in started:
        envoy.stop()


@pytest.fixture
def start_bootstrap(request, tmp_path):
    """start_bootstrap(name, bootstrap, environment=None, extra_args=()) -> a ready EnvoyProcess
    running a whole bootstrap of the test's own (e.g. a Consul-shaped sidecar); environment: the
    AWS_* variables it gets (default none); extra_args: more of Envoy's options."""
    started: list[EnvoyProcess] = request.node.stash.setdefault(_ENVOYS, [])

    def start(
        name: str,
        bootstrap: dict,
        environment: dict | None = None,
        extra_args: tuple[str, ...] = (),
    ) -> EnvoyProcess:
        envoy = EnvoyProcess(
            tmp_path / name,
            bootstrap,
            envoy_environment(environment or {}),
            extra_args=extra_args,
        )
        return _launched(envoy, started, f"{name}: ")

    yield start
    for envoy in started:
        envoy.stop()


@pytest.fixture
def start_envoy_expecting_refusal(request, tmp_path, wasm_path):
    """refuse(configuration) -> RefusalResult: Envoy's exit code (None if it kept running).

    Credentials are present (placeholders), so the configuration is the only thing wrong.
    """
    started: list[EnvoyProcess] = request.node.stash.setdefault(_ENVOYS, [])
    placeholder = AwsCredentials("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY")

    def refuse(configuration: str) -> RefusalResult:
        config = render_config(
            wasm_path=wasm_path, plugin_configuration=configuration, lambda_port=free_port()
        )
        envoy = EnvoyProcess(
            tmp_path / f"envoy-{len(started) + 1}",
            config,
            envoy_environment(placeholder.as_environment()),
        )
        started.append(envoy)
        envoy.launch()
        exit_code = envoy.wait_exit(REFUSAL_TIMEOUT_SECONDS)
        envoy.stop()
        return RefusalResult(exit_code, envoy.log_text())

    yield refuse
    for envoy in started:
        envoy.stop()


def pytest_report_header(config):
    """Which Envoy the run uses (MESH_LAMBDA_ENVOY picks another)."""
    version = subprocess.run([str(ENVOY_BINARY), "--version"], capture_output=True, text=True)
    lines = version.stdout.strip().splitlines() or ["(no version printed)"]
    return f"envoy: {lines[-1].strip()}"


def pytest_sessionstart(session):
    shutil.rmtree(ARTIFACTS_DIR, ignore_errors=True)  # only this run's failures are kept


def _tail(text: str, lines: int = LOG_LINES_IN_REPORT) -> str:
    kept = text.splitlines()[-lines:]
    return "\n".join(kept)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if not report.failed:
        return
    artifacts = ARTIFACTS_DIR / re.sub(r"[^\w.-]+", "_", item.nodeid)
    for number, envoy in enumerate(item.stash.get(_ENVOYS, []), 1):
        envoy.stop()  # a graceful stop flushes Envoy's log file
        report.sections.append(
            (f"Envoy #{number} log (last {LOG_LINES_IN_REPORT} lines)", _tail(envoy.log_text()))
        )
        artifacts.mkdir(parents=True, exist_ok=True)
        for source in (envoy.log_path, envoy.config_path):
            if source.exists():
                shutil.copy(source, artifacts / f"envoy-{number}-{source.name}")
    for hop in item.stash.get(_CAPTURES, []):
        report.sections.append(("requests seen by the capture hop", hop.describe()))
    moto = item.config.stash.get(_MOTO, None)
    if moto is not None and item.stash.get(_CAPTURES, []):
        report.sections.append(("moto server log (last 40 lines)", _tail(moto.log_text(), 40)))
