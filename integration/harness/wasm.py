"""Building the filter the way users do, so the tests always run the current source."""

import os
import shutil
import subprocess
from pathlib import Path

from .paths import REPO_ROOT

BUILD_TIMEOUT_SECONDS = 600
TARGET = "wasm32-wasip1"


class FilterBuildError(RuntimeError):
    pass


def build_filter() -> Path:
    """`cargo build --release --target wasm32-wasip1`; the absolute path of the .wasm."""
    cargo = shutil.which("cargo") or str(Path.home() / ".cargo" / "bin" / "cargo")
    result = subprocess.run(
        [cargo, "build", "--release", "--target", TARGET],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=BUILD_TIMEOUT_SECONDS,
    )
    if result.returncode != 0:
        raise FilterBuildError(
            f"cargo build failed ({result.returncode}):\n{result.stderr[-6000:]}")
    target_dir = Path(os.environ.get("CARGO_TARGET_DIR", REPO_ROOT / "target"))
    if not target_dir.is_absolute():
        target_dir = REPO_ROOT / target_dir
    wasm = target_dir / TARGET / "release" / "mesh_lambda.wasm"
    if not wasm.is_file():
        raise FilterBuildError(f"cargo build succeeded but {wasm} does not exist")
    return wasm.resolve()
