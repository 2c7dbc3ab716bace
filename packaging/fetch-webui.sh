#!/usr/bin/env bash
# Installs the official elizaOS web UI (npm @elizaos/client, its prebuilt dist/) where the webui
# plugin serves it from.
#
#   packaging/fetch-webui.sh [DEST]
#
# DEST defaults to build/webui in the source tree: the webui plugin's default directory is
# "<directory of the elizad binary>/webui", and packaging/run.sh runs build/elizad, so the
# default needs no configuration. Another DEST needs `webui: { dir = "DEST"; };`.
#
# Only the npm registry is contacted (`npm pack`, so npm's proxy/registry settings and its
# cache apply). The tarball is checked against the pinned sha512 below, unpacked in a temporary
# directory and moved into place in one rename, so DEST is either the old UI or the new one.
# Files get the extraction time as mtime (npm stamps them all 1985): browsers revalidate on it.
# Idempotent: when DEST/.webui-version already names this version, nothing is downloaded.
# WEBUI_VERSION=x.y.z picks another version (then only npm's own integrity check applies).
set -euo pipefail

PKG="@elizaos/client"
PINNED_VERSION="1.7.2"
PINNED_SHA512="sha512-/ZdtejKf073nOWypbN0ZXD+FiV4ZSjg62PiP+dpsTt2VGTp7OkttepcwdbZFxLJCGLHSo5yek/zyhBCknHV71g=="
VERSION="${WEBUI_VERSION:-$PINNED_VERSION}"
MARKER=".webui-version" # a dot file: the webui plugin never serves it

die() {
  echo "fetch-webui.sh: $*" >&2
  exit 1
}

top="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dest="${1:-$top/build/webui}"
[ -n "$dest" ] || die "empty destination"
case "$dest" in /*) ;; *) dest="$PWD/$dest" ;; esac
dest="${dest%/}"
want="$PKG@$VERSION"

if [ -f "$dest/$MARKER" ] && [ "$(cat "$dest/$MARKER")" = "$want" ] && [ -f "$dest/index.html" ]; then
  echo "fetch-webui.sh: $want already in $dest"
  exit 0
fi

# never replace a directory this script did not make (a mistyped DEST must not lose data)
if [ -e "$dest" ] && [ ! -f "$dest/$MARKER" ] && [ -n "$(ls -A "$dest" 2> /dev/null || echo x)" ]; then
  die "$dest exists and is not a web UI installed by this script (no $MARKER): remove it or pick another DEST"
fi

command -v npm > /dev/null || die "npm is not installed (Debian: apt-get install npm)"
command -v node > /dev/null || die "node is not installed (Debian: apt-get install nodejs)"
command -v tar > /dev/null || die "tar is not installed"

parent="$(dirname "$dest")"
mkdir -p "$parent" || die "cannot create $parent"
work="$(mktemp -d "$parent/.fetch-webui.XXXXXX")" || die "cannot create a temporary directory in $parent"
trap 'rm -rf "$work"' EXIT

echo "fetch-webui.sh: downloading $want from the npm registry"
if ! (cd "$work" && npm pack "$want" --loglevel=error > pack.out 2> pack.err); then
  cat "$work/pack.err" >&2 || true
  die "npm pack $want failed (is the npm registry reachable? npm config get registry: $(npm config get registry 2> /dev/null || echo '?'))"
fi
tgz="$work/$(tail -n 1 "$work/pack.out")"
[ -f "$tgz" ] || die "npm pack did not produce a tarball (output: $(cat "$work/pack.out"))"

if [ "$VERSION" = "$PINNED_VERSION" ]; then
  got="sha512-$(node -e 'const c=require("crypto"),f=require("fs");
process.stdout.write(c.createHash("sha512").update(f.readFileSync(process.argv[1])).digest("base64"))' "$tgz")"
  [ "$got" = "$PINNED_SHA512" ] || die "$want tarball checksum mismatch: got $got, want $PINNED_SHA512"
fi

mkdir "$work/x"
tar -xzf "$tgz" -C "$work/x" --touch --no-same-owner --no-same-permissions package/dist ||
  die "$want has no package/dist in its tarball"
new="$work/x/package/dist"
[ -f "$new/index.html" ] || die "$want's dist has no index.html"
# the plugin refuses symlinks that leave the directory; a release never has any
[ -z "$(find "$new" -type l -print -quit)" ] || die "$want's dist holds symlinks: refusing it"
chmod -R u+rwX,go+rX,go-w "$new"
printf '%s\n' "$want" > "$new/$MARKER"

# replace in two renames: the old copy (if any) is moved aside, never half-overwritten
if [ -e "$dest" ]; then
  mv "$dest" "$work/old" || die "cannot move the old $dest aside"
fi
mv "$new" "$dest" || die "cannot move the new UI to $dest"
echo "fetch-webui.sh: $want installed in $dest ($(du -sh "$dest" | cut -f1))"
