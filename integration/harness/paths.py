"""Where things live in the repository."""

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
VENV_BIN = REPO_ROOT / ".venv" / "bin"
# Another Envoy (an older release, say) with MESH_LAMBDA_ENVOY=/path/to/envoy.
ENVOY_BINARY = Path(os.environ.get("MESH_LAMBDA_ENVOY", VENV_BIN / "envoy"))
MOTO_SERVER = VENV_BIN / "moto_server"
LOCAL_ENVOY_CONFIG = REPO_ROOT / "envoy" / "local.yaml"
SIDECAR_ENVOY_CONFIG = REPO_ROOT / "envoy" / "sidecar.yaml"
STREAMING_ENVOY_CONFIG = REPO_ROOT / "envoy" / "streaming.yaml"
GATEWAY_ENVOY_CONFIG = REPO_ROOT / "envoy" / "gateway.yaml"
ARTIFACTS_DIR = REPO_ROOT / "integration" / ".artifacts"
