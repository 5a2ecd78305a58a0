"""Instructions per request: every variant as a listener of one Envoy under callgrind."""

import http.client
import subprocess
import time
from pathlib import Path

import envoys as E
from common import PROXY_CPU, SIZES, json_body, log, probe


class KeepAliveClient:
    """Sequential POSTs on one kept-alive connection; every answer must be 200."""

    def __init__(self, url: str, timeout: float = 120):
        host, port = url.removeprefix("http://").split(":")
        self.conn = http.client.HTTPConnection(host, int(port), timeout=timeout)

    def send(self, n: int, body: bytes):
        headers = {"content-type": "application/json"}
        for _ in range(n):
            self.conn.request("POST", "/bench", body=body, headers=headers)
            answer = self.conn.getresponse()
            answer.read()
            if answer.status != 200:
                raise RuntimeError(f"callgrind request answered {answer.status}")
            if answer.will_close:
                raise RuntimeError("the proxy closed the kept-alive connection")

    def close(self):
        self.conn.close()


def callgrind_control(*args) -> str:
    out = subprocess.run(["callgrind_control", *args], capture_output=True, text=True, timeout=120)
    if out.returncode != 0:
        raise RuntimeError(f"callgrind_control {' '.join(args)} failed: {out.stderr}")
    return out.stdout


def thread_totals(outdir: Path, pid: int, part: int) -> dict[int, int]:
    """Instructions per thread in dump `part` (files callgrind.out.<pid>.<part>-<thread>)."""
    totals = {}
    for path in outdir.glob(f"callgrind.out.{pid}.{part}-*"):
        thread = int(path.name.rsplit("-", 1)[1])
        for line in path.read_text(errors="replace").splitlines():
            if line.startswith(("summary:", "totals:")):
                totals[thread] = int(line.split()[1])
                break
    return totals


def run_callgrind(args, binary: str, workdir: Path, fake_port: int, variants: list[str]) -> dict:
    """All variants as listeners of one Envoy under callgrind (the mesh-lambda ones share one
    VM: at most 3 wasm VMs start under valgrind). Per listener and size: warm up, then zero the
    counters, send N1 requests, dump; zero, send N2, dump. Added instructions per request =
    (worker(N2) - worker(N1)) / (N2 - N1), minus the same for `none`."""
    outdir = workdir / "callgrind"
    outdir.mkdir(parents=True, exist_ok=True)
    n1, n2 = args.callgrind_requests
    sizes = list(args.callgrind_sizes)
    groups = {}
    for v in variants:
        groups.setdefault(E.VARIANTS[v][2], ["none"])
        if v != "none":
            groups[E.VARIANTS[v][2]].append(v)
    per_request = {}
    raw = {}
    background = {}
    for token, group in groups.items():
        label = "token" if token else "plain"
        wrapper = [
            "valgrind",
            "--tool=callgrind",
            "--smc-check=all",
            "--separate-threads=yes",
            "--dump-instr=no",
            "--dump-line=no",
            "--collect-jumps=no",
            f"--callgrind-out-file={outdir}/callgrind.out.%p",
        ]
        proxy = E.Envoy(
            binary,
            workdir / f"callgrind-{label}",
            E.proxy_config(group, fake_port),
            E.environment(session_token=token),
            cpus=PROXY_CPU,
            wrapper=wrapper,
        )
        try:
            t0 = time.monotonic()
            proxy.launch()
            proxy.wait_ready(timeout=args.callgrind_start_timeout)
            log(
                f"callgrind: Envoy ready under valgrind after {time.monotonic() - t0:.0f}s "
                f"({', '.join(group)})"
            )
            pid = proxy.pid
            part = 0
            for size in sizes:
                body = json_body(SIZES[size])
                for v in group:
                    probe_result = probe(v, proxy.url(v))
                    if not probe_result["ok"]:
                        raise RuntimeError(f"callgrind {v}: {probe_result['problems']}")
                    client = KeepAliveClient(proxy.url(v))
                    try:
                        client.send(args.callgrind_warmup, body)
                        counts = []
                        workers = []
                        durations = []
                        for n in (n1, n2):
                            callgrind_control("--zero", str(pid))
                            t_send = time.monotonic()
                            client.send(n, body)
                            durations.append(time.monotonic() - t_send)
                            part += 1
                            callgrind_control(f"--dump={v}-{size}-{n}", str(pid))
                            totals = thread_totals(outdir, pid, part)
                            worker = max(totals, key=totals.get)
                            workers.append(worker)
                            counts.append(totals[worker])
                    finally:
                        client.close()
                    if workers[0] != workers[1]:
                        raise RuntimeError(f"callgrind: busiest thread changed ({workers})")
                    ipr = (counts[1] - counts[0]) / (n2 - n1)
                    raw.setdefault(label, {}).setdefault(v, {})[size] = {
                        "worker_thread": workers[0],
                        "n": [n1, n2],
                        "instructions": counts,
                        "seconds": durations,
                        "per_request": ipr,
                    }
                    per_request.setdefault(token, {}).setdefault(v, {})[size] = ipr
                    log(
                        f"callgrind {size:>4} {v:<16} {ipr / 1000:8.1f} k instructions/request "
                        f"(worker thread {workers[0]})"
                    )
            # Work the worker thread does with no request at all (timers), per second: how
            # much of the per-request figure is time rather than requests.
            worker = raw[label]["none"][sizes[0]]["worker_thread"]
            callgrind_control("--zero", str(pid))
            time.sleep(args.callgrind_idle)
            part += 1
            callgrind_control("--dump=idle", str(pid))
            idle_rate = thread_totals(outdir, pid, part).get(worker, 0) / args.callgrind_idle
            background[label] = idle_rate
            for v in group:
                for size in sizes:
                    r = raw[label][v][size]
                    r["idle_share_estimate"] = (
                        idle_rate
                        * (r["seconds"][1] - r["seconds"][0])
                        / (n2 - n1)
                        / r["per_request"]
                    )
            worst = max(raw[label][v][s]["idle_share_estimate"] for v in group for s in sizes)
            log(
                f"callgrind: idle worker thread {idle_rate / 1000:.1f} k instructions/s "
                f"(up to {worst:.2%} of a per-request figure)"
            )
        finally:
            proxy.stop(grace=60)
    summary = {}
    for token, by_variant in per_request.items():
        for v, by_size in by_variant.items():
            if v == "none" and token:
                continue
            for size, ipr in by_size.items():
                base = by_variant["none"][size]
                summary.setdefault(size, {})[v] = {"per_request": ipr, "added": ipr - base}
    for rows in summary.values():
        for v, row in rows.items():
            ref = rows.get(E.native_reference(v), {}).get("added")
            row["added_vs_native"] = row["added"] / ref if ref else None
    return {
        "settings": {
            "requests": [n1, n2],
            "warmup_requests": args.callgrind_warmup,
            "sizes": sizes,
            "valgrind": "--tool=callgrind --smc-check=all --separate-threads=yes",
        },
        "idle_instructions_per_second": background,
        "raw": raw,
        "summary": summary,
    }
