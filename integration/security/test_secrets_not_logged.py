"""Even at --log-level debug, neither the secret key nor the session token is logged."""

from harness import client
from harness.envoy import plugin_configuration


def test_secret_and_token_never_logged_at_debug(aws, capture, start_envoy):
    session = aws.session_credentials
    envoy = start_envoy(
        plugin_configuration(arn=aws.function_arn, payload_passthrough=True, max_request_bytes=64),
        environment=session.as_environment(),
        log_level="debug",
    )

    assert client.call(envoy.url, "POST", "/", body=b'{"ok": 1}').status == 200
    assert client.call(envoy.url, "POST", "/", body=b"x" * 65).status == 413
    envoy.stop()
    log = envoy.log_text()

    assert "[debug]" in log
    assert session.secret_access_key not in log
    # Envoy itself dumps request headers at debug level, the token header among them;
    # that one line shape is Envoy's, any other mention would be the filter's.
    envoys_header_dump = f"'x-amz-security-token', '{session.session_token}'"
    leaks = [
        line
        for line in log.splitlines()
        if session.session_token in line and line.strip() != envoys_header_dump
    ]
    assert leaks == []
