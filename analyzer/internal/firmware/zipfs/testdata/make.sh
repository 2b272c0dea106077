#!/bin/bash
# make.sh rebuilds tree.zip with the real Info-ZIP zip from a small root
# tree, and writes tree.manifest: one line per entry, "type path size
# sha256 [target]" (type f, d or l; "-" where there is no hash). Files
# ending in .kli are stored, the rest deflated; symbolic links are stored
# as links (-y). Outputs are written next to this script.
set -euo pipefail
cd "$(dirname "$0")"
out=$PWD
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
root=$work/root

# The tree shared by the image readers' fixtures; zip holds no special
# files, and stores a hard link as a second file.
. ../../imgtest/tree.sh
make_tree "$root"

find "$root" -exec touch -h -d '2026-11-23 00:00:00 UTC' {} +
rm -f "$out/tree.zip"
(cd "$root" && find . -mindepth 1 | LC_ALL=C sort | sed 's|^\./||' |
	TZ=UTC zip -q -X -y -n .kli -@ "$out/tree.zip")

write_manifest "$root" >"$out/tree.manifest"
