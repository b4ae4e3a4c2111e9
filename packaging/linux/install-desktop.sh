#!/usr/bin/env bash
# Put Few-shot Studio in the desktop's application menu, with its icon and the .fsproj file type.
#
#   packaging/linux/install-desktop.sh                      # for `fewshot-studio` on PATH (pipx, pip --user)
#   packaging/linux/install-desktop.sh --exec "$PWD/dist/fewshot-studio/fewshot-studio"   # the PyInstaller bundle
#   packaging/linux/install-desktop.sh --uninstall
#
# Installs into ${XDG_DATA_HOME:-~/.local/share} (--prefix DIR for another, e.g. /usr/local/share as root).
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
ID=io.github.fewshotstudio.FewShotStudio
PREFIX="${XDG_DATA_HOME:-$HOME/.local/share}"
EXEC=fewshot-studio
UNINSTALL=0
while [ $# -gt 0 ]; do
  case "$1" in
    --prefix) PREFIX="$2"; shift 2 ;;
    --exec) EXEC="$2"; shift 2 ;;
    --uninstall) UNINSTALL=1; shift ;;
    -h|--help) sed -n '2,8p' "$0"; exit 0 ;;
    *) echo "install-desktop.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done

files=(
  "applications/$ID.desktop"
  "metainfo/$ID.metainfo.xml"
  "mime/packages/$ID.xml"
  "icons/hicolor/scalable/apps/$ID.svg"
  "icons/hicolor/48x48/apps/$ID.png"
  "icons/hicolor/128x128/apps/$ID.png"
  "icons/hicolor/256x256/apps/$ID.png"
)

if [ "$UNINSTALL" = 1 ]; then
  for f in "${files[@]}"; do rm -f "$PREFIX/$f"; done
else
  for size in scalable 48x48 128x128 256x256; do
    ext=png; [ "$size" = scalable ] && ext=svg
    install -D -m 644 "$HERE/icons/hicolor/$size/apps/$ID.$ext" "$PREFIX/icons/hicolor/$size/apps/$ID.$ext"
  done
  install -D -m 644 "$HERE/$ID.metainfo.xml" "$PREFIX/metainfo/$ID.metainfo.xml"
  install -D -m 644 "$HERE/$ID.mime.xml" "$PREFIX/mime/packages/$ID.xml"
  mkdir -p "$PREFIX/applications"
  # Exec and TryExec name the program: `fewshot-studio` on PATH, or the absolute path given with --exec.
  exec_escaped="$(printf '%s' "$EXEC" | sed -e 's/[\\&|]/\\&/g')"
  case "$EXEC" in *" "*) exec_quoted="\"$exec_escaped\"" ;; *) exec_quoted="$exec_escaped" ;; esac
  sed -e "s|^Exec=fewshot-studio |Exec=$exec_quoted |" -e "s|^TryExec=fewshot-studio\$|TryExec=$exec_escaped|" \
    "$HERE/$ID.desktop" > "$PREFIX/applications/$ID.desktop"
  chmod 644 "$PREFIX/applications/$ID.desktop"
fi

# Refresh the desktop's caches where the tools exist (they do on a desktop; a server may lack them).
command -v update-desktop-database >/dev/null && update-desktop-database -q "$PREFIX/applications" || true
command -v update-mime-database >/dev/null && update-mime-database "$PREFIX/mime" >/dev/null 2>&1 || true
command -v gtk-update-icon-cache >/dev/null && gtk-update-icon-cache -q -t "$PREFIX/icons/hicolor" 2>/dev/null || true

if [ "$UNINSTALL" = 1 ]; then
  echo "removed Few-shot Studio's desktop entry, icons and file type from $PREFIX"
else
  echo "installed $PREFIX/applications/$ID.desktop (runs: $EXEC), its icons, AppStream data and the .fsproj type"
fi
