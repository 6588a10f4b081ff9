#!/usr/bin/env bash
# Install mmuss and everything it needs into the active Python 3.10/3.11
# environment (a virtualenv is recommended). CPU-only machines are fine.
#
#   bash tools/install.sh
#
# Steps:
#  1. torch + torchvision (torchvision is imported by mmpretrain).
#  2. mmcv 2.1.0 with its compiled ops, built from source against that torch:
#     mmsegmentation 1.2.2 imports mmcv.ops at import time (mmcv-lite fails)
#     and refuses mmcv >= 2.2.0; mmcv 2.1.0 has no wheel for recent torch.
#     Recent torch headers need C++20 while mmcv 2.1.0's setup.py asks for
#     C++17, so the sdist's flag is patched. The build takes minutes; the
#     wheel is cached in ${MMUSS_WHEEL_CACHE:-~/.cache/mmuss/wheels} and
#     reused by later installs on the same machine.
#  3. mmuss in editable mode with mmengine, mmsegmentation, mmpretrain,
#     scipy, gudhi, the dense CRF and the test tools (pyproject.toml).
set -euo pipefail

PYTHON=${PYTHON:-python}
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CACHE=${MMUSS_WHEEL_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/mmuss/wheels}
MMCV_VERSION=2.1.0

# Pinned where the machine's package index and mmcv's build demand it.
case "$(uname -m)" in
  x86_64) TORCH_PINS="torch==2.14.1 torchvision==0.29.1" ;;
  aarch64) TORCH_PINS="torch==2.9.1 torchvision==0.24.1" ;;
  *) TORCH_PINS="torch torchvision" ;;
esac
TORCH_PINS=${MMUSS_TORCH_PINS:-$TORCH_PINS}

echo "[mmuss] installing $TORCH_PINS"
# shellcheck disable=SC2086
"$PYTHON" -m pip install $TORCH_PINS

# mmcv's setup.py imports pkg_resources; ninja builds the ops in parallel.
"$PYTHON" -m pip install "setuptools>=61,<70" wheel ninja

if "$PYTHON" -c "import mmcv, mmcv.ops; assert mmcv.__version__ == '$MMCV_VERSION'" 2>/dev/null; then
  echo "[mmuss] mmcv $MMCV_VERSION with ops already installed"
else
  TORCH_TAG=$("$PYTHON" -c "import sys, torch; print(f'py{sys.version_info.major}{sys.version_info.minor}-torch{torch.__version__}'.replace('+', '_'))")
  WHEEL_DIR="$CACHE/$TORCH_TAG"
  if ! ls "$WHEEL_DIR"/mmcv-$MMCV_VERSION-*.whl >/dev/null 2>&1; then
    echo "[mmuss] building mmcv $MMCV_VERSION with ops for $TORCH_TAG (several minutes)"
    BUILD=$(mktemp -d)
    trap 'rm -rf "$BUILD"' EXIT
    "$PYTHON" -m pip download --no-deps --no-binary :all: \
      "mmcv==$MMCV_VERSION" -d "$BUILD"
    tar -xzf "$BUILD/mmcv-$MMCV_VERSION.tar.gz" -C "$BUILD"
    sed -i "s/'-std=c++17'\]/'-std=c++20']/" "$BUILD/mmcv-$MMCV_VERSION/setup.py"
    mkdir -p "$WHEEL_DIR"
    MAX_JOBS=${MAX_JOBS:-$(nproc)} MMCV_WITH_OPS=1 "$PYTHON" -m pip wheel \
      --no-build-isolation --no-deps "$BUILD/mmcv-$MMCV_VERSION" \
      -w "$BUILD/dist"
    mv "$BUILD"/dist/mmcv-*.whl "$WHEEL_DIR"/
  fi
  "$PYTHON" -m pip install --no-deps "$WHEEL_DIR"/mmcv-$MMCV_VERSION-*.whl
fi

echo "[mmuss] installing mmuss and its dependencies"
"$PYTHON" -m pip install -e "$ROOT[tests]"
# torch asks for setuptools>=77; mmengine 0.10.7 still imports
# pkg_resources (removed in setuptools 82).
"$PYTHON" -m pip install "setuptools>=77.0.3,<82"
"$PYTHON" -c "import mmcv.ops, mmseg, mmpretrain, mmuss; print('[mmuss] ready:', mmuss.__version__)"
