"""VM start time, and the memory soak."""

import json
import re
import threading
import time
from datetime import datetime
from pathlib import Path

import envoys as E
from common import PROXY_CPU, RQ_REGEX, SIZES, median, probe, rss_kib, wrk


def run_vm_start(args, binary: str, workdir: Path, fake_port: int) -> dict:
    """Launch-to-ready of an Envoy with mesh-lambda minus one without (interleaved, medians),
    and the wasm start-up lines Envoy logs."""
    times = {"none": [], "mesh-sync": []}
    from_log = []
    for i in range(args.vm_start_repeats):
        for v in times:
            proxy = E.Envoy(
                binary,
                workdir / f"start-{v}-{i}",
                E.proxy_config([v], fake_port),
                E.environment(),
                cpus=PROXY_CPU,
                log_level="info",
            )
            try:
                proxy.launch()
                times[v].append(proxy.wait_ready(timeout=60))
                # The filter must really be there and working, or the time means nothing.
                if not probe(v, proxy.url(v))["ok"]:
                    raise RuntimeError(f"vm start: {v} not working")
            finally:
                proxy.stop()
            if v != "none":
                from_log.append(vm_times_from_log(proxy.log_text()))
    none_s = median(times["none"])
    mesh_s = median(times["mesh-sync"])
    return {
        "repeats": args.vm_start_repeats,
        "ready_seconds": times,
        "median_ready_none_s": none_s,
        "median_ready_mesh_s": mesh_s,
        "vm_start_s": mesh_s - none_s,
        "log": from_log,
        "median_first_vm_from_log_s": median([t.get("first_vm_s") for t in from_log]),
        "median_worker_vm_from_log_s": median([t.get("worker_vm_s") for t in from_log]),
    }


LOG_TIME = re.compile(r"^\[(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3})\]\[(\d+)\]")


def vm_times_from_log(text: str) -> dict:
    """From Envoy's info log: "loading N listener(s)" (the filter's configuration, and with it
    the first VM, is created right after) to the plugin's first "starting" line (the module
    compiled and the first VM up), and the worker thread's VM (a clone) from "starting
    workers" to its "starting" line."""

    def stamp(line):
        m = LOG_TIME.match(line)
        return (
            (datetime.strptime(m.group(1), "%Y-%m-%d %H:%M:%S.%f").timestamp(), m.group(2))
            if m
            else (None, None)
        )

    listeners = workers = first_vm = worker_vm = None
    for line in text.splitlines():
        t, _thread = stamp(line)
        if t is None:
            continue
        if listeners is None and "listener(s)" in line and "loading" in line:
            listeners = t
        elif workers is None and "starting workers" in line:
            workers = t
        elif "wasm log" in line and "mesh-lambda" in line and " starting" in line:
            if first_vm is None:
                first_vm = t
            if workers is not None and worker_vm is None:
                worker_vm = t
    out = {}
    if listeners is not None and first_vm is not None:
        out["first_vm_s"] = round(first_vm - listeners, 3)
    if workers is not None and worker_vm is not None:
        out["worker_vm_s"] = round(worker_vm - workers, 3)
    return out


def run_soak(args, binary: str, workdir: Path, fake_port: int) -> dict:
    variant = "mesh-sync"
    proxy = E.Envoy(
        binary,
        workdir / "soak",
        E.proxy_config([variant], fake_port),
        E.environment(),
        cpus=PROXY_CPU,
    )
    samples = []
    try:
        proxy.launch()
        proxy.wait_ready()
        connections = 4
        delay_ms = max(1, round(connections * 1000 / args.soak_rate))
        result = {}

        def load():
            result.update(
                wrk(
                    proxy.url(variant),
                    SIZES[args.soak_size],
                    connections,
                    args.soak,
                    delay_ms=delay_ms,
                )
            )

        before = proxy.counters(RQ_REGEX)
        thread = threading.Thread(target=load)
        t0 = time.monotonic()
        thread.start()
        while thread.is_alive():
            status, body = E.http_get(f"{proxy.admin}/memory")
            heap = json.loads(body) if status == 200 else {}
            samples.append(
                {
                    "t": round(time.monotonic() - t0, 1),
                    "rss_kib": rss_kib(proxy.pid),
                    "allocated": int(heap.get("allocated", 0)),
                    "heap_size": int(heap.get("heap_size", 0)),
                }
            )
            thread.join(timeout=args.soak_interval)
        after = proxy.counters(RQ_REGEX)
    finally:
        proxy.stop()
    settle = min(30.0, args.soak / 10)
    steady = [s for s in samples if s["t"] >= settle] or samples
    start, end = steady[0]["rss_kib"], steady[-1]["rss_kib"]
    non_2xx = sum(
        after.get(f"http.bench.downstream_rq_{c}", 0)
        - before.get(f"http.bench.downstream_rq_{c}", 0)
        for c in ("1xx", "3xx", "4xx", "5xx")
    )
    return {
        "variant": variant,
        "seconds": args.soak,
        "size": args.soak_size,
        "target_rps": args.soak_rate,
        "connections": 4,
        "delay_ms": delay_ms,
        "requests": result.get("requests"),
        "achieved_rps": result["requests"] / (result["duration_us"] / 1e6)
        if result.get("duration_us")
        else None,
        "non_2xx": non_2xx,
        "settle_seconds": settle,
        "rss_start_kib": start,
        "rss_end_kib": end,
        "rss_max_kib": max(s["rss_kib"] for s in steady),
        "drift_pct": (end - start) * 100 / start if start else None,
        "samples": samples,
    }
