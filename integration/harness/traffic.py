"""A steady loop of requests through Envoy, recording what each one got and when."""

import threading
import time
from dataclasses import dataclass

from . import client


@dataclass(frozen=True)
class Outcome:
    number: int
    sent_at: float  # unix time
    elapsed: float  # seconds
    status: int | None  # None: no answer at all
    body: bytes
    error: str | None = None

    def __str__(self) -> str:
        what = self.error or f"{self.status} {self.body[:160]!r}"
        return f"#{self.number} at {self.sent_at:.3f} (+{self.elapsed:.3f}s): {what}"


def timed_call(
    base_url: str,
    number: int = 0,
    body: bytes | None = None,
    timeout: float = 15.0,
    chunk_size: int | None = None,
) -> Outcome:
    payload = body if body is not None else b'{"request": %d}' % number
    sent_at, start = time.time(), time.monotonic()
    try:
        answer = client.call(
            base_url, "POST", "/", body=payload, chunk_size=chunk_size, timeout=timeout
        )
    except (OSError, ConnectionError) as error:
        return Outcome(number, sent_at, time.monotonic() - start, None, b"", repr(error))
    return Outcome(number, sent_at, time.monotonic() - start, answer.status, answer.body)


class SteadyTraffic:
    """`with SteadyTraffic(url, interval) as traffic: ...`: one request every `interval`
    seconds on each of `streams` threads (one connection per request), until the block ends."""

    def __init__(self, base_url: str, interval: float = 0.1, streams: int = 1):
        self._url = base_url
        self._interval = interval
        self._streams = streams
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._outcomes: list[Outcome] = []
        self._numbers = iter(range(1, 10**9))
        self._threads: list[threading.Thread] = []

    def __enter__(self) -> "SteadyTraffic":
        for _ in range(self._streams):
            thread = threading.Thread(target=self._loop, daemon=True)
            thread.start()
            self._threads.append(thread)
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=30)

    def _loop(self) -> None:
        while not self._stop.is_set():
            with self._lock:
                number = next(self._numbers)
            outcome = timed_call(self._url, number)
            with self._lock:
                self._outcomes.append(outcome)
            self._stop.wait(self._interval)

    @property
    def outcomes(self) -> list[Outcome]:
        with self._lock:
            return sorted(self._outcomes, key=lambda o: o.sent_at)

    def describe(self) -> str:
        return "\n".join(str(o) for o in self.outcomes)

    def all_answered_200(self, more_than: int) -> list[Outcome]:
        """The outcomes, once asserted that there were more than `more_than`, each a 200."""
        outcomes = self.outcomes
        assert len(outcomes) > more_than, self.describe()
        failed = [str(o) for o in outcomes if o.status != 200]
        assert failed == [], "\n".join(failed)
        return outcomes
