"""A 50 MB streamed answer through a real Envoy: every byte arrives (hash), and Envoy's memory
stays bounded while it passes (the filter keeps at most one unfinished frame; nothing of the
answer is buffered whole)."""

import hashlib
import threading

from harness import client
from harness.event_stream import invoke_complete, payload_chunk, response_stream
from harness.metrics import wait_for_metrics
from harness.soak import rss_kib
from harness.streaming_lambda import StreamScript, Write

TOTAL_BYTES = 50 * 1024 * 1024
FRAME_PAYLOAD_BYTES = 64 * 1024 + 17  # frames straddle Envoy's reads
RSS_GROWTH_LIMIT_KIB = 32 * 1024
# The VM reads a large body part a window (64 KiB) at a time: its linear memory stays small
# however much Envoy hands over at once (up to the cluster's 7 MiB buffer limit).
VM_MEMORY_LIMIT_BYTES = 4 * 1024 * 1024


def payloads():
    """TOTAL_BYTES of varied bytes, cut into frames' payloads."""
    block = hashlib.sha512(b"seed").digest() * (FRAME_PAYLOAD_BYTES // 64 + 1)
    sent = 0
    index = 0
    while sent < TOTAL_BYTES:
        size = min(FRAME_PAYLOAD_BYTES, TOTAL_BYTES - sent)
        rotate = index % 64
        yield (block[rotate:] + block[:rotate])[:size]
        sent += size
        index += 1


class PeakRss(threading.Thread):
    def __init__(self, pid: int):
        super().__init__(daemon=True)
        self.pid, self.peak_kib, self.done = pid, rss_kib(pid), threading.Event()

    def run(self):
        while not self.done.wait(0.05):
            self.peak_kib = max(self.peak_kib, rss_kib(self.pid))


def test_fifty_megabytes_stream_through_with_memory_bounded(streaming_envoy):
    expected = hashlib.sha256()
    writes = []
    for payload in payloads():
        expected.update(payload)
        writes.append(Write(payload_chunk(payload)))
    writes.append(Write(invoke_complete()))
    # One small answer first, so that the baseline has the VM's first stream and the upstream
    # connection behind it.
    envoy, stand_in = streaming_envoy(StreamScript(writes=[Write(response_stream([b"warm"]))]))
    warm = client.stream(envoy.url, b"{}")
    assert (warm.failure, warm.body) == (None, b"warm"), warm
    stand_in.script = StreamScript(writes=writes)
    baseline_kib = rss_kib(envoy.pid)
    sampler = PeakRss(envoy.pid)
    sampler.start()

    got = client.stream(envoy.url, b"{}", timeout=120)

    sampler.done.set()
    sampler.join()
    assert got.failure is None, got
    assert len(got.body) == TOTAL_BYTES
    assert hashlib.sha256(got.body).hexdigest() == expected.hexdigest()
    growth_kib = sampler.peak_kib - baseline_kib
    assert growth_kib < RSS_GROWTH_LIMIT_KIB, (baseline_kib, sampler.peak_kib)
    print(f"Envoy RSS {baseline_kib} KiB before, peak {sampler.peak_kib} KiB while streaming")
    assert len(stand_in.requests) == 2, stand_in.describe()
    assert all(r.verdict.ok for r in stand_in.requests), stand_in.describe()
    stats = wait_for_metrics(envoy, {"invocations.streaming": 2, "stream_errors.broken": 0})
    assert 0 < stats["vm_memory_bytes"] < VM_MEMORY_LIMIT_BYTES, stats
