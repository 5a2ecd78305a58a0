"""A Lambda stand-in for `InvokeWithResponseStream`: where Envoy's Lambda cluster points when a
test needs a streamed answer made of real event-stream frames.

It speaks HTTP/1.1 over raw sockets, records every request as it arrived and checks its
signature with botocore (`sigv4_check`) and its path, then plays the test's `StreamScript`:
a status line and headers, then the body as the script's writes (each its own HTTP chunk,
after its delay), then the end the script chose: the last chunk (`complete`), a close
without it (`cut`), or nothing more while the connection stays open (`hang`, until the test
stops the stand-in). When each write went out is recorded, for the tests of timing.

The frames are made with `event_stream` (checked against botocore's parser in
`harness_checks`); `split_at_random` cuts them at arbitrary byte boundaries.
"""

import itertools
import random
import socket
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from urllib.parse import quote

from .aws import AwsCredentials
from .raw_lambda import RawLambda, RecordedRequest

ENDS = ("complete", "cut", "hang")


def streaming_path(function_arn: str, qualifier: str | None = None) -> str:
    """The `InvokeWithResponseStream` path Lambda serves for the function."""
    path = f"/2021-11-15/functions/{quote(function_arn, safe='')}/response-streaming-invocations"
    return path if qualifier is None else f"{path}?Qualifier={quote(qualifier, safe='')}"


@dataclass(frozen=True)
class Write:
    """Bytes of the body, sent `delay` seconds after the previous write."""

    data: bytes
    delay: float = 0.0


@dataclass(frozen=True)
class StreamScript:
    status: int = 200
    headers: Sequence[tuple[str, str]] = (("Content-Type", "application/octet-stream"),)
    writes: Sequence[Write] = ()
    end: str = "complete"
    # The body with a Content-Length instead of chunks (an error before the stream, or a
    # buffered answer).
    whole_body: bytes | None = None
    # Seconds before the status line (a buffered answer waits for the whole result).
    head_delay: float = 0.0


def split_at_random(data: bytes, seed: int, parts: int, delay: float = 0.005) -> list[Write]:
    """`data` cut at `parts - 1` random byte boundaries (seeded), each part its own write a
    little apart, so that Envoy reads them separately."""
    cuts = sorted(random.Random(seed).sample(range(1, len(data)), min(parts - 1, len(data) - 1)))
    bounds = [0, *cuts, len(data)]
    return [Write(data[a:b], delay) for a, b in itertools.pairwise(bounds)]


@dataclass
class Played:
    """When each write of the script went out (`time.monotonic()`), and when the answer ended."""

    writes: list[float] = field(default_factory=list)
    ended: float | None = None


class StreamingLambda(RawLambda):
    """`StreamingLambda(credentials, region, expected_path, script).start()`; point Envoy's
    Lambda cluster at `port`; read `requests` and `played` (one per request)."""

    NAME = "the streaming Lambda"

    def __init__(
        self,
        credentials_by_access_key: Mapping[str, AwsCredentials],
        region: str,
        expected_path: str,
        script: StreamScript,
    ):
        assert script.end in ENDS, script.end
        self.script = script
        self.expected_path = expected_path
        self._played: list[Played] = []
        super().__init__(credentials_by_access_key, region)

    @property
    def played(self) -> list[Played]:
        with self._lock:
            return list(self._played)

    def assert_one_good_request(self) -> RecordedRequest:
        """Exactly one request came, signed correctly, to the streaming path."""
        seen = self.requests
        assert len(seen) == 1, self.describe()
        request = seen[0]
        assert request.verdict.ok, request.describe()
        assert request.target == self.expected_path, request.describe()
        assert request.method == "POST", request.describe()
        assert request.header("x-amz-invocation-type") == "RequestResponse", request.describe()
        return request

    def _respond(self, connection: socket.socket, request: RecordedRequest) -> None:
        played = Played()
        with self._lock:
            self._played.append(played)
        self._play(connection, played)

    def _play(self, connection: socket.socket, played: Played) -> None:
        script = self.script
        connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        lines = [f"HTTP/1.1 {script.status} Status", *(f"{n}: {v}" for n, v in script.headers)]
        if script.whole_body is not None:
            lines.append(f"Content-Length: {len(script.whole_body)}")
        else:
            lines.append("Transfer-Encoding: chunked")
        lines.append("Connection: close")
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
        if script.head_delay and self._released.wait(script.head_delay):
            return
        if script.whole_body is not None:
            connection.sendall(head + script.whole_body)
            played.ended = time.monotonic()
            return
        connection.sendall(head)
        for write in script.writes:
            if write.delay and self._released.wait(write.delay):
                return
            connection.sendall(b"%x\r\n%s\r\n" % (len(write.data), write.data))
            played.writes.append(time.monotonic())
        if script.end == "complete":
            connection.sendall(b"0\r\n\r\n")
        elif script.end == "hang":
            self._released.wait(60)
        played.ended = time.monotonic()
