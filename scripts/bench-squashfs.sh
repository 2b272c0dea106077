#!/usr/bin/env bash
# End-to-end firmware scan against unsquashfs alone and unsquashfs + rg, on
# a squashfs image of a real directory, in the same run (page cache warm).
#
#   scripts/bench-squashfs.sh [DIR] [COMP] [MKSQUASHFS-ARGS...]
#       (default /usr/lib/x86_64-linux-gnu, gzip)
#
# A Debian root filesystem, as in the README:
#   scripts/bench-squashfs.sh / gzip -wildcards -e proc sys dev tmp work \
#       farm root run mnt media usr/local opt usr/lib/google-cloud-sdk \
#       usr/lib/jvm usr/lib/llvm-14 usr/share/package-lists var/cache \
#       var/log home srv boot
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${1:-/usr/lib/x86_64-linux-gnu}
comp=${2:-gzip}
shift $(($# < 2 ? $# : 2))
command -v mksquashfs >/dev/null || apt-get install -y squashfs-tools >/dev/null
command -v rg >/dev/null || apt-get install -y ripgrep >/dev/null
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
go build -o "$tmp/oemtrace" ./cmd/oemtrace
go run ./internal/tools/siglits > "$tmp/pats.txt"
mksquashfs "$dir" "$tmp/img.sqfs" -comp "$comp" -noappend -all-root -quiet "$@" >/dev/null
size=$(stat -c %s "$tmp/img.sqfs")
cat "$tmp/img.sqfs" >/dev/null
echo "image: $dir as squashfs/$comp, $size bytes; $(nproc) cores"
# Each run starts after the page cache has written back what the one
# before wrote (unsquashfs's output), which would otherwise slow the next.
t() {
	local name=$1; shift
	sync
	/usr/bin/time -f "$name: %e s, max RSS %M KB" "$@" >/dev/null 2>"$tmp/err" || true
	tail -1 "$tmp/err"
	rm -rf "$tmp/u1" "$tmp/u2"
}
for run in 1 2 3; do
	echo "run $run"
	t "unsquashfs -d" unsquashfs -q -n -d "$tmp/u1" "$tmp/img.sqfs"
	t "unsquashfs -d + rg -F -f" bash -c "unsquashfs -q -n -d '$tmp/u2' '$tmp/img.sqfs' && rg -F -f '$tmp/pats.txt' -c -a -uuu '$tmp/u2'"
	t "oemtrace scan (in place: Syft + content)" "$tmp/oemtrace" scan --quiet "$tmp/img.sqfs"
done
