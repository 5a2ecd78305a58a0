"""Streamed answers against buffered ones of the same size, through mesh-lambda in a real
Envoy: time to first byte and throughput.

Two Envoys, each on its shipped configuration: envoy/streaming.yaml (`invocation_mode:
streaming`) and envoy/local.yaml (synchronous, passthrough). Each points at the test harness's
Lambda stand-in (integration/harness/streaming_lambda.py, which checks every signature):
streamed, it sends the answer as event-stream frames; buffered, the same bytes with a
Content-Length, as Lambda answers a synchronous Invoke.

- time to first byte: a function that produces its answer in PIECES parts PIECE_GAP_S apart.
  Streamed, each part is a frame sent when produced; buffered, Lambda answers once the last
  part is produced (what a synchronous Invoke does). Measured at the caller.
- throughput: THROUGHPUT_BYTES answered at once (no gaps), the caller reading as fast as it
  can; a buffered answer is limited to 6 MB by Lambda, so both carry 5 MB.
The stand-in is Python: its own sending speed bounds the throughput of both alike.
"""

import statistics
import sys
import time
from pathlib import Path

import envoys as E
from common import log

sys.path.insert(0, str(E.REPO_ROOT / "integration"))
from harness import client
from harness.aws import AwsCredentials
from harness.envoy import EnvoyProcess, plugin_configuration, render_config
from harness.event_stream import invoke_complete, payload_chunk
from harness.paths import LOCAL_ENVOY_CONFIG, STREAMING_ENVOY_CONFIG
from harness.streaming_lambda import StreamingLambda, StreamScript, Write, streaming_path

PIECES = 10
PIECE_GAP_S = 0.1
PIECE_BYTES = 10 * 1024
THROUGHPUT_BYTES = 5 * 1024 * 1024
FRAME_BYTES = 64 * 1024
REPEATS = 5
REGION = "us-east-1"


def _pieces(total: int, size: int) -> list[bytes]:
    block = bytes(range(256)) * (size // 256 + 1)
    return [block[:size] for _ in range(total // size)] + (
        [block[: total % size]] if total % size else []
    )


def _scripts(gap: float, pieces: list[bytes]) -> tuple[StreamScript, StreamScript]:
    """The same answer streamed (a frame per piece, `gap` apart) and buffered (after the
    whole production time)."""
    writes = [Write(payload_chunk(p), delay=gap if i else 0.0) for i, p in enumerate(pieces)]
    streamed = StreamScript(writes=[*writes, Write(invoke_complete())])
    buffered = StreamScript(
        headers=[("Content-Type", "application/octet-stream")],
        whole_body=b"".join(pieces),
        head_delay=gap * (len(pieces) - 1),
    )
    return streamed, buffered


def _measure(url: str, expected: int) -> tuple[float, float]:
    """Seconds to the first byte and to the last, for one call."""
    start = time.monotonic()
    got = client.stream(url, b"{}", timeout=60)
    if got.failure is not None or len(got.body) != expected or not got.reads:
        raise RuntimeError(f"bad answer: {got}")
    return got.reads[0][0] - start, got.reads[-1][0] - start


def run_streaming(args, binary: str, workdir: Path) -> dict:
    credentials = {E.ACCESS_KEY_ID: AwsCredentials(E.ACCESS_KEY_ID, E.SECRET_ACCESS_KEY)}
    stand_ins = {
        name: StreamingLambda(credentials, REGION, streaming_path(E.ARN), StreamScript()).start()
        for name in ("streamed", "buffered")
    }
    envoys = {}
    try:
        for name, shipped, mode in (
            ("streamed", STREAMING_ENVOY_CONFIG, "streaming"),
            ("buffered", LOCAL_ENVOY_CONFIG, "synchronous"),
        ):
            config = render_config(
                wasm_path=E.WASM_PATH,
                plugin_configuration=plugin_configuration(
                    arn=E.ARN, payload_passthrough=True, invocation_mode=mode
                ),
                lambda_port=stand_ins[name].port,
                shipped_config=shipped,
            )
            envoy = EnvoyProcess(workdir / f"streaming-{name}", config, E.environment())
            envoy.launch()
            envoy.wait_ready()
            envoys[name] = envoy
        results = {"repeats": REPEATS}
        cases = {
            "first_byte": (PIECE_GAP_S, _pieces(PIECES * PIECE_BYTES, PIECE_BYTES)),
            "throughput": (0.0, _pieces(THROUGHPUT_BYTES, FRAME_BYTES)),
        }
        for case, (gap, pieces) in cases.items():
            streamed, buffered = _scripts(gap, pieces)
            stand_ins["streamed"].script, stand_ins["buffered"].script = streamed, buffered
            total = sum(len(p) for p in pieces)
            for name in ("streamed", "buffered"):
                _measure(envoys[name].url, total)  # warm-up
                timings = [_measure(envoys[name].url, total) for _ in range(REPEATS)]
                first = statistics.median(t[0] for t in timings)
                last = statistics.median(t[1] for t in timings)
                results[f"{case}_{name}"] = {
                    "bytes": total,
                    "first_byte_s": round(first, 4),
                    "last_byte_s": round(last, 4),
                    "mb_per_s": round(total / 1e6 / last, 1) if last else None,
                }
                log(
                    f"streaming bench {case} {name}: first byte {first * 1000:.0f} ms, "
                    f"last {last * 1000:.0f} ms ({total} bytes)"
                )
        for name, stand_in in stand_ins.items():
            if not all(r.verdict.ok for r in stand_in.requests):
                raise RuntimeError(f"{name}: a request was not signed correctly")
        results["pieces"] = {"count": PIECES, "gap_s": PIECE_GAP_S, "bytes": PIECE_BYTES}
        return results
    finally:
        for envoy in envoys.values():
            envoy.stop()
        for stand_in in stand_ins.values():
            stand_in.stop()
