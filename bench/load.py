"""Load: wrk against each variant's own Envoy, variants interleaved over rounds."""

import resource
import time
from pathlib import Path

import envoys as E
from common import LOAD_CPU, PROXY_CPU, RQ_REGEX, SIZES, log, median, probe, proc_cpu, wrk


def children_cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def cell(
    proxy: E.Envoy, fake_pid: int, variant: str, size: int, connections: int, seconds: float
) -> dict:
    """One measurement: wrk against one variant for `seconds`, with the proxy's CPU and its
    response-class counters read around it (and the load core's CPU: fake Lambda + wrk)."""
    before = proxy.counters(RQ_REGEX)
    cpu0 = proc_cpu(proxy.pid)
    fake0 = proc_cpu(fake_pid)["schedstat_seconds"]
    wrk0 = children_cpu_s()
    t0 = time.monotonic()
    result = wrk(proxy.url(variant), size, connections, seconds)
    elapsed = time.monotonic() - t0
    wrk_s = children_cpu_s() - wrk0
    fake_s = proc_cpu(fake_pid)["schedstat_seconds"] - fake0
    cpu1 = proc_cpu(proxy.pid)
    after = proxy.counters(RQ_REGEX)
    delta = {k.rsplit("_", 1)[1]: after.get(k, 0) - before.get(k, 0) for k in after}
    requests = result["requests"]
    seen_by_proxy = delta.get("total", 0)
    non_2xx = sum(delta.get(c, 0) for c in ("1xx", "3xx", "4xx", "5xx"))
    errors = result["errors"]
    cpu_s = cpu1["seconds"] - cpu0["seconds"]
    sched_s = cpu1["schedstat_seconds"] - cpu0["schedstat_seconds"]
    ok = (
        requests > 0
        and non_2xx == 0
        and errors["status"] == 0
        and errors["timeout"] == 0
        and delta.get("2xx", 0) >= requests
    )
    return {
        "rps": requests / (result["duration_us"] / 1e6),
        "requests": requests,
        "proxy_requests": seen_by_proxy,
        "proxy_2xx": delta.get("2xx", 0),
        "proxy_non_2xx": non_2xx,
        "wrk_errors": errors,
        "latency_us": result["latency_us"],
        "proxy_cpu_s": cpu_s,
        "proxy_cpu_schedstat_s": sched_s,
        "proxy_cpu_share": sched_s / elapsed if elapsed > 0 else None,
        "load_core_share": (fake_s + wrk_s) / elapsed if elapsed > 0 else None,
        "cpu_us_per_req": cpu_s * 1e6 / seen_by_proxy if seen_by_proxy else None,
        "cpu_us_per_req_schedstat": sched_s * 1e6 / seen_by_proxy if seen_by_proxy else None,
        "ok": ok,
    }


def summarize_load(cells: dict, variants: list[str], sizes: list[str]) -> dict:
    """Per variant and size: medians over rounds, added CPU over `none`, ratios."""
    summary = {}
    for size in sizes:
        rows = {}
        for v in variants:
            cs = cells[v][size]
            rows[v] = {
                "rounds": len(cs),
                "all_2xx": all(c["ok"] for c in cs),
                "rps": median([c["rps"] for c in cs]),
                "p50_us": median([c["latency_us"]["p50"] for c in cs]),
                "p99_us": median([c["latency_us"]["p99"] for c in cs]),
                "cpu_us_per_req": median([c["cpu_us_per_req"] for c in cs]),
                "cpu_us_per_req_schedstat": median([c["cpu_us_per_req_schedstat"] for c in cs]),
                "proxy_cpu_share": median([c["proxy_cpu_share"] for c in cs]),
                "load_core_share": median([c.get("load_core_share") for c in cs]),
            }
        base = rows.get("none")
        native = rows.get("native")
        for v, row in rows.items():
            for key in ("cpu_us_per_req", "cpu_us_per_req_schedstat"):
                added = f"added_{key}"
                row[added] = (
                    row[key] - base[key]
                    if base and row[key] is not None and base[key] is not None
                    else None
                )
            row["rps_vs_none"] = row["rps"] / base["rps"] if base and base["rps"] else None
            row["rps_vs_native"] = row["rps"] / native["rps"] if native and native["rps"] else None
            # Paired per-round ratios: less sensitive to drift over the run.
            for ref_name, key in (
                ("native", "paired_rps_vs_native"),
                ("none", "paired_rps_vs_none"),
            ):
                ref = cells.get(ref_name, {}).get(size)
                row[key] = (
                    median(
                        [
                            a["rps"] / b["rps"]
                            for a, b in zip(cells[v][size], ref, strict=True)
                            if b["rps"]
                        ]
                    )
                    if ref
                    else None
                )
        for row in rows.values():
            n_added = native["added_cpu_us_per_req"] if native else None
            row["added_cpu_vs_native"] = (
                row["added_cpu_us_per_req"] / n_added
                if n_added and row["added_cpu_us_per_req"] is not None
                else None
            )
        summary[size] = rows
    return summary


def run_load(args, binary: str, workdir: Path, fake: E.Envoy, variants: list[str]) -> dict:
    fake_port = fake.ports["fake_lambda"]
    proxies = {}
    try:
        for v in variants:
            token = E.VARIANTS[v][2]
            proxies[v] = E.Envoy(
                binary,
                workdir / f"load-{v}",
                E.proxy_config([v], fake_port),
                E.environment(session_token=token),
                cpus=PROXY_CPU,
            )
            proxies[v].launch()
            proxies[v].wait_ready(timeout=60)  # one at a time: they share core 0
        probes = {v: probe(v, p.url(v)) for v, p in proxies.items()}
        for v, p in probes.items():
            log(
                f"probe {v}: {'ok' if p['ok'] else 'FAILED ' + '; '.join(p['problems'])}"
                f" (authorization: {p['seen'].get('authorization', '-')[:60]}...)"
            )
        if not all(p["ok"] for p in probes.values()):
            raise RuntimeError("a variant does not send what it should; see the probe lines")

        sizes = list(args.sizes)
        conns = {s: (args.connections_1mb if s == "1MB" else args.connections) for s in sizes}
        if args.warmup > 0:
            log(f"warm-up: {args.warmup}s per variant and size")
            for size in sizes:
                for v in variants:
                    wrk(proxies[v].url(v), SIZES[size], conns[size], args.warmup)
        cells = {v: {s: [] for s in sizes} for v in variants}
        for r in range(args.rounds):
            for size in sizes:
                for v in variants:
                    c = cell(proxies[v], fake.pid, v, SIZES[size], conns[size], args.duration)
                    cells[v][size].append(c)
                    flag = "" if c["ok"] else "  NOT ALL 2xx!"
                    log(
                        f"round {r + 1}/{args.rounds} {size:>4} {v:<16} {c['rps']:9.0f} req/s "
                        f"p99 {c['latency_us']['p99'] / 1000:7.2f} ms  "
                        f"cpu {c['cpu_us_per_req'] or 0:7.1f} us/req{flag}"
                    )
        for v, p in proxies.items():
            if p.process.poll() is not None:
                raise RuntimeError(f"proxy {v} died during the run; see {p.workdir}")
        return {
            "settings": {
                "rounds": args.rounds,
                "seconds_per_cell": args.duration,
                "warmup_seconds": args.warmup,
                "connections": conns,
                "wrk_threads": 1,
                "sizes_bytes": {s: SIZES[s] for s in sizes},
                "proxy_cpu": PROXY_CPU,
                "load_and_fake_cpu": LOAD_CPU,
            },
            "probes": probes,
            "cells": cells,
            "summary": summarize_load(cells, variants, sizes),
        }
    finally:
        for p in proxies.values():
            p.stop()
