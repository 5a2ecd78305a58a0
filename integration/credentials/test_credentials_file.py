"""The `credentials_file` source through a real Envoy: a profile of the shared credentials
file, whose text Envoy serves on the loopback listener of envoy/files.yaml (the VM reads no
file), read again while Envoy runs.

The file holds two profiles with keys moto accepts: `[default]` the IAM user's long-term key,
`[session]` the assumed role's session (with its token). The capture hop verifies each
Invoke's signature with the secret of the key id it names, so a request signed with any
other keys, or unsigned, fails there.

The profile is `credentials.profile`, else `AWS_PROFILE`, else `default`: the native filter's
`credentials_profile` and the SDKs' order (Envoy's `Utility::getCredentialProfileName` reads
AWS_PROFILE, default `default`; botocore's Session `profile` likewise).
"""

import time

import pytest

from harness import client
from harness.envoy import plugin_configuration
from harness.expectations import assert_local_reply, assert_nothing_sent_upstream
from harness.files import AWS_CREDENTIALS, KubernetesTokenDir

# Re-read every this many seconds (the setting's smallest value), so a rotation shows soon.
REFRESH_SECONDS = 10
# After a rotation the next re-read is at most REFRESH_SECONDS away; Envoy follows the
# `..data` rename within a second (test_file_source.py).
ROTATION_WITHIN_SECONDS = REFRESH_SECONDS + 5


def section(profile: str, keys) -> str:
    """One profile as `aws configure` writes it (the token only for session keys)."""
    text = (
        f"[{profile}]\n"
        f"aws_access_key_id = {keys.access_key_id}\n"
        f"aws_secret_access_key = {keys.secret_access_key}\n"
    )
    if keys.session_token is not None:
        text += f"aws_session_token = {keys.session_token}\n"
    return text


def credentials_text(default, session) -> str:
    """The file: a comment, `[default]` and `[session]`."""
    return (
        "# written for the test\n"
        + section("default", default)
        + "\n"
        + section("session", session)
    )


def configuration(aws, **credentials) -> str:
    return plugin_configuration(
        arn=aws.function_arn,
        payload_passthrough=True,
        detailed_errors=True,
        credentials={"provider": "credentials_file", **credentials},
    )


def published(tmp_path, text: str | None) -> KubernetesTokenDir:
    """The file in a Kubernetes secret volume (`<dir>/credentials -> ..data/credentials`)."""
    directory = KubernetesTokenDir(tmp_path / "aws", name="credentials")
    if text is None:
        directory.directory.mkdir()
    else:
        directory.write(text)
    return directory


def invoke_ok(envoy, capture, body: bytes = b'{"hello": "file"}'):
    """One Invoke: 200, verified by the capture hop; the captured request."""
    before = len(capture.requests)
    answer = client.call(envoy.url, "POST", "/", body=body)
    assert answer.status == 200, str(answer)
    request = capture.requests[before]
    assert request.verdict.ok, request.describe()
    return request


# case id -> (credentials.profile, AWS_PROFILE, which keys sign)
PROFILES = {
    "neither-is-default": (None, None, "user"),
    "aws-profile": (None, "session", "session"),
    "setting": ("session", None, "session"),
    "setting-over-aws-profile": ("default", "session", "user"),
}


@pytest.mark.parametrize(("setting", "aws_profile", "signer"), PROFILES.values(), ids=PROFILES)
def test_the_profile_chosen_signs(
    aws, capture, start_envoy, tmp_path, setting, aws_profile, signer
):
    file = published(tmp_path, credentials_text(aws.user_credentials, aws.session_credentials))
    chosen = {"profile": setting} if setting else {}
    envoy = start_envoy(
        configuration(aws, **chosen),
        environment={"AWS_PROFILE": aws_profile} if aws_profile else {},
        files={AWS_CREDENTIALS: file.token_path},
    )

    request = invoke_ok(envoy, capture)

    expected = {"user": aws.user_credentials, "session": aws.session_credentials}[signer]
    assert request.access_key_id == expected.access_key_id, request.describe()
    token = next(iter(request.header_values("x-amz-security-token")), None)
    assert token == expected.session_token, request.describe()


def test_a_replaced_file_is_read_again_without_restart(aws, capture, start_envoy, tmp_path):
    """The secret behind the file rotated Kubernetes-style (a new `..data`): within one
    re-read interval the Invokes are signed with the new keys, by the same Envoy."""
    user, session = aws.user_credentials, aws.session_credentials
    file = published(tmp_path, credentials_text(user, session))
    envoy = start_envoy(
        configuration(aws, credentials_file_refresh_seconds=REFRESH_SECONDS),
        environment={},
        files={AWS_CREDENTIALS: file.token_path},
    )
    pid = envoy.pid
    assert invoke_ok(envoy, capture).access_key_id == user.access_key_id

    # The default profile now holds the session's keys.
    file.write(section("default", session))
    rotated = time.monotonic()
    used = []
    while time.monotonic() - rotated < ROTATION_WITHIN_SECONDS:
        used.append(invoke_ok(envoy, capture).access_key_id)
        if used[-1] == session.access_key_id:
            break
        time.sleep(0.25)
    assert used[-1] == session.access_key_id, (
        f"still the old keys {ROTATION_WITHIN_SECONDS}s after the rotation"
    )
    # Once switched, never back.
    for _ in range(3):
        assert invoke_ok(envoy, capture).access_key_id == session.access_key_id
    assert envoy.pid == pid and envoy.exit_code is None
    envoy.stop()
    log = envoy.log_text()
    for secret in (user.secret_access_key, session.secret_access_key, session.session_token):
        assert secret not in log


FAILURES = {
    # The volume is there, the file is not: the files listener has no value for the secret.
    "file-missing": (
        None,
        "session",
        "credentials_file: the file of AWS_SHARED_CREDENTIALS_FILE is missing or empty",
    ),
    "profile-missing": (
        "[default]\naws_access_key_id = AKIDEXAMPLE\naws_secret_access_key = never-sent\n",
        "session",
        "credentials_file: profile session is not in the shared credentials file",
    ),
    "config-file-header": (
        "[profile session]\naws_access_key_id = AKIDEXAMPLE\naws_secret_access_key = never-sent\n",
        "session",
        "line 1 has [profile session]",
    ),
    "no-secret": (
        "[session]\naws_access_key_id = AKIDEXAMPLE\n",
        "session",
        "profile session of the shared credentials file has no aws_secret_access_key",
    ),
}


@pytest.mark.parametrize(("text", "profile", "reason"), FAILURES.values(), ids=FAILURES)
def test_without_usable_keys_a_503_names_the_source_and_why(
    aws, capture, start_envoy, tmp_path, text, profile, reason
):
    file = published(tmp_path, text)
    envoy = start_envoy(
        configuration(aws, profile=profile),
        environment={},
        files={AWS_CREDENTIALS: file.token_path},
    )

    answer = client.call(envoy.url, "POST", "/", body=b'{"unsigned": "never"}')

    document = assert_local_reply(answer, 503, "CredentialsUnavailable")
    assert reason in document["message"], document
    assert "never-sent" not in answer.body.decode()
    assert_nothing_sent_upstream(capture)
