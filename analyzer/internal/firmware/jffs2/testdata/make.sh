#!/bin/bash
# make.sh rebuilds the JFFS2 test fixtures in this directory with the real
# mkfs.jffs2 and sumtool (mtd-utils) from a small root tree, and writes tree.manifest:
# one line per entry, "type path size sha256 [target]" (type f, d, l, c, b,
# p or s; "-" where there is no hash). Run it as root (for mknod) from
# anywhere; outputs are written next to it.
set -euo pipefail
cd "$(dirname "$0")"
out=$PWD
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
root=$work/root

# The tree shared by the image readers' fixtures, with special files.
. ../../imgtest/tree.sh
make_tree "$root"
add_special_files "$root"
write_manifest "$root" >"$out/tree.manifest"

# Images: default compressors (zlib and rtime) in both byte orders, each
# compressor alone, small padded erase blocks with and without cleanmarkers,
# and erase-block summaries (sumtool).
j="mkfs.jffs2 -q -f -r $root"
$j -l -o "$out/rootfs-le.jffs2"
$j -b -o "$out/rootfs-be.jffs2"
$j -l -x zlib -o "$out/rootfs-rtime.jffs2"
$j -b -X lzo -x zlib -x rtime -o "$out/rootfs-lzo-be.jffs2"
$j -l -x zlib -x rtime -o "$out/rootfs-none.jffs2"
$j -l -e 0x2000 -p -o "$out/rootfs-pad.jffs2"
$j -b -e 0x2000 -n -p -o "$out/rootfs-nocm-be.jffs2"
$j -l -e 0x10000 -p -o "$work/full.jffs2"
sumtool -l -e 0x10000 -i "$work/full.jffs2" -o "$out/rootfs-summary.jffs2"
ls -l "$out"
