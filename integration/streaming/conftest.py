"""Fixtures of the streamed-answer tests: a streaming Lambda stand-in playing the test's
script, and an Envoy whose filter invokes with `invocation_mode: streaming` and whose Lambda
cluster points at the stand-in."""

import pytest

from harness.envoy import plugin_configuration
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
        configuration = plugin_configuration(arn=aws.function_arn, invocation_mode="streaming")
        envoy = start_envoy(configuration, lambda_port=stand_in.port, **options)
        return envoy, stand_in

    return start
