"""A rotating file's current contents, read by Envoy alone and answered on a loopback listener
(envoy/files.yaml): what the filter's one callout per credential fetch gets.

Why it follows a Kubernetes rotation, from Envoy's sources (source/common/secret/sds_api.cc,
SdsApi::onConfigUpdate): for a secret with no watched_directory of its own (a generic secret
has none), "Watch for directory instead of file. This allows users to do atomic renames on
directory level (e.g. Kubernetes secret update)": Envoy watches the directory holding the
secret's `filename` for Events::MovedTo, and SdsApi::onWatchUpdate re-reads the files, compares
their hash and runs the update callbacks; ThreadLocalGenericSecretProvider::update
(source/common/secret/secret_provider_impl.cc) re-reads the DataSource and hands the new value
to every worker, which the credential_injector's SDSSecretReader
(source/extensions/http/injected_credentials/common/secret_reader.h) returns per request.
Kubernetes publishes a new token by renaming `..data_tmp` over `..data` in that directory
(kubernetes pkg/volume/util/atomic_writer.go), a MovedTo there.

Envoy's config_dump redacts a generic secret's DataSource (the `filename` too) as it does every
field marked sensitive in the API (envoy/extensions/transport_sockets/tls/v3/secret.proto:
GenericSecret.secret is `[(udpa.annotations.sensitive) = true]`).
"""

import time

import requests
import yaml

from harness.bootstrap import validate
from harness.envoy import envoy_version
from harness.files import (
    AWS_CREDENTIALS,
    FILE_HEADER,
    FILES_CONFIG,
    LISTENER,
    WEB_IDENTITY_TOKEN,
    KubernetesTokenDir,
    render_files_config,
    shipped_cluster_port,
)
from harness.paths import REPO_ROOT

TOKEN_PATH = "/" + WEB_IDENTITY_TOKEN

ROTATION_WITHIN_SECONDS = 5.0
# What the credential_injector answers when it has no credential (the file missing or empty).
NO_CREDENTIAL_STATUS = 401
NO_CREDENTIAL_BODY = "Failed to inject credential."


def start(start_bootstrap, tmp_path, tokens: KubernetesTokenDir, name: str = "files"):
    config = render_files_config(
        {WEB_IDENTITY_TOKEN: tokens.token_path}, sds_dir=tmp_path / f"{name}-sds"
    )
    envoy = start_bootstrap(name, config)
    return envoy, envoy.listener_url(LISTENER) + TOKEN_PATH


def fetch(url: str, **headers) -> requests.Response:
    """The GET the filter's callout makes."""
    return requests.get(url, headers=headers, timeout=5)


def contents(answer: requests.Response) -> str | None:
    """The file's contents in a 200 answer (a JSON body, the local reply formatter's), None in
    any other."""
    if answer.status_code != 200:
        return None
    assert answer.headers["content-type"] == "application/json"
    return answer.json()["contents"]


def wait_for_token(url: str, token: str) -> float:
    """Seconds until the listener answers `token`; fails after ROTATION_WITHIN_SECONDS."""
    started = time.monotonic()
    last = None
    while time.monotonic() - started < ROTATION_WITHIN_SECONDS:
        last = fetch(url)
        if contents(last) == token:
            return time.monotonic() - started
        time.sleep(0.05)
    raise AssertionError(
        f"still {last.status_code} {contents(last)!r} {ROTATION_WITHIN_SECONDS}s after the rotation"
    )


def assert_no_credential(answer: requests.Response) -> None:
    assert answer.status_code == NO_CREDENTIAL_STATUS, answer.text
    assert answer.text == NO_CREDENTIAL_BODY
    assert FILE_HEADER not in answer.headers


def test_the_shipped_configuration_is_valid_as_is(tmp_path):
    """envoy/files.yaml unmodified, from the repository root as its comment says."""
    shipped = yaml.safe_load(FILES_CONFIG.read_text())
    checked = validate(shipped, tmp_path, cwd=REPO_ROOT)
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_the_shipped_cluster_calls_the_shipped_listener():
    """The filter's callout names the cluster; it must reach the listener above (checked here
    because the tests run the listener on a port the kernel picks)."""
    assert shipped_cluster_port() == 19101


def test_rotation_is_followed_without_restart_and_the_token_stays_out_of_logs_and_stats(
    start_bootstrap, tmp_path
):
    tokens = KubernetesTokenDir(tmp_path / "serviceaccount")
    tokens.write("first-token-1f0c")
    envoy, url = start(start_bootstrap, tmp_path, tokens)
    pid = envoy.pid

    answer = fetch(url)
    assert contents(answer) == "first-token-1f0c"
    assert FILE_HEADER not in answer.headers
    # A caller's own header is replaced (overwrite: true), never echoed.
    assert contents(fetch(url, **{FILE_HEADER: "forged"})) == "first-token-1f0c"
    assert fetch(url.replace(TOKEN_PATH, "/other")).status_code == 404

    seen = ["first-token-1f0c"]
    for token in ("second-token-7a2e", "third-token-c93d"):
        tokens.write(token)
        wait_for_token(url, token)
        seen.append(token)
    assert envoy.pid == pid and envoy.exit_code is None
    assert sorted(p.name for p in tokens.directory.iterdir()) == [
        "..2026_12_06_00_00_03.000",
        "..data",
        "token",
    ]

    stats = requests.get(f"{envoy.admin_url}/stats", timeout=5).text
    assert "sds.web-identity-token.update_success" in stats
    dump = requests.get(f"{envoy.admin_url}/config_dump", timeout=5).text
    assert '"filename": "[redacted]"' in dump
    log = envoy.log_text()
    for token in seen:
        assert token not in stats
        assert token not in dump
        assert token not in log


def test_file_missing_at_start_answers_401_and_what_follows_depends_on_the_release(
    start_bootstrap, tmp_path
):
    """Envoy starts without the file (the SDS update is rejected, the listener still serves)
    and the callout gets the credential_injector's 401. Then, seen on the two releases:
    1.40.0 reads the file at the next `..data` rename after it exists; 1.36.4 never does (its
    SdsApi::onConfigUpdate records the secret's hash before reading the files, so the file
    watch is never set up and re-reading the unchanged SDS file changes nothing): only a
    restart helps there. In a pod the kubelet mounts the projected volume before the
    container starts, so this is a wrong path or a missing volume, not a race."""
    tokens = KubernetesTokenDir(tmp_path / "serviceaccount")
    tokens.directory.mkdir()
    envoy, url = start(start_bootstrap, tmp_path, tokens)

    assert_no_credential(fetch(url))
    stats = envoy.stats()
    assert stats["sds.web-identity-token.update_rejected"] == 1
    assert stats["sds.web-identity-token.update_success"] == 0

    # The first publication creates `token` after renaming `..data`: Envoy's read at that
    # rename may find no file yet. The next rename finds it, where the watch exists.
    tokens.write("late-token-51b8")
    tokens.write("late-token-51b9")
    if envoy_version() >= (1, 40, 0):
        wait_for_token(url, "late-token-51b9")
    else:
        time.sleep(ROTATION_WITHIN_SECONDS)
        assert_no_credential(fetch(url))
        _restarted, restarted_url = start(start_bootstrap, tmp_path, tokens, name="restarted")
        assert contents(fetch(restarted_url)) == "late-token-51b9"
    assert envoy.exit_code is None


def test_empty_file_answers_401_until_it_holds_a_token(start_bootstrap, tmp_path):
    tokens = KubernetesTokenDir(tmp_path / "serviceaccount")
    tokens.write("")
    envoy, url = start(start_bootstrap, tmp_path, tokens)
    assert_no_credential(fetch(url))

    tokens.write("filled-token-0d4a")
    wait_for_token(url, "filled-token-0d4a")

    tokens.write("")
    deadline = time.monotonic() + ROTATION_WITHIN_SECONDS
    while fetch(url).status_code == 200 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert_no_credential(fetch(url))
    assert envoy.exit_code is None


def test_a_filename_through_data_is_not_followed(start_bootstrap, tmp_path):
    """Why envoy/files-sds/web-identity-token.yaml must name `<dir>/token`: with
    `<dir>/..data/token` Envoy watches the directory `..data` points to, which nothing is ever
    renamed into, and keeps the first token (this is also the failure the rotation test shows
    when broken that way)."""
    tokens = KubernetesTokenDir(tmp_path / "serviceaccount")
    tokens.write("first-token-6b1e")
    config = render_files_config(
        {WEB_IDENTITY_TOKEN: tokens.directory / "..data" / "token"},
        sds_dir=tmp_path / "through-data-sds",
    )
    envoy = start_bootstrap("through-data", config)
    url = envoy.listener_url(LISTENER) + TOKEN_PATH
    assert contents(fetch(url)) == "first-token-6b1e"

    tokens.write("second-token-6b1f")
    time.sleep(ROTATION_WITHIN_SECONDS)
    assert contents(fetch(url)) == "first-token-6b1e"


def test_a_token_ending_in_a_newline(start_bootstrap, tmp_path):
    """A file written by `echo` ends with a newline (a projected service-account token does
    not: the kubelet writes the JWT as the TokenRequest API returns it). 1.40.0 hands the
    secret over without it; 1.36.4 keeps it, and the JSON body carries it escaped (a header
    would not: 1.36.4 wrote it into a response header as is, a malformed answer the client
    waited on). The filter trims the tokens it reads."""
    tokens = KubernetesTokenDir(tmp_path / "serviceaccount")
    tokens.write("echoed-token-2c7a\n")
    envoy, url = start(start_bootstrap, tmp_path, tokens)
    expected = "echoed-token-2c7a" if envoy_version() >= (1, 40, 0) else "echoed-token-2c7a\n"
    assert contents(fetch(url)) == expected
    assert envoy.exit_code is None


def test_a_multi_line_file_with_quotes_and_backslashes_arrives_whole(start_bootstrap, tmp_path):
    """The shared credentials file: lines, quotes, backslashes, a value of 4 KiB, all escaped
    by the JSON formatter (json_format string values) and read back exactly; a second route
    serves it beside the token, each route enabling only its own injector."""
    tokens = KubernetesTokenDir(tmp_path / "serviceaccount")
    tokens.write("token-beside-3e1a")
    aws = KubernetesTokenDir(tmp_path / "aws")
    text = (
        "[default]\naws_access_key_id = AKIDEXAMPLE\n"
        'aws_secret_access_key = a"b\\c/d\n\n[other]\n'
        "aws_session_token = " + "t" * 4096 + "\n"
    )
    aws.write(text)
    config = render_files_config(
        {WEB_IDENTITY_TOKEN: tokens.token_path, AWS_CREDENTIALS: aws.token_path},
        sds_dir=tmp_path / "two-sds",
    )
    envoy = start_bootstrap("two-files", config)
    base = envoy.listener_url(LISTENER)
    got = contents(fetch(base + "/" + AWS_CREDENTIALS))
    # 1.40.0 trims the value's trailing whitespace; 1.36.4 keeps it.
    assert got in (text, text.rstrip("\n"))
    assert contents(fetch(base + TOKEN_PATH)) == "token-beside-3e1a"
    assert fetch(base + "/pod-identity-token").status_code == 404
