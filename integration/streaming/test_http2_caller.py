"""An HTTP/2 caller (curl, h2c with prior knowledge): a streamed answer arrives whole and
ends cleanly; a function failing mid-stream resets the HTTP/2 stream (`RST_STREAM`), where
over HTTP/1.1 the connection closes before the last chunk.

The reset's error code is Envoy's: 1.40.0 sends INTERNAL_ERROR (2), which curl reports as a
stream error; 1.36.4 sends NO_ERROR (0), which curl takes as the end of the answer (the
stream never had END_STREAM; a client must look at that to notice)."""

import re
import shutil
import subprocess

import pytest

from harness.event_stream import invoke_complete, payload_chunk, response_stream
from harness.paths import ENVOY_BINARY
from harness.streaming_lambda import StreamScript, Write

pytestmark = pytest.mark.skipif(shutil.which("curl") is None, reason="needs curl")
# curl's exit status for an HTTP/2 stream that was not closed cleanly.
CURL_HTTP2_STREAM_ERROR = 92
INTERNAL_ERROR, NO_ERROR = 2, 0


def envoy_version() -> tuple[int, int]:
    printed = subprocess.run([str(ENVOY_BINARY), "--version"], capture_output=True, text=True)
    major, minor = re.search(r"/(\d+)\.(\d+)\.\d+/", printed.stdout).groups()
    return int(major), int(minor)


def curl_http2(url: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["curl", "--http2-prior-knowledge", "-sS", "-X", "POST", "--data", "{}", url],
        capture_output=True,
        timeout=30,
    )


def test_a_streamed_answer_reaches_an_http2_caller(streaming_envoy):
    envoy, stand_in = streaming_envoy(StreamScript(writes=[Write(response_stream([b"a", b"b"]))]))

    done = curl_http2(envoy.url)

    assert (done.returncode, done.stdout) == (0, b"ab"), done
    stand_in.assert_one_good_request()


def test_a_function_failing_mid_stream_resets_the_http2_stream(streaming_envoy):
    script = StreamScript(
        writes=[Write(payload_chunk(b"begun")), Write(invoke_complete("Unhandled"), delay=0.3)]
    )
    envoy, _ = streaming_envoy(script, log_level="debug")

    done = curl_http2(envoy.url)

    assert done.stdout == b"begun", done
    envoy.stop()  # flushes its log
    sent = re.findall(r"sent reset code=(\d+)", envoy.log_text())
    assert len(sent) == 1, "no RST_STREAM sent"
    if envoy_version() >= (1, 40):
        assert (int(sent[0]), done.returncode) == (INTERNAL_ERROR, CURL_HTTP2_STREAM_ERROR), done
    else:
        assert (int(sent[0]), done.returncode) == (NO_ERROR, 0), done
