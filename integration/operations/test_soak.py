"""A load soak (issue 12 item 5): requests at a steady rate through Envoy (concurrency 2) to
moto by way of the capture hop (every signature verified), with credentials from the container
endpoint's stand-in that last 25 s (so they rotate every 10 s or so), and a sprinkling of
faults whose answer is known per request: bodies over `max_request_bytes` (413), Lambda
throttling (429), function errors (502), callers that leave mid-body, and now and then a
credential refresh that fails while the credentials in use are still valid (callers see
nothing).

One implementation, two durations: MESH_LAMBDA_SOAK_SECONDS (default 60, the test command's
short run); `./scripts/soak [SECONDS]` (default 600) runs this test for that long and prints
the figures. The default-Envoy pass only: skipped when MESH_LAMBDA_ENVOY is set, unless
MESH_LAMBDA_SOAK_SECONDS is too.

Windows: warm-up is the first WARMUP seconds (20 s short, 60 s long); "the end of warm-up"
is the WINDOW seconds before it (10 s short, 30 s long), "the end" is the last WINDOW seconds
of the load. Envoy's RSS (median of each window) must stay within 5 %. The VMs' linear memory
(vm_memory_bytes, which only grows, 64 KiB a page; the gauge is each worker VM's in turn) may
take at most one page more than its warm-up maximum: a VM whose heap sits near a page's end
takes one more page at its largest burst of requests in flight, whenever that comes (seen in
two 60 s runs: one VM going from 17 to 18 pages, at 23.5 s and at 47.5 s, flat after), while a
leak keeps adding pages (25 bytes a request is more than a page in the short run's 2,700).
"""

import itertools
import os
import statistics
import time
from collections import Counter
from datetime import UTC, datetime

import pytest

from harness.capture import CannedResponse
from harness.envoy import plugin_configuration
from harness.metrics import moved, wait_for_metrics, wait_until
from harness.soak import (
    EXPECTED_STATUS,
    MemorySampler,
    PacedLoad,
    RefreshFailures,
    kind_of,
    marker,
    number_in,
    send_planned,
)

SECONDS = float(os.environ.get("MESH_LAMBDA_SOAK_SECONDS", "60"))
RATE = 45.0  # requests per second, overall
CALLERS = 6  # threads; each request on its own connection (no keep-alive)
MAX_REQUEST_BYTES = 8192
LIFETIME_SECONDS = 25  # of the credentials the stand-in hands out
MARGIN_SECONDS = 15  # refreshed 15 s before expiry: every 10 s
# One failed refresh every 30 s from 15 s on, each at least 20 s before the end (a refresh
# comes within 10 s).
REFRESH_FAILURES = [15.0 + 30 * i for i in range(int(SECONDS // 30)) if 15 + 30 * i <= SECONDS - 20]
WARMUP = max(20.0, min(60.0, SECONDS / 10))
WINDOW = max(10.0, min(30.0, SECONDS / 20))
RSS_LIMIT_PCT = 5.0
WASM_PAGE = 65536  # bytes: linear memory grows by whole pages

pytestmark = pytest.mark.skipif(
    bool(os.environ.get("MESH_LAMBDA_ENVOY")) and "MESH_LAMBDA_SOAK_SECONDS" not in os.environ,
    reason="the soak runs in the default Envoy's pass only (a minute is enough once)",
)

THROTTLED = CannedResponse(
    429,
    [
        ("Content-Type", "application/json"),
        ("x-amzn-ErrorType", "TooManyRequestsException"),
        ("Retry-After", "1"),
    ],
    b'{"message":"Rate exceeded","Reason":"ReservedFunctionConcurrentInvocationLimitExceeded"}',
)
FUNCTION_ERROR = CannedResponse(
    200,
    [("Content-Type", "application/json"), ("X-Amz-Function-Error", "Unhandled")],
    b'{"errorMessage":"soak","errorType":"Error"}',
)


def median_rss(samples, start: float, end: float) -> float:
    return statistics.median(s.rss_kib for s in samples if start <= s.t <= end)


def test_soak(aws, capture, start_envoy, container_endpoint):
    container_endpoint.lifetime_seconds = LIFETIME_SECONDS
    capture.answer_marked(marker("throttled"), THROTTLED)
    capture.answer_marked(marker("function_error"), FUNCTION_ERROR)
    configuration = plugin_configuration(
        arn=aws.function_arn,
        payload_passthrough=True,
        max_request_bytes=MAX_REQUEST_BYTES,
        credentials={"provider": "container", "refresh_margin_seconds": MARGIN_SECONDS},
    )
    envoy = start_envoy(configuration, concurrency=2, **container_endpoint.envoy_settings())

    sampler = MemorySampler(envoy).start()
    hiccups = RefreshFailures(container_endpoint, REFRESH_FAILURES).start()
    load = PacedLoad(envoy.url, RATE, CALLERS, SECONDS, send_planned(MAX_REQUEST_BYTES)).run()
    elapsed = time.monotonic() - load.started
    hiccups.stop()
    final = wait_until(envoy, lambda m: m.get("requests_in_flight") == 0)
    sampler.stop()
    samples = sampler.samples

    # Every request got what its kind gets.
    outcomes = load.outcomes
    sent = Counter(kind_of(o.number) for o in outcomes)
    unexpected = [
        f"{kind_of(o.number)}: {o}"
        for o in outcomes
        if o.status != EXPECTED_STATUS[kind_of(o.number)]
    ]
    statuses = Counter(o.status for o in outcomes)

    # Every request that reached the Lambda side was signed with valid credentials, once.
    seen = capture.requests
    bad = [r.describe() for r in seen if not r.verdict.ok or r.credentials_expired]
    reached = sorted(number_in(r.body) for r in seen)
    should_reach = sorted(
        o.number for o in outcomes if kind_of(o.number) in ("ok", "throttled", "function_error")
    )
    keys_used = {r.access_key_id for r in seen}

    documents = container_endpoint.documents()
    gaps = [round(b.at - a.at, 1) for a, b in itertools.pairwise(documents)]
    load_end = elapsed
    base = median_rss(samples, WARMUP - WINDOW, WARMUP)
    end = median_rss(samples, load_end - WINDOW, load_end)
    after_warmup = [s for s in samples if WARMUP <= s.t <= load_end]
    peak = max(s.rss_kib for s in after_warmup)
    drift_pct = (end - base) * 100 / base
    peak_pct = (peak - base) * 100 / base
    vm_warmup = {s.vm_memory_bytes for s in samples if s.t < WARMUP}
    vm_after = {s.vm_memory_bytes for s in after_warmup}

    print(
        f"\nsoak {datetime.now(UTC):%Y-%m-%d %H:%M} UTC: {SECONDS:.0f} s planned, "
        f"{len(outcomes)} requests in {elapsed:.1f} s ({len(outcomes) / elapsed:.1f} req/s, "
        f"target {RATE:.0f}; {CALLERS} callers, one connection per request; latest start "
        f"{max(load.late):.2f} s behind schedule)"
    )
    print(f"  sent by kind: {dict(sent)}")
    print(f"  statuses: {dict(statuses)}; unexpected: {len(unexpected)}")
    print(f"  reached the Lambda side: {len(seen)}, all verified: {not bad}")
    print(
        f"  credentials: {len(documents)} documents served, {len(keys_used)} keys used "
        f"({len(keys_used) - 1} rotations), refresh failures at {hiccups.failed_at} s, "
        f"gaps between fetches {sorted(set(gaps))} s"
    )
    print(
        f"  Envoy RSS: end of warm-up ({WARMUP - WINDOW:.0f}-{WARMUP:.0f} s) "
        f"{base / 1024:.1f} MiB, "
        f"end ({load_end - WINDOW:.0f}-{load_end:.0f} s) {end / 1024:.1f} MiB, "
        f"max after warm-up {peak / 1024:.1f} MiB; drift {drift_pct:+.2f} %, peak {peak_pct:+.2f} %"
    )
    print(f"  vm_memory_bytes: during warm-up {sorted(vm_warmup)}, after {sorted(vm_after)}")
    print(f"  requests_in_flight at the end: {final.get('requests_in_flight')}")
    print("  series (t s, RSS KiB, heap allocated B, vm_memory_bytes, in flight):")
    step = max(1, len(samples) // 60)
    for s in samples[::step]:
        print(
            f"    {s.t:7.1f} {s.rss_kib:7d} {s.heap_allocated:10d} {s.vm_memory_bytes} "
            f"{s.in_flight}"
        )

    assert unexpected == [], "\n".join(unexpected[:50])
    assert len(outcomes) == int(SECONDS * RATE)
    assert len(outcomes) / elapsed >= 0.9 * RATE, "the load fell behind its rate"
    assert bad == [], "\n\n".join(bad[:5])
    assert reached == should_reach
    assert keys_used <= {m.credentials.access_key_id for m in container_endpoint.served}
    assert len(keys_used) - 1 >= SECONDS // 12, f"too few rotations: {len(keys_used)} keys"
    # Each refresh 10 s after the last (9 to 12 with the whole-second Expiration, the timer
    # and a failed attempt's 1 s backoff); each failure one request at the endpoint.
    assert all(8.5 <= g <= 12.5 for g in gaps), gaps
    assert len(hiccups.failed_at) == len(REFRESH_FAILURES), hiccups.failed_at

    # The memory: Envoy's flat within 5 %, the VMs' at most a page over warm-up, nothing left.
    assert abs(drift_pct) <= RSS_LIMIT_PCT
    assert None not in vm_after, vm_after
    assert max(vm_after) <= max(vm_warmup) + WASM_PAGE, (vm_warmup, vm_after)
    assert final.get("requests_in_flight") == 0, final

    # The counters agree with what was sent.
    expected = {
        "invocations.synchronous": sent["ok"] + sent["throttled"] + sent["function_error"],
        "payload_too_large": sent["too_large"],
        "lambda_errors.throttled": sent["throttled"],
        "function_errors": sent["function_error"],
        "credential_fetches.container": len(documents),
        "credential_fetch_failures.container": len(hiccups.failed_at),
    }
    stats = wait_for_metrics(envoy, expected)
    print(f"  counters: {moved(stats)}")
    waits = {n: v for n, v in moved(stats).items() if n.startswith("credentials_wait.")}
    others = {n: v for n, v in moved(stats).items() if n not in expected and n not in waits}
    assert {n: stats.get(n, 0) for n in expected} == expected
    assert others == {}, others
    # Only the first requests, if any, waited for the first fetch; all were signed.
    assert waits.get("credentials_wait.started", 0) == waits.get("credentials_wait.signed", 0)
