#!/usr/bin/env bash
# Builds "Desktop Registry.app" (PyInstaller BUNDLE from packaging.spec, with the Info.plist a
# Qt app needs) and desktop-registry-<version>.dmg with hdiutil. Runs on macOS only;
# `--dry-run` checks the inputs and the tools on any machine and builds nothing.
#
#   installer/macos/build_app.sh [--dry-run]
#
# The .app is unsigned: a teammate opens it the first time with right-click → Open (or sign it
# with `codesign --deep -s "Developer ID Application: …"` and notarize it before sharing).
set -euo pipefail
cd "$(dirname "$0")/../.."

dry_run=0
[ "${1:-}" = "--dry-run" ] && dry_run=1

version=$(python3 -c 'import tomllib; print(tomllib.load(open("pyproject.toml","rb"))["project"]["version"])')
app="dist/Desktop Registry.app"
dmg="dist/desktop-registry-${version}.dmg"

missing=()
for input in packaging.spec pyproject.toml resources/icons/desktop-registry.icns \
             desktop_registry/__main__.py desktop_registry/storage/migrations/env.py; do
  [ -e "$input" ] || missing+=("$input")
done
tools=()
for tool in hdiutil codesign; do
  command -v "$tool" >/dev/null 2>&1 || tools+=("$tool")
done
python3 -c 'import PyInstaller' 2>/dev/null || tools+=("pyinstaller (pip install -e '.[packaging]')")

if [ "$dry_run" = 1 ]; then
  echo "version: $version"
  echo "would build: $app and $dmg"
  [ ${#tools[@]} -eq 0 ] || echo "tools this machine lacks (macOS has them): ${tools[*]}"
  if [ ${#missing[@]} -gt 0 ]; then
    echo "missing inputs: ${missing[*]}" >&2
    exit 1
  fi
  echo "inputs: ok"
  exit 0
fi

if [ "$(uname -s)" != "Darwin" ]; then
  echo "build_app.sh builds a macOS .app and must run on macOS (try --dry-run)." >&2
  exit 1
fi
if [ ${#missing[@]} -gt 0 ] || [ ${#tools[@]} -gt 0 ]; then
  echo "cannot build: missing ${missing[*]} ${tools[*]}" >&2
  exit 1
fi

python3 -m PyInstaller --noconfirm --distpath dist --workpath build/macos packaging.spec
[ -d "$app" ] || { echo "PyInstaller made no $app" >&2; exit 1; }
# The bundled app must pass its own self-test before anyone gets it.
"$app/Contents/MacOS/desktop-registry" --self-test >/dev/null

staging=$(mktemp -d)
trap 'rm -rf "$staging"' EXIT
cp -R "$app" "$staging/"
ln -s /Applications "$staging/Applications"  # drag the app onto it to install
rm -f "$dmg"
hdiutil create -volname "Desktop Registry" -srcfolder "$staging" -fs HFS+ -format UDZO -ov "$dmg"
echo "built $app and $dmg"
