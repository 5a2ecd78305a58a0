"""The pieces of a load soak: a plan that says what each request is (most ordinary, a
sprinkling of faults whose answer is known in advance), callers that keep a steady rate,
a caller that goes away mid-body, credential refreshes made to fail now and then, and the
proxy's memory sampled while it runs."""

import random
import socket
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import requests

from .envoy import EnvoyProcess
from .metadata import ContainerCredentialsEndpoint
from .metrics import PREFIX
from .traffic import Outcome, timed_call

# What each kind of request is answered (None: the caller leaves before any answer).
EXPECTED_STATUS = {
    "ok": 200,
    "too_large": 413,
    "throttled": 429,
    "function_error": 502,
    "disconnect": None,
}
# In every 100 requests: 2 too large, 2 throttled, 2 function errors, 1 caller gone.
_FAULTS = {7: "too_large", 57: "too_large", 19: "throttled", 69: "throttled"}
_FAULTS |= {31: "function_error", 81: "function_error", 43: "disconnect"}


def kind_of(number: int) -> str:
    return _FAULTS.get(number % 100, "ok")


def marker(kind: str) -> bytes:
    """What a request's body carries so the capture hop knows which answer it gets."""
    return b'"kind": "%s"' % kind.encode()


def body_of(number: int, max_request_bytes: int) -> bytes:
    """A JSON body naming the request and its kind; sizes vary (up to 1.4 KB), and a
    `too_large` one is just over the limit."""
    kind = kind_of(number)
    head = b'{"soak": %d, %s, "pad": "' % (number, marker(kind))
    size = max_request_bytes + 1 + number % 50 if kind == "too_large" else 100 + number % 7 * 200
    return head + b"x" * max(0, size - len(head) - 2) + b'"}'


def number_in(body: bytes) -> int:
    """The request number a body names (see body_of)."""
    return int(body.split(b'"soak": ', 1)[1].split(b",", 1)[0])


def disconnect_mid_body(base_url: str, number: int, body: bytes) -> Outcome:
    """Sends the headers and half the body, then closes the connection: a caller gone."""
    address = urlsplit(base_url)
    head = (
        f"POST / HTTP/1.1\r\nHost: {address.netloc}\r\nContent-Length: {len(body)}\r\n"
        "Connection: close\r\n\r\n"
    ).encode()
    sent_at, start = time.time(), time.monotonic()
    try:
        with socket.create_connection((address.hostname, address.port), timeout=5) as sock:
            sock.sendall(head + body[: len(body) // 2])
            time.sleep(0.05)
    except OSError as error:
        return Outcome(number, sent_at, time.monotonic() - start, None, b"", repr(error))
    return Outcome(number, sent_at, time.monotonic() - start, None, b"", "left mid-body")


class PacedLoad:
    """`PacedLoad(url, rate, callers, seconds, send).run()`: requests numbered 1, 2, ... at
    `rate` per second overall, request n due at (n - 1) / rate seconds after the start,
    spread over `callers` threads (each request on its own connection), until the last is
    answered. A caller behind its schedule sends at once; `late` holds how late each left."""

    def __init__(self, base_url: str, rate: float, callers: int, seconds: float, send):
        self._url = base_url
        self.rate = rate
        self._callers = callers
        self._total = int(seconds * rate)
        self._send = send  # send(base_url, number) -> Outcome
        self._lock = threading.Lock()
        self._outcomes: list[Outcome] = []
        self.late: list[float] = []
        self._threads: list[threading.Thread] = []
        self.started = 0.0

    def run(self) -> "PacedLoad":
        self.started = time.monotonic()
        for first in range(1, self._callers + 1):
            thread = threading.Thread(target=self._loop, args=(first,), daemon=True)
            thread.start()
            self._threads.append(thread)
        for thread in self._threads:
            thread.join()
        return self

    def _loop(self, first: int) -> None:
        for number in range(first, self._total + 1, self._callers):
            due = self.started + (number - 1) / self.rate
            now = time.monotonic()
            if now < due:
                time.sleep(due - now)
            late = max(0.0, time.monotonic() - due)
            outcome = self._send(self._url, number)
            with self._lock:
                self._outcomes.append(outcome)
                self.late.append(late)

    @property
    def outcomes(self) -> list[Outcome]:
        with self._lock:
            return sorted(self._outcomes, key=lambda o: o.number)


def send_planned(max_request_bytes: int):
    """send(base_url, number) for PacedLoad: each request as its kind wants it (every other
    too-large body chunked, so the limit is met while buffering as well as at the headers)."""

    def send(base_url: str, number: int) -> Outcome:
        kind, body = kind_of(number), body_of(number, max_request_bytes)
        if kind == "disconnect":
            return disconnect_mid_body(base_url, number, body)
        chunked = kind == "too_large" and number // 100 % 2 == 1
        return timed_call(base_url, number, body, chunk_size=4096 if chunked else None)

    return send


class _Background:
    """A daemon thread running `_run` from `start()` until `stop()` (`_stop` is set)."""

    def __init__(self):
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._started = 0.0

    def start(self):
        self._started = time.monotonic()
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=60)

    def _run(self) -> None:
        raise NotImplementedError


class RefreshFailures(_Background):
    """Makes one credential refresh fail at each of `at_seconds` (after `start()`): the
    stand-in answers 500 until it has answered one request so, then serves again. The
    credentials in use are still valid, so callers must see nothing."""

    def __init__(self, endpoint: ContainerCredentialsEndpoint, at_seconds: list[float]):
        super().__init__()
        self._endpoint = endpoint
        self._at = at_seconds
        self.failed_at: list[float] = []  # seconds after start of each failed refresh

    def stop(self) -> None:
        super().stop()
        self._endpoint.come_back()

    def _failures(self) -> int:
        return sum(1 for r in self._endpoint.requests if r.status == 500)

    def _run(self) -> None:
        for at in self._at:
            if self._stop.wait(max(0.0, self._started + at - time.monotonic())):
                return
            before = self._failures()
            self._endpoint.go_down("error")
            while self._failures() == before and not self._stop.wait(0.02):
                pass
            self._endpoint.come_back()
            if self._failures() > before:
                self.failed_at.append(round(time.monotonic() - self._started, 1))


def rss_kib(pid: int) -> int:
    """The process's resident set (VmRSS), KiB."""
    status = Path(f"/proc/{pid}/status").read_text()
    return int(status.split("VmRSS:", 1)[1].split()[0])


@dataclass(frozen=True)
class Sample:
    t: float  # seconds since the sampler started
    rss_kib: int  # Envoy's VmRSS
    heap_allocated: int  # admin /memory: bytes tcmalloc has handed out
    vm_memory_bytes: int | None  # the gauge: the last VM's report
    in_flight: int | None


class MemorySampler(_Background):
    """Samples Envoy's RSS, its heap and the filter's two gauges about every `interval`
    seconds (jittered, so the VMs' once-a-second reports are not always caught in the same
    order) until `stop()`."""

    def __init__(self, envoy: EnvoyProcess, interval: float = 1.0):
        super().__init__()
        self._envoy = envoy
        self._interval = interval
        self.samples: list[Sample] = []

    def _run(self) -> None:
        jitter = random.Random(12)
        while True:
            self.samples.append(self._sample())
            if self._stop.wait(self._interval * jitter.uniform(0.5, 1.5)):
                return

    def _sample(self) -> Sample:
        admin = self._envoy.admin_url
        heap = requests.get(f"{admin}/memory", timeout=5).json()
        answer = requests.get(
            f"{admin}/stats?format=json&filter=vm_memory_bytes|requests_in_flight", timeout=5
        )
        gauges = {s["name"].removeprefix(PREFIX): s.get("value") for s in answer.json()["stats"]}
        return Sample(
            round(time.monotonic() - self._started, 2),
            rss_kib(self._envoy.pid),
            int(heap.get("allocated", 0)),
            gauges.get("vm_memory_bytes"),
            gauges.get("requests_in_flight"),
        )
