"""Reading mesh-lambda's metrics from Envoy's admin endpoint. Each VM flushes what moved on its
timer (every second at the latest), so a reader waits for the values it expects."""

import time

import requests

from .envoy import EnvoyProcess

PREFIX = "wasmcustom.mesh_lambda."
FLUSH_WAIT_SECONDS = 5.0


def mesh_lambda_stats(envoy: EnvoyProcess) -> dict[str, int]:
    """The filter's counters and gauges, by name without the prefix."""
    return {n.removeprefix(PREFIX): v for n, v in envoy.stats().items() if n.startswith(PREFIX)}


def wait_until(
    envoy: EnvoyProcess, condition, timeout: float = FLUSH_WAIT_SECONDS
) -> dict[str, int]:
    """The metrics once `condition(metrics)` holds (or, after the wait, as they are, for the
    caller's assertion to show)."""
    deadline = time.monotonic() + timeout
    while True:
        stats = mesh_lambda_stats(envoy)
        if condition(stats) or time.monotonic() > deadline:
            return stats
        time.sleep(0.1)


def wait_for_metrics(envoy: EnvoyProcess, expected: dict[str, int]) -> dict[str, int]:
    """The metrics once every name in `expected` has its value."""
    return wait_until(envoy, lambda m: all(m.get(n) == v for n, v in expected.items()))


def moved(stats: dict[str, int]) -> dict[str, int]:
    """The counters that are not zero (gauges excluded)."""
    gauges = {
        "requests_in_flight",
        "credentials.expiry_seconds",
        "credentials.age_seconds",
        "vm_memory_bytes",
    }
    return {n: v for n, v in stats.items() if v and n not in gauges}


def payload_histogram(envoy: EnvoyProcess) -> dict:
    """The request payload histogram as Envoy's JSON stats give it, once Envoy has flushed
    histograms (every 5 s by default): its `supported_quantiles` and `computed_quantiles`."""
    deadline = time.monotonic() + 12.0
    while True:
        answer = requests.get(f"{envoy.admin_url}/stats?format=json&filter=request_payload_bytes")
        answer.raise_for_status()
        for entry in answer.json()["stats"]:
            histograms = entry.get("histograms")
            if not histograms:
                continue
            for h in histograms.get("computed_quantiles", []):
                if h["name"] == PREFIX + "request_payload_bytes" and h["values"][0]["cumulative"]:
                    return histograms
        if time.monotonic() > deadline:
            raise AssertionError("the payload histogram got no values")
        time.sleep(0.5)
