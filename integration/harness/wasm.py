"""Building the filter the way it ships (scripts/build: cargo, then wasm-opt), so the tests
always run the current source, as users get it."""

import subprocess
from pathlib import Path

from .paths import REPO_ROOT

BUILD_TIMEOUT_SECONDS = 600
SHIPPED_WASM = REPO_ROOT / "dist" / "mesh_lambda.wasm"


class FilterBuildError(RuntimeError):
    pass


def build_filter() -> Path:
    """`scripts/build`; the absolute path of the shipped .wasm."""
    result = subprocess.run(
        [str(REPO_ROOT / "scripts" / "build")],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=BUILD_TIMEOUT_SECONDS,
    )
    if result.returncode != 0:
        raise FilterBuildError(
            f"scripts/build failed ({result.returncode}):\n{result.stderr[-6000:]}"
        )
    if not SHIPPED_WASM.is_file():
        raise FilterBuildError(f"scripts/build succeeded but {SHIPPED_WASM} does not exist")
    return SHIPPED_WASM.resolve()


CRASH_TARGET_DIR = REPO_ROOT / "target" / "test-crash"


def build_crash_filter() -> Path:
    """The filter with the `test-crash` feature (a request carrying `x-mesh-lambda-test-crash`
    panics the VM), built into its own target directory so the shipped build is never touched
    and a second run rebuilds nothing. Not trimmed by wasm-opt: Envoy runs it as it is."""
    result = subprocess.run(
        [
            "cargo",
            "build",
            "--release",
            "--quiet",
            "--target",
            "wasm32-wasip1",
            "--features",
            "test-crash",
            "--target-dir",
            str(CRASH_TARGET_DIR),
        ],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=BUILD_TIMEOUT_SECONDS,
    )
    if result.returncode != 0:
        raise FilterBuildError(f"the test-crash build failed:\n{result.stderr[-6000:]}")
    return (CRASH_TARGET_DIR / "wasm32-wasip1" / "release" / "mesh_lambda.wasm").resolve()
