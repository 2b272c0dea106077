#!/bin/bash
# make.sh rebuilds the cramfs test fixtures in this directory with the real
# mkfs.cramfs (util-linux) from a small root tree, and writes tree.manifest
# (and b16.manifest for the tree of b16.cramfs): one line per entry, "type
# path size sha256 [target]" (type f, d, l, c, b, p or s; "-" where there is
# no hash). Run it as root (for mknod) from
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

# A second, smaller tree for an image with 16 KiB blocks.
b16=$work/b16
mkdir -p "$b16/lib"
head -c 70000 "$root/usr/lib/libengine.bin" >"$b16/lib/engine.bin"
cp "$root/opt/netwarden/bases/base001.avc" "$b16/base001.avc"
(cd "$b16" && for p in base001.avc lib lib/engine.bin; do
	if [ -d "$p" ]; then echo "d $p 0 -"
	else echo "f $p $(stat -c %s "$p") $(sha256sum <"$p" | cut -d' ' -f1)"
	fi
done) >"$out/b16.manifest"

mkfs.cramfs -N little -n fixture "$root" "$out/rootfs-le.cramfs" >/dev/null
mkfs.cramfs -N big -n fixture "$root" "$out/rootfs-be.cramfs" >/dev/null
mkfs.cramfs -N little -z -n holes "$root" "$out/rootfs-holes.cramfs" >/dev/null
mkfs.cramfs -N big -p -n padded "$root" "$out/rootfs-pad-be.cramfs" >/dev/null
mkfs.cramfs -N little -b 16384 -n b16 "$b16" "$out/b16.cramfs" >/dev/null
ls -l "$out"
