"""What the parts of the benchmark share: sizes, cores, process figures, the probe, wrk."""

import hashlib
import http.client
import json
import os
import statistics
import subprocess
import time
from pathlib import Path

import envoys as E

BENCH_DIR = Path(__file__).resolve().parent
LUA_SCRIPT = BENCH_DIR / "post.lua"
RESULTS_DIR = BENCH_DIR / "results"
SIZES = {"100B": 100, "10KB": 10_000, "1MB": 1_000_000}
PROXY_CPU = "0"
LOAD_CPU = "1"
CLK_TCK = os.sysconf("SC_CLK_TCK")
RQ_REGEX = r"^http\.bench\.downstream_rq_(total|[1-5]xx)$"


def log(message: str):
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", flush=True)


def json_body(size: int) -> bytes:
    """A JSON string of exactly `size` bytes (the same bytes post.lua sends)."""
    return b'"' + b"a" * (size - 2) + b'"'


def median(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def proc_cpu(pid: int) -> dict:
    """utime+stime of the whole process (/proc/<pid>/stat, clock ticks) and the sum of its
    threads' on-CPU nanoseconds (/proc/<pid>/task/*/schedstat, finer grained)."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    fields = stat.rsplit(")", 1)[1].split()
    ticks = int(fields[11]) + int(fields[12])
    ns = 0
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            ns += int((task / "schedstat").read_text().split()[0])
        except (OSError, ValueError, IndexError):
            pass
    return {"seconds": ticks / CLK_TCK, "schedstat_seconds": ns / 1e9}


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


# ---------------------------------------------------------------------------------------------
# Probe: does each variant send what it should (signed or not) to the fake Lambda?


def probe(variant: str, url: str) -> dict:
    """The probe request (its x-request-id): the fake Lambda echoes what reached it."""
    body = json_body(100)
    host, port = url.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=10)
    try:
        conn.request(
            "POST",
            "/bench",
            body=body,
            headers={"content-type": "application/json", "x-request-id": E.PROBE_REQUEST_ID},
        )
        answer = conn.getresponse()
        answer.read()
        seen = {
            k.removeprefix("x-seen-"): v for k, v in answer.getheaders() if k.startswith("x-seen-")
        }
        status = answer.status
    finally:
        conn.close()
    kind, mode, token = E.VARIANTS[variant]
    authorization = seen.get("authorization", "")
    problems = []
    if status != 200:
        problems.append(f"status {status}")
    if kind in ("none", "wasm-unmatched"):
        if authorization:
            problems.append(f"{variant} sent an authorization header (the request is not signed)")
    elif kind == "wasm-event":
        # mesh-lambda sends an event's Invoke call itself, without the caller's headers (they
        # are in the event), so the fake Lambda's echo (the probe's request id) does not apply; the
        # end-to-end tests check those calls' signatures.
        pass
    else:
        prefix = f"AWS4-HMAC-SHA256 Credential={E.ACCESS_KEY_ID}/"
        if (
            not authorization.startswith(prefix)
            or "/us-east-1/lambda/aws4_request" not in authorization
            or "Signature=" not in authorization
        ):
            problems.append(f"not signed: authorization={authorization!r}")
        if "/2015-03-31/functions/" not in seen.get("path", ""):
            problems.append(f"not an Invoke path: {seen.get('path')!r}")
        want_type = E.INVOCATION_TYPE.get(mode, "RequestResponse")
        if seen.get("x-amz-invocation-type") != want_type:
            problems.append(
                f"invocation type {seen.get('x-amz-invocation-type')!r}, want {want_type!r}"
            )
        event = kind.endswith("-event")  # the payload is the event, not the body
        if not event and seen.get("x-amz-content-sha256") not in (
            None,
            hashlib.sha256(body).hexdigest(),
        ):
            problems.append("x-amz-content-sha256 is not the body's hash")
        if token and seen.get("x-amz-security-token") != E.SESSION_TOKEN:
            problems.append("session token not sent")
        if token and "x-amz-security-token" not in authorization:
            problems.append("session token not signed")
    return {"status": status, "seen": seen, "ok": not problems, "problems": problems}


def wrk(
    url: str,
    size: int,
    connections: int,
    seconds: float,
    delay_ms: int = 0,
    extra_env: dict | None = None,
) -> dict:
    command = [
        "taskset",
        "-c",
        LOAD_CPU,
        "wrk",
        "-t1",
        f"-c{connections}",
        f"-d{max(1, round(seconds))}s",
        "--latency",
        "--timeout",
        "10s",
        "-s",
        str(LUA_SCRIPT),
        url,
        "--",
        str(size),
        str(delay_ms),
    ]
    env = dict(os.environ)
    env["BENCH_DELAY_MS"] = str(delay_ms)
    if extra_env:
        env.update(extra_env)
    out = subprocess.run(command, capture_output=True, text=True, env=env, timeout=seconds + 60)
    for line in out.stdout.splitlines():
        if line.startswith("BENCH_JSON "):
            return json.loads(line.removeprefix("BENCH_JSON "))
    raise RuntimeError(f"wrk gave no result ({out.returncode}):\n{out.stdout}\n{out.stderr}")
