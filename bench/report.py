"""Renders a benchmark result (bench/results/latest.json) as text tables, an SVG chart and
BENCHMARKS.md. Run by bench/run.py after each run; run it alone to re-render:

    .venv/bin/python bench/report.py [--json bench/results/latest.json]
"""

import argparse
import html
import json
import math
import sys
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
REPO_ROOT = BENCH_DIR.parent
DEFAULT_JSON = BENCH_DIR / "results" / "latest.json"
CHART = BENCH_DIR / "results" / "chart.svg"
MARKDOWN = REPO_ROOT / "BENCHMARKS.md"
INLINE = "mesh-sync"  # the mesh-lambda mode that does what the native filter does
WASM_LIMIT_BYTES = 200 * 1024

OPT_BEGIN = "<!-- optimizations:begin (kept when BENCHMARKS.md is regenerated) -->"
OPT_END = "<!-- optimizations:end -->"
OPT_PLACEHOLDER = """\
_To be filled in by the lead: one row per optimization, with the added instructions per
request (callgrind, 100 B) and the req/s ratio to native before and after it._

| optimization | added instructions / request | req/s vs native (100 B) | notes |
|---|---|---|---|
| _(baseline)_ | | | |
"""
# The current figures (the table other documents quote, each row with its command and commit),
# at the top, kept the same way: a run that measures a figure anew updates its row by hand.
CURRENT_BEGIN = (
    "<!-- current:begin (kept when BENCHMARKS.md is regenerated; one row per figure, "
    "newest measurement) -->"
)
CURRENT_END = "<!-- current:end -->"
CURRENT_PLACEHOLDER = "## Current figures\n\n_None yet._\n"
# The load soak's figures (./scripts/soak, not this benchmark) are written by hand from its
# output and kept the same way.
SOAK_BEGIN = "<!-- soak:begin (kept when BENCHMARKS.md is regenerated; from ./scripts/soak) -->"
SOAK_END = "<!-- soak:end -->"
SOAK_PLACEHOLDER = "_Not run yet: `./scripts/soak` (10 minutes) prints the figures._\n"

COLORS = {
    "none": "#9e9e9e",
    "native": "#1f4e79",
    "mesh-sync": "#e8730c",
    "mesh-async": "#f4b183",
    "mesh-dryrun": "#c9a227",
    "native-token": "#5b9bd5",
    "mesh-sync-token": "#b4470b",
    "native-event": "#2e7d32",
    "mesh-event": "#81c784",
    "mesh-selected": "#d9822b",
    "mesh-unmatched": "#bdbdbd",
    "mesh-caller": "#7e57c2",
    "mesh-per-route": "#a1887f",
}


# ---------------------------------------------------------------------------------------------
# Formatting helpers


def fmt(value, spec=".0f", suffix=""):
    if value is None:
        return "-"
    return f"{value:{spec}}{suffix}"


def ratio(value):
    return fmt(value, ".2f", "x")


def table(headers, rows, markdown: bool, text_columns: int = 2) -> str:
    """The first `text_columns` columns are left-aligned, the rest (figures) right-aligned."""
    rows = [[str(c) for c in r] for r in rows]
    if markdown:
        lines = [
            "| " + " | ".join(headers) + " |",
            "|"
            + "|".join("---" if i < text_columns else "---:" for i in range(len(headers)))
            + "|",
        ]
        lines += ["| " + " | ".join(r) + " |" for r in rows]
        return "\n".join(lines)
    widths = [
        max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(headers)
    ]
    line = lambda cells: "  ".join(  # noqa: E731
        c.ljust(w) if i < text_columns else c.rjust(w)
        for i, (c, w) in enumerate(zip(cells, widths, strict=True))
    )
    return "\n".join(
        x.rstrip()
        for x in [line(headers), line(["-" * w for w in widths])] + [line(r) for r in rows]
    )


# ---------------------------------------------------------------------------------------------
# Tables


def load_table(results, markdown):
    load = results.get("load")
    if not load:
        return None
    headers = [
        "size",
        "variant",
        "req/s",
        "vs native",
        "vs none",
        "p50 ms",
        "p99 ms",
        "added CPU us/req",
        "CPU vs native",
        "proxy core busy",
        "load core busy",
        "all 2xx",
    ]
    rows = []
    for size, by_variant in load["summary"].items():
        for v, r in by_variant.items():
            rows.append(
                [
                    size,
                    v,
                    fmt(r["rps"]),
                    ratio(r["rps_vs_native"]),
                    ratio(r["rps_vs_none"]),
                    fmt(r["p50_us"] / 1000, ".2f"),
                    fmt(r["p99_us"] / 1000, ".2f"),
                    fmt(r["added_cpu_us_per_req"], ".1f"),
                    ratio(r["added_cpu_vs_native"]) if v != "none" else "-",
                    fmt((r["proxy_cpu_share"] or 0) * 100, ".0f", "%"),
                    fmt((r.get("load_core_share") or 0) * 100, ".0f", "%"),
                    "yes" if r["all_2xx"] else "NO",
                ]
            )
    return table(headers, rows, markdown)


def callgrind_table(results, markdown):
    cg = results.get("callgrind")
    if not cg:
        return None
    headers = ["size", "variant", "instructions / request", "added over none", "added vs native"]
    rows = []
    for size, by_variant in cg["summary"].items():
        for v, r in by_variant.items():
            rows.append(
                [
                    size,
                    v,
                    fmt(r["per_request"] / 1000, ".1f", " k"),
                    fmt(r["added"] / 1000, ".1f", " k") if v != "none" else "-",
                    ratio(r["added_vs_native"]) if v != "none" else "-",
                ]
            )
    return table(headers, rows, markdown)


def extras_table(results, markdown):
    rows = []
    wasm = results.get("wasm")
    if wasm:
        rows.append(
            ["release .wasm size", f"{wasm['bytes']} bytes ({wasm['bytes'] / 1024:.1f} KiB)"]
        )
    vm = results.get("vm_start")
    if vm:
        rows.append(
            [
                "VM start (ready with filter - ready without, median)",
                f"{vm['vm_start_s'] * 1000:.0f} ms ({vm['median_ready_mesh_s']:.3f} s vs "
                f"{vm['median_ready_none_s']:.3f} s, {vm['repeats']} starts each)",
            ]
        )
        if vm.get("median_first_vm_from_log_s") is not None:
            rows.append(
                [
                    "VM creation from Envoy's log (first VM: module compiled; worker clone)",
                    f"{vm['median_first_vm_from_log_s'] * 1000:.0f} ms; "
                    f"{(vm.get('median_worker_vm_from_log_s') or 0) * 1000:.0f} ms",
                ]
            )
    streaming = results.get("streaming")
    if streaming:
        pieces = streaming["pieces"]
        ttfb = [streaming[f"first_byte_{n}"] for n in ("streamed", "buffered")]
        rows.append(
            [
                f"time to first byte, a function producing {pieces['count']} parts "
                f"{pieces['gap_s'] * 1000:.0f} ms apart (streamed vs buffered, median)",
                f"{ttfb[0]['first_byte_s'] * 1000:.0f} ms vs {ttfb[1]['first_byte_s'] * 1000:.0f}"
                " ms",
            ]
        )
        rate = [streaming[f"throughput_{n}"] for n in ("streamed", "buffered")]
        rows.append(
            [
                f"throughput, {rate[0]['bytes'] / 1048576:.0f} MiB answered at once "
                "(streamed vs buffered, median)",
                f"{rate[0]['mb_per_s']} MB/s vs {rate[1]['mb_per_s']} MB/s "
                f"({rate[0]['last_byte_s'] * 1000:.0f} ms vs "
                f"{rate[1]['last_byte_s'] * 1000:.0f} ms)",
            ]
        )
    soak = results.get("soak")
    if soak:
        rows.append(
            [
                f"soak RSS ({soak['variant']}, {soak['seconds']:.0f} s at "
                f"{fmt(soak['achieved_rps'])} req/s, {soak['size']})",
                f"start {soak['rss_start_kib'] / 1024:.1f} MiB, end "
                f"{soak['rss_end_kib'] / 1024:.1f} MiB, max {soak['rss_max_kib'] / 1024:.1f}"
                f" MiB, drift {soak['drift_pct']:+.2f}%, non-2xx {soak['non_2xx']}",
            ]
        )
    if not rows:
        return None
    return table(["figure", "value"], rows, markdown, text_columns=2)


def targets(results):
    """(target, measured, status) rows; status is met / not met / not measured."""
    rows = []
    load = (results.get("load") or {}).get("summary", {})
    cg = (results.get("callgrind") or {}).get("summary", {})

    def get(size, variant, key, source=load):
        return (source.get(size, {}).get(variant) or {}).get(key)

    def status(ok):
        return "not measured" if ok is None else ("met" if ok else "not met")

    for size in ("100B", "10KB"):
        r = get(size, INLINE, "rps_vs_native")
        rows.append(
            [
                f"{INLINE} req/s >= 1.0x native at {size}",
                ratio(r),
                status(None if r is None else r >= 1.0),
            ]
        )
    parts, oks = [], []
    for size in load:
        mine, native = (
            get(size, INLINE, "added_cpu_us_per_req"),
            get(size, "native", "added_cpu_us_per_req"),
        )
        if mine is not None and native is not None:
            parts.append(f"{size}: {mine:.1f} vs {native:.1f} us")
            oks.append(mine <= native)
    rows.append(
        [
            "added proxy CPU per request <= native's",
            "; ".join(parts) or "-",
            status(all(oks) if oks else None),
        ]
    )
    parts, oks = [], []
    for size in cg:
        r = get(size, INLINE, "added_vs_native", cg)
        if r is not None:
            parts.append(
                f"{size}: {r:.2f}x ({get(size, INLINE, 'added', cg) / 1000:.0f} k vs "
                f"{get(size, 'native', 'added', cg) / 1000:.0f} k)"
            )
            oks.append(r <= 0.7)
    rows.append(
        [
            "added instructions <= 0.7x native",
            "; ".join(parts) or "-",
            status(all(oks) if oks else None),
        ]
    )
    r = get("1MB", INLINE, "rps_vs_native")
    rows.append(
        [f"{INLINE} req/s >= 0.8x native at 1MB", ratio(r), status(None if r is None else r >= 0.8)]
    )
    parts, oks = [], []
    for size in load:
        mine, native = get(size, INLINE, "p99_us"), get(size, "native", "p99_us")
        if mine is not None and native is not None:
            parts.append(f"{size}: {mine / 1000:.2f} vs {native / 1000:.2f} ms")
            oks.append(mine <= native)
    rows.append(
        ["p99 latency <= native", "; ".join(parts) or "-", status(all(oks) if oks else None)]
    )
    wasm = results.get("wasm")
    rows.append(
        [
            ".wasm <= 200 KiB",
            f"{wasm['bytes'] / 1024:.1f} KiB" if wasm else "-",
            status(None if not wasm else wasm["bytes"] <= WASM_LIMIT_BYTES),
        ]
    )
    vm = results.get("vm_start")
    rows.append(
        [
            "VM start < 0.5 s",
            f"{vm['vm_start_s']:.3f} s" if vm else "-",
            status(None if not vm else vm["vm_start_s"] < 0.5),
        ]
    )
    soak = results.get("soak")
    if soak and soak.get("drift_pct") is not None:
        peak = (soak["rss_max_kib"] - soak["rss_start_kib"]) * 100 / soak["rss_start_kib"]
        rows.append(
            [
                "memory flat within 5% (soak)",
                f"drift {soak['drift_pct']:+.2f}%, peak {peak:+.2f}% over {soak['seconds']:.0f} s",
                status(abs(soak["drift_pct"]) <= 5 and peak <= 5),
            ]
        )
    else:
        rows.append(["memory flat within 5% (soak)", "- (run with --soak 600)", "not measured"])
    return rows


def targets_table(results, markdown):
    return table(["target", "measured", "status"], targets(results), markdown, text_columns=3)


def text_tables(results) -> str:
    m = results["machine"]
    out = [
        f"mesh-lambda benchmark, {results['date']}: {m['cpu_model']}, {m['nproc']} cores, "
        f"kernel {m['kernel']}, {m['envoy']}"
    ]
    for title, part in (
        ("Load (medians over rounds)", load_table(results, False)),
        ("Instructions per request (callgrind, worker thread)", callgrind_table(results, False)),
        ("Other figures", extras_table(results, False)),
        ("Targets", targets_table(results, False)),
    ):
        if part:
            out += ["", title, part]
    return "\n".join(out)


# ---------------------------------------------------------------------------------------------
# Chart (hand-written SVG)


def nice_step(raw: float) -> float:
    """The smallest of 1, 2, 2.5, 5 x 10^k that is >= raw."""
    magnitude = 10 ** math.floor(math.log10(raw))
    for m in (1, 2, 2.5, 5, 10):
        if m * magnitude >= raw:
            return m * magnitude
    return 10 * magnitude


def _bars_panel(x0, y0, width, height, title, groups, variants, value, label, ref_line=None):
    """Grouped bars: groups along x, one bar per variant; returns SVG elements."""
    el = [
        f'<text x="{x0 + width / 2}" y="{y0 - 36}" text-anchor="middle" font-size="14" '
        f'font-weight="bold">{html.escape(title)}</text>'
    ]
    values = [value(g, v) for g in groups for v in variants]
    values = [v for v in values if v is not None]
    peak = max(values + [ref_line or 0, 1e-9]) * 1.1
    step = nice_step(peak / 5)
    ticks = max(1, math.ceil(peak / step))
    top = step * ticks
    el.append(
        f'<line x1="{x0}" y1="{y0 + height}" x2="{x0 + width}" y2="{y0 + height}" stroke="#333"/>'
    )
    el.append(f'<line x1="{x0}" y1="{y0}" x2="{x0}" y2="{y0 + height}" stroke="#333"/>')
    for i in range(ticks + 1):
        tick = step * i
        y = y0 + height - height * i / ticks
        el.append(
            f'<line x1="{x0 - 4}" y1="{y:.1f}" x2="{x0 + width}" y2="{y:.1f}" stroke="#ddd"/>'
        )
        el.append(
            f'<text x="{x0 - 7}" y="{y + 4:.1f}" text-anchor="end" font-size="10">'
            f"{label(tick, axis=True)}</text>"
        )
    if ref_line is not None:
        y = y0 + height - height * ref_line / top
        el.append(
            f'<line x1="{x0}" y1="{y:.1f}" x2="{x0 + width}" y2="{y:.1f}" stroke="#c00" '
            f'stroke-dasharray="5,3"/>'
        )
    group_w = width / max(1, len(groups))
    bar_w = group_w * 0.8 / max(1, len(variants))
    for gi, g in enumerate(groups):
        gx = x0 + gi * group_w + group_w * 0.1
        el.append(
            f'<text x="{x0 + gi * group_w + group_w / 2:.1f}" y="{y0 + height + 18}" '
            f'text-anchor="middle" font-size="12">{html.escape(g)}</text>'
        )
        for vi, v in enumerate(variants):
            val = value(g, v)
            if val is None:
                continue
            h = height * val / top
            x = gx + vi * bar_w
            el.append(
                f'<rect x="{x:.1f}" y="{y0 + height - h:.1f}" width="{bar_w - 2:.1f}" '
                f'height="{h:.1f}" fill="{COLORS.get(v, "#777")}"><title>'
                f"{html.escape(v)} {html.escape(g)}: {label(val)}</title></rect>"
            )
            cx, ty = x + (bar_w - 2) / 2, y0 + height - h - 3
            if bar_w < 26:  # narrow bars: the label runs upwards
                el.append(
                    f'<text x="{cx + 3:.1f}" y="{ty:.1f}" font-size="9" '
                    f'transform="rotate(-90 {cx + 3:.1f} {ty:.1f})">{label(val)}</text>'
                )
            else:
                el.append(
                    f'<text x="{cx:.1f}" y="{ty:.1f}" text-anchor="middle" '
                    f'font-size="9">{label(val)}</text>'
                )
    return el


def chart_svg(results) -> str:
    width, height = 960, 420
    el = []
    load = (results.get("load") or {}).get("summary", {})
    cg = (results.get("callgrind") or {}).get("summary", {})
    variants = results.get("variants", list(COLORS))
    if load:
        el += _bars_panel(
            70,
            80,
            390,
            260,
            "req/s relative to native (higher is better)",
            list(load),
            variants,
            lambda g, v: (load[g].get(v) or {}).get("rps_vs_native"),
            lambda x, axis=False: f"{x:g}" if axis else f"{x:.2f}",
            ref_line=1.0,
        )
        el.append(
            '<text x="265" y="62" text-anchor="middle" font-size="11" fill="#c00">'
            "dashed line: native = 1.0</text>"
        )
    if cg:
        cg_variants = [v for v in variants if v != "none"]
        el += _bars_panel(
            550,
            80,
            390,
            260,
            "added instructions per request (lower is better)",
            list(cg),
            cg_variants,
            lambda g, v: (cg[g].get(v) or {}).get("added"),
            lambda x, axis=False: f"{x / 1000:g}k" if axis else f"{x / 1000:.0f}k",
        )
        el.append(
            '<text x="745" y="62" text-anchor="middle" font-size="11" fill="#555">'
            "over no filter, callgrind, proxy worker thread</text>"
        )
    lx = 70
    for v in variants:
        el.append(
            f'<rect x="{lx}" y="{height - 38}" width="12" height="12" '
            f'fill="{COLORS.get(v, "#777")}"/>'
        )
        el.append(f'<text x="{lx + 16}" y="{height - 28}" font-size="12">{html.escape(v)}</text>')
        lx += 30 + 8 * len(v)
    m = results["machine"]
    el.append(
        f'<text x="{width / 2}" y="20" text-anchor="middle" font-size="12" fill="#555">'
        f"{html.escape(results['date'])} - {html.escape(m['cpu_model'])}, {m['nproc']} "
        f"cores - {html.escape(m['envoy'][:60])}</text>"
    )
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="sans-serif">\n'
        f'<rect width="100%" height="100%" fill="white"/>\n' + "\n".join(el) + "\n</svg>\n"
    )


# ---------------------------------------------------------------------------------------------
# BENCHMARKS.md


def kept_section(existing: str | None, begin: str, end: str, placeholder: str) -> str:
    """What BENCHMARKS.md holds between `begin` and `end` (placeholder: nothing there yet)."""
    if existing and begin in existing and end in existing:
        inner = existing.split(begin, 1)[1].split(end, 1)[0]
        return inner.strip("\n") + "\n"
    return placeholder


def markdown(results, existing: str | None = None) -> str:
    m = results["machine"]
    load = results.get("load") or {}
    cg = results.get("callgrind") or {}
    s = load.get("settings", {})
    rev = results.get("revision", {})
    short = s and (s.get("rounds", 5) < 5 or s.get("seconds_per_cell", 5) < 5)
    lines = [
        "# Benchmarks",
        "",
        "<!-- Generated by bench/report.py from bench/results/latest.json; edit only the "
        "marked sections (current, optimizations, soak). -->",
        "",
        CURRENT_BEGIN,
        kept_section(existing, CURRENT_BEGIN, CURRENT_END, CURRENT_PLACEHOLDER).rstrip("\n"),
        CURRENT_END,
        "",
    ]
    if short:
        lines += [
            f"> **Preliminary figures**: a short run ({s.get('rounds', '?')} rounds of "
            f"{s.get('seconds_per_cell', '?')} s per cell). Re-run `./scripts/bench` "
            "(defaults) on a quiet machine before drawing conclusions.",
            "",
        ]
    lines += [
        "mesh-lambda (wasm, in Envoy's V8) against Envoy's native C++ "
        "`envoy.filters.http.aws_lambda` filter and against no filter at all, all in front of "
        "the same fast fake Lambda.",
        "",
        "## Machine",
        "",
        f"- Date: {results['date']}; commit `{rev.get('commit', '?')[:12]}`"
        f"{' (with uncommitted changes)' if rev.get('dirty') else ''}",
        f"- CPU: {m['cpu_model']}, `nproc` = {m['nproc']}; kernel {m['kernel']}",
        f"- Envoy: {m['envoy']}",
        f"- Load generator: {m.get('wrk') or '-'}; {m.get('valgrind') or '-'}",
        f"- Load average at start / end: {' '.join(m.get('loadavg_at_start', []))} / "
        f"{' '.join(m.get('loadavg_at_end', []))}",
        f"- Command: `{results.get('command', './scripts/bench')}` "
        f"({results.get('wall_seconds', 0):.0f} s)",
        "",
        "## How to reproduce",
        "",
        "```sh",
        "./scripts/bench                 # full run: load, callgrind, VM start, streaming "
        "(~12-15 min on 2 cores)",
        "./scripts/bench --skip load callgrind vm-start   # streamed vs buffered answers only",
        "./scripts/bench --rounds 2 --duration 2 --callgrind-requests 50 300   # quick look",
        "./scripts/bench --soak 600      # also a 10-minute memory soak of mesh-lambda",
        "./scripts/bench --session-token # also native and mesh-lambda with AWS_SESSION_TOKEN",
        "./scripts/bench --help          # every flag (sizes, variants, connections, skip parts)",
        ".venv/bin/python bench/report.py   # re-render this file and the chart from the JSON",
        "cargo bench -p mesh-lambda-core --bench signer  # the signer alone, host CPU, ns per call",
        "```",
        "",
        "It installs what it needs (`scripts/setup`, and `wrk` / `valgrind` through apt when "
        "missing), builds the release `.wasm`, and writes `bench/results/latest.json` (every "
        "raw figure), `bench/results/chart.svg` and this file. Run it on a quiet machine: "
        "the figures are ratios measured in the same run, but other load still moves them.",
        "",
        "Method:",
        "",
        "- Fake Lambda: a second Envoy, buffer filter (reads the whole body) then "
        '`direct_response` 200 `{"ok":true}`; it accepts any signature. Before the load '
        "every variant sends one probe request through it that echoes what arrived: the "
        "native filter and every mesh-lambda mode must arrive SigV4-signed with the fake keys "
        "(the native filter signs only because the cluster carries "
        "`com.amazonaws.lambda: {egress_gateway: true}`), `none` unsigned.",
        "- Variants: `none` (router only), `native` (`aws_lambda`, `payload_passthrough: true`, "
        "`SYNCHRONOUS`), `mesh-sync` / `mesh-async` / `mesh-dryrun` (mesh-lambda's "
        "`invocation_mode`s). Each is its own Envoy built from `envoy/local.yaml` (7 MiB "
        "buffer limits, `allow_on_headers_stop_iteration: true`), `--concurrency 1`, pinned "
        f"to core {s.get('proxy_cpu', 0)}; wrk (1 thread) and the fake Lambda are pinned to "
        f"core {s.get('load_and_fake_cpu', 1)}. Credentials: static fake keys in Envoy's "
        "environment for both filters.",
        f"- Load: wrk POSTs `content-type: application/json` JSON strings of 100 B, 10 KB "
        f"and 1 MB (100, 10,000 and 1,000,000 bytes) over kept-alive connections "
        f"({', '.join(f'{n} for {k}' for k, n in s.get('connections', {}).items())}); "
        f"{s.get('rounds', '?')} interleaved rounds (each size: every variant in turn) of "
        f"{s.get('seconds_per_cell', '?')} s per cell after {s.get('warmup_seconds', '?')} s "
        "of warm-up per variant and size. Figures are medians over rounds. A cell counts only "
        "if wrk saw no error statuses or timeouts and the proxy's own counters show every "
        "response was 2xx.",
        "- Added CPU: the proxy process's utime+stime (`/proc/<pid>/stat`) over the cell "
        'divided by the requests it served, minus the same for `none`. "proxy core busy" is '
        'the share of the cell the proxy was on CPU, "load core busy" the same for the fake '
        "Lambda plus wrk: when the proxy is well below 100% and the load core near it, the "
        "bottleneck was the load side, and req/s ratios understate the differences (the CPU "
        "per request still holds).",
        "- Instructions: every variant as a listener of one Envoy under `valgrind "
        "--tool=callgrind --smc-check=all --separate-threads=yes` (mesh-lambda's three "
        "modes share one VM per thread); per listener and size, after a warm-up, the worker "
        "thread's instructions for {} and for {} sequential kept-alive requests "
        "(`callgrind_control --zero` / `--dump`), differenced and divided, minus `none`. "
        "Repeatable to about 1%. valgrind's virtual CPU offers no SHA extensions, so "
        "under it the native filter hashes with plain SIMD code where the real CPU (if it "
        "has SHA-NI) runs far fewer instructions: at larger bodies the native count is "
        "higher than on the hardware and the ratio flatters mesh-lambda (wasm never gets "
        "SHA-NI). The CPU figures have no such bias.".format(
            *cg.get("settings", {}).get("requests", ["N1", "N2"])
        ),
        "- VM start: launch-to-`/ready` of an Envoy with mesh-lambda minus one without "
        "(medians of interleaved starts, pinned like the load runs).",
        "",
    ]
    for title, part in (
        ("## Load (req/s, latency, proxy CPU)", load_table(results, True)),
        ("## Instructions per request", callgrind_table(results, True)),
        ("## Other figures", extras_table(results, True)),
    ):
        if part:
            lines += [title, "", part, ""]
    lines += [
        "## Chart",
        "",
        "![req/s relative to native and added instructions per request](bench/results/chart.svg)",
        "",
    ]
    lines += ["## Targets", "", targets_table(results, True), ""]
    lines += [
        "## What each optimization bought",
        "",
        OPT_BEGIN,
        kept_section(existing, OPT_BEGIN, OPT_END, OPT_PLACEHOLDER).rstrip("\n"),
        OPT_END,
        "",
        "## Soak",
        "",
        SOAK_BEGIN,
        kept_section(existing, SOAK_BEGIN, SOAK_END, SOAK_PLACEHOLDER).rstrip("\n"),
        SOAK_END,
        "",
    ]
    return "\n".join(lines)


def write_all(results, chart_path: Path = CHART, markdown_path: Path = MARKDOWN):
    chart_path.parent.mkdir(parents=True, exist_ok=True)
    chart_path.write_text(chart_svg(results))
    existing = markdown_path.read_text() if markdown_path.exists() else None
    markdown_path.write_text(markdown(results, existing))


def main(argv=None) -> int:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--json", type=Path, default=DEFAULT_JSON)
    p.add_argument("--quiet", action="store_true", help="do not print the tables")
    args = p.parse_args(argv)
    results = json.loads(args.json.read_text())
    write_all(results)
    if not args.quiet:
        print(text_tables(results))
    print(
        f"wrote {CHART.relative_to(REPO_ROOT)} and {MARKDOWN.relative_to(REPO_ROOT)}",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
