"""The benchmark: mesh-lambda against Envoy's native aws_lambda filter and against no filter.

Run through ./scripts/bench (which installs what this needs and builds the .wasm). In one run:
  1. load: each variant its own Envoy (--concurrency 1, pinned to core 0), wrk and a fast fake
     Lambda pinned to core 1; variants interleaved over several rounds; req/s, latency, proxy
     CPU per request, every response checked to be 2xx;
  2. instructions per request under valgrind callgrind (the worker thread only);
  3. VM start time, .wasm size, and optionally a memory soak;
  4. streamed answers against buffered ones (bench/streaming.py): time to first byte and
     throughput.
Writes bench/results/latest.json, then bench/report.py renders the table, the chart and
BENCHMARKS.md from it.
"""

import argparse
import hashlib
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import envoys as E
import report
from common import LOAD_CPU, RESULTS_DIR, SIZES, log
from instructions import run_callgrind
from load import run_load
from startup import run_soak, run_vm_start
from streaming import run_streaming


def machine() -> dict:
    cpu_model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu_model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "nproc": os.cpu_count(),
        "cpu_model": cpu_model,
        "kernel": platform.release(),
        "os": platform.platform(),
        "envoy": E.envoy_version(E.envoy_binary()),
        "wrk": subprocess.run(["wrk", "--version"], capture_output=True, text=True)
        .stdout.splitlines()[0]
        .split(" Copyright")[0]
        .strip()
        if shutil.which("wrk")
        else None,
        "valgrind": subprocess.run(
            ["valgrind", "--version"], capture_output=True, text=True
        ).stdout.strip()
        if shutil.which("valgrind")
        else None,
        "loadavg_at_start": Path("/proc/loadavg").read_text().split()[:3],
    }


def git_revision() -> dict:
    def git(*args):
        out = subprocess.run(["git", *args], cwd=E.REPO_ROOT, capture_output=True, text=True)
        return out.stdout.strip()

    return {"commit": git("rev-parse", "HEAD"), "dirty": bool(git("status", "--porcelain"))}


def parse_args(argv=None):
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--rounds", type=int, default=5, help="interleaved rounds (default 5)")
    p.add_argument("--duration", type=float, default=5, help="seconds per cell (default 5)")
    p.add_argument(
        "--warmup", type=float, default=1, help="warm-up seconds per variant and size (default 1)"
    )
    p.add_argument(
        "--connections", type=int, default=8, help="wrk connections for 100B and 10KB (default 8)"
    )
    p.add_argument(
        "--connections-1mb", type=int, default=2, help="wrk connections for 1MB (default 2)"
    )
    p.add_argument("--sizes", nargs="+", default=list(SIZES), choices=list(SIZES))
    p.add_argument(
        "--variants",
        nargs="+",
        default=E.DEFAULT_VARIANTS,
        choices=list(E.VARIANTS),
        help="load/callgrind variants (none is added)",
    )
    p.add_argument(
        "--session-token",
        action="store_true",
        help="also run native and mesh-lambda with AWS_SESSION_TOKEN set",
    )
    p.add_argument(
        "--event-format",
        action="store_true",
        help="also run native and mesh-lambda with payload_passthrough false (their events)",
    )
    p.add_argument(
        "--callgrind-requests",
        type=int,
        nargs=2,
        default=[100, 600],
        metavar=("N1", "N2"),
        help="requests per callgrind dump (default 100 600)",
    )
    p.add_argument("--callgrind-warmup", type=int, default=50)
    p.add_argument("--callgrind-sizes", nargs="+", default=["100B", "10KB"], choices=list(SIZES))
    p.add_argument("--callgrind-start-timeout", type=float, default=600)
    p.add_argument(
        "--callgrind-idle",
        type=float,
        default=5,
        help="seconds of idle worker measured under callgrind (default 5)",
    )
    p.add_argument("--vm-start-repeats", type=int, default=5)
    p.add_argument(
        "--soak",
        type=float,
        default=0,
        metavar="SECONDS",
        help="memory soak of mesh-lambda for SECONDS (default off)",
    )
    p.add_argument(
        "--soak-rate",
        type=float,
        default=1000,
        help="soak pace: each of 4 connections waits 4000/RATE ms before each "
        "request, so the achieved rate is somewhat lower (default 1000)",
    )
    p.add_argument("--soak-size", default="10KB", choices=list(SIZES))
    p.add_argument("--soak-interval", type=float, default=5, help="RSS sample period")
    p.add_argument(
        "--skip",
        nargs="+",
        default=[],
        choices=["load", "callgrind", "vm-start", "streaming"],
        help="parts not to run",
    )
    p.add_argument("--output", type=Path, default=RESULTS_DIR / "latest.json")
    p.add_argument(
        "--keep-workdir",
        action="store_true",
        help="keep the Envoy configs, logs and callgrind files",
    )
    args = p.parse_args(argv)
    variants = list(dict.fromkeys(["none", *args.variants]))
    if args.session_token:
        variants += [v for v in E.TOKEN_VARIANTS if v not in variants]
    if args.event_format:
        variants += [v for v in E.EVENT_VARIANTS if v not in variants]
    args.variants = variants
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    if not E.WASM_PATH.is_file():
        raise SystemExit(f"{E.WASM_PATH} missing: run ./scripts/bench (it builds it)")
    binary = E.envoy_binary()
    workdir = Path(tempfile.mkdtemp(prefix="mesh-lambda-bench-"))
    started = time.monotonic()
    results = {
        "schema": 1,
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": "./scripts/bench " + " ".join(sys.argv[1:] if argv is None else argv),
        "machine": machine(),
        "revision": git_revision(),
        "variants": args.variants,
        "wasm": {
            "path": str(E.WASM_PATH.relative_to(E.REPO_ROOT)),
            "bytes": E.WASM_PATH.stat().st_size,
            "sha256": hashlib.sha256(E.WASM_PATH.read_bytes()).hexdigest(),
        },
    }
    log(
        f"workdir {workdir}; variants {', '.join(args.variants)}; "
        f".wasm {results['wasm']['bytes']} bytes"
    )
    fake = E.Envoy(
        binary, workdir / "fake-lambda", E.fake_lambda_config(), E.environment(), cpus=LOAD_CPU
    )
    failed = True
    try:
        fake.launch()
        fake.wait_ready()
        fake_port = fake.ports["fake_lambda"]
        if "load" not in args.skip:
            results["load"] = run_load(args, binary, workdir, fake, args.variants)
        if "callgrind" not in args.skip:
            results["callgrind"] = run_callgrind(args, binary, workdir, fake_port, args.variants)
        if "vm-start" not in args.skip:
            results["vm_start"] = run_vm_start(args, binary, workdir, fake_port)
            vm = results["vm_start"]
            log(
                f"VM start: {vm['vm_start_s'] * 1000:.0f} ms "
                f"(ready {vm['median_ready_mesh_s']:.3f}s with the filter, "
                f"{vm['median_ready_none_s']:.3f}s without; from the log: first VM "
                f"{(vm['median_first_vm_from_log_s'] or 0) * 1000:.0f} ms, worker VM "
                f"{(vm['median_worker_vm_from_log_s'] or 0) * 1000:.0f} ms)"
            )
        if "streaming" not in args.skip:
            results["streaming"] = run_streaming(args, binary, workdir)
        if args.soak > 0:
            log(f"soak: {args.soak:.0f}s at {args.soak_rate:.0f} req/s")
            results["soak"] = run_soak(args, binary, workdir, fake_port)
        failed = False
    finally:
        fake.stop()
        if failed or args.keep_workdir:
            log(f"kept {workdir} (configs, logs)")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    results["machine"]["loadavg_at_end"] = Path("/proc/loadavg").read_text().split()[:3]
    results["wall_seconds"] = round(time.monotonic() - started, 1)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(results, indent=2) + "\n")
    log(f"wrote {args.output} ({results['wall_seconds']:.0f}s)")
    if args.output.resolve() == (RESULTS_DIR / "latest.json").resolve():
        report.write_all(results)
        log("wrote bench/results/chart.svg and BENCHMARKS.md")
    print()
    print(report.text_tables(results))
    bad = [
        f"{v} {size}"
        for size, rows in results.get("load", {}).get("summary", {}).items()
        for v, row in rows.items()
        if not row["all_2xx"]
    ]
    if bad:
        log(f"NOT ALL RESPONSES 2xx: {', '.join(bad)}; those figures mean nothing")
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
