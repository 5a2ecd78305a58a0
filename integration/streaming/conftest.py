"""Fixtures of the streamed-answer tests: a streaming Lambda stand-in playing the test's
script, and an Envoy on the shipped envoy/streaming.yaml (`invocation_mode: streaming`, the
route without a timeout on the whole) whose Lambda cluster points at the stand-in."""

import pytest

from harness.envoy import plugin_configuration
from harness.paths import STREAMING_ENVOY_CONFIG
from harness.streaming_lambda import StreamingLambda, StreamScript, streaming_path


@pytest.fixture
def streaming_lambda(aws):
    """streaming_lambda(script) -> a started StreamingLambda, stopped after the test."""
    started: list[StreamingLambda] = []

    def start(script: StreamScript) -> StreamingLambda:
        stand_in = StreamingLambda(
            aws.credentials_by_access_key(),
            aws.region,
            streaming_path(aws.function_arn),
            script,
        )
        started.append(stand_in.start())
        return stand_in

    yield start
    for stand_in in started:
        stand_in.stop()


@pytest.fixture
def streaming_envoy(start_envoy, aws, streaming_lambda):
    """streaming_envoy(script, **envoy_options) -> (Envoy, the stand-in playing `script`)."""

    def start(script: StreamScript, **options):
        stand_in = streaming_lambda(script)
        configuration = plugin_configuration(
            arn=aws.function_arn, payload_passthrough=True, invocation_mode="streaming"
        )
        envoy = start_envoy(
            configuration,
            lambda_port=stand_in.port,
            shipped_config=STREAMING_ENVOY_CONFIG,
            **options,
        )
        return envoy, stand_in

    return start
