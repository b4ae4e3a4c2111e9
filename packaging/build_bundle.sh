#!/usr/bin/env bash
# Build the one-folder application (dist/fewshot-studio/) with PyInstaller, then start it headless as a
# smoke test: --version, backbones, demo (offline), and the window (offscreen; also on X11 under xvfb-run
# when that exists), each in an empty environment outside the checkout. Not run by CI: it takes minutes
# and gigabytes (packaging/README.md has the numbers).
#
#   packaging/build_bundle.sh                 # build with .venv (the dev venv; PyInstaller installed if missing)
#   packaging/build_bundle.sh --fresh         # build in a throwaway venv (build/bundle-venv) from a plain install
#   packaging/build_bundle.sh --smoke-only    # test an existing dist/fewshot-studio
#
# Exit status: 0 when the bundle was built and every smoke test passed.
set -euo pipefail
cd "$(dirname "$0")/.."
REPO="$PWD"
VENV=.venv
FRESH=0
BUILD=1
while [ $# -gt 0 ]; do
  case "$1" in
    --venv) VENV="$2"; shift 2 ;;
    --fresh) FRESH=1; VENV=build/bundle-venv; shift ;;
    --smoke-only) BUILD=0; shift ;;
    -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
    *) echo "build_bundle.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done
PY="$VENV/bin/python"
DIST="$REPO/dist/fewshot-studio"
APP="$DIST/fewshot-studio"
REPORT="$REPO/build/bundle-report.txt"
mkdir -p build
: > "$REPORT"
say() { echo "$*" | tee -a "$REPORT"; }
now() { date +%s.%N; }
secs() { python3 -c "print(f'{$2 - $1:.1f}')"; }

if [ "$BUILD" = 1 ]; then
  t0=$(now)
  if [ "$FRESH" = 1 ]; then
    rm -rf "$VENV"
    python3 -m venv "$VENV"
    nice -n 10 "$PY" -m pip install --quiet --upgrade pip
    nice -n 10 "$PY" -m pip install --quiet ".[packaging]"   # a plain (non-editable) install, as users get
  elif [ ! -x "$PY" ]; then
    echo "build_bundle.sh: no venv at $VENV (make test creates .venv; or use --fresh)" >&2; exit 2
  elif ! "$PY" -c "import PyInstaller" 2>/dev/null; then
    nice -n 10 "$PY" -m pip install --quiet -e ".[packaging]"
  fi
  t1=$(now)
  versions="$("$PY" -c 'import torch, PyInstaller; print("torch", torch.__version__, "CUDA", torch.version.cuda, "PyInstaller", PyInstaller.__version__)')"
  say "environment: $VENV ($versions), ready in $(secs "$t0" "$t1") s"
  rm -rf "$DIST" build/pyinstaller
  nice -n 10 "$PY" -m PyInstaller --noconfirm --log-level WARN --distpath dist --workpath build/pyinstaller \
    packaging/fewshot-studio.spec
  t2=$(now)
  say "build: $(secs "$t1" "$t2") s"
fi

[ -x "$APP" ] || { echo "build_bundle.sh: no bundle at $APP" >&2; exit 1; }
say "bundle: $(du -sh "$DIST" | cut -f1) in $(find "$DIST" -type f | wc -l) files ($DIST)"
nvidia=$(du -sc "$DIST"/_internal/nvidia "$DIST"/_internal/torch/lib/libtorch_cuda*.so 2>/dev/null | tail -1 | cut -f1)
say "  of which CUDA libraries: $((nvidia / 1024)) MiB ($([ "$nvidia" -gt 0 ] && echo 'GPU-capable bundle' || echo 'CPU-only bundle'))"
for plugin in platforms/libqoffscreen.so platforms/libqxcb.so imageformats/libqsvg.so iconengines/libqsvgicon.so; do
  [ -e "$DIST/_internal/PySide6/Qt/plugins/$plugin" ] || { say "MISSING Qt plugin $plugin"; exit 1; }
done
ls "$DIST"/_internal/torchvision/*.so >/dev/null 2>&1 || { say "MISSING torchvision's operator libraries"; exit 1; }
for res in icons/fewshot-studio.svg demo/support demo/query; do
  [ -e "$DIST/_internal/fewshot_studio/resources/$res" ] || { say "MISSING resource $res"; exit 1; }
done

# Each smoke test runs the bundle with an empty environment, from an empty folder, offline, with a private
# studio folder and torch cache: nothing may come from the checkout, the venv or the user's files.
SANDBOX="$(mktemp -d)"
trap 'rm -rf "$SANDBOX"' EXIT
run_app() {  # run_app NAME EXPECTED_REGEX [ENV=VALUE...] -- ARGS...
  local name="$1" expect="$2"; shift 2
  local envs=()
  while [ "$1" != "--" ]; do envs+=("$1"); shift; done
  shift
  local t0 t1 status=0
  t0=$(now)
  (cd "$SANDBOX" && env -i PATH=/usr/bin:/bin HOME="$SANDBOX/home" LANG=C.UTF-8 \
      FEWSHOT_STUDIO_HOME="$SANDBOX/studio" TORCH_HOME="$SANDBOX/torch" FEWSHOT_STUDIO_OFFLINE=1 \
      QT_QPA_PLATFORM=offscreen OMP_NUM_THREADS=1 "${envs[@]}" \
      timeout 600 "$@" > "$SANDBOX/$name.out" 2>&1) || status=$?
  t1=$(now)
  if [ "$status" = 0 ] && grep -Eq "$expect" "$SANDBOX/$name.out"; then
    say "smoke $name: ok in $(secs "$t0" "$t1") s: $(grep -E "$expect" "$SANDBOX/$name.out" | tail -1)"
  else
    say "smoke $name: FAILED (exit $status) after $(secs "$t0" "$t1") s; output:"
    tail -40 "$SANDBOX/$name.out" | tee -a "$REPORT"
    FAILED=1
  fi
}
FAILED=0
ts=$(now)
run_app version "^fewshot-studio [0-9]" -- "$APP" --version
run_app backbones "^efficientnet_lite0 .*\[offline\]" -- "$APP" backbones
run_app demo "^1[2-5]/15 right" -- "$APP" demo --quiet
run_app window "smoke test: window shown, engine loaded" FEWSHOT_STUDIO_SMOKE=1 -- "$APP"
if command -v xvfb-run >/dev/null; then
  run_app window-x11 "smoke test: window shown, engine loaded" FEWSHOT_STUDIO_SMOKE=1 QT_QPA_PLATFORM=xcb -- \
    xvfb-run -a "$APP"
else
  say "smoke window-x11: skipped (no xvfb-run; apt-get install xvfb xauth)"
fi
say "smoke tests: $(secs "$ts" "$(now)") s in all"
say "report: $REPORT"
exit "$FAILED"
