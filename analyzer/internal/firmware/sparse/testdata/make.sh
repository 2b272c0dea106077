#!/bin/bash
# make.sh rebuilds the sparse-image fixtures in this directory with the real
# tools: mke2fs -d makes a 1 MiB ext4 image of a tiny tree (with blocks of
# zeros and of a repeated byte, so FILL chunks appear), img2simg converts it
# with 4 KiB and 1 KiB blocks, and simg2simg splits it into pieces of at
# most 40000 bytes (each piece marks the others' blocks DONT_CARE). The raw
# image is not kept: raw.manifest holds its "size sha256". mke2fs -d copies
# the source files' ctimes, so the outputs differ from run to run; commit
# them together with raw.manifest.
set -euo pipefail
cd "$(dirname "$0")"
out=$PWD
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

root=$work/root
mkdir -p "$root/opt/netwarden/bases" "$root/usr/lib/sub/deeper"
printf 'AVP Antiviral Database. (c)Kaspersky Lab 1997-2015.\nbase001 fixture\n' >"$root/opt/netwarden/bases/base001.avc"
head -c 40000 /usr/bin/ls >"$root/usr/lib/sub/deeper/blob.bin"
head -c 16384 /dev/zero | tr '\0' '\253' >"$root/usr/lib/fill.bin"
: >"$root/empty"
ln -s usr/lib "$root/lib"
find "$root" -exec touch -h -d 2020-01-01T00:00:00Z {} +
SOURCE_DATE_EPOCH=1577836800 E2FSPROGS_FAKE_TIME=1577836800 mke2fs -q -F -t ext4 -b 1024 -N 32 -m 0 -O ^has_journal \
	-U 00000000-0000-0000-0000-000000000001 -E hash_seed=00000000-0000-0000-0000-000000000002 \
	-d "$root" "$work/raw.img" 1024k >/dev/null
printf '%d %s\n' "$(stat -c %s "$work/raw.img")" "$(sha256sum <"$work/raw.img" | cut -d' ' -f1)" >"$out/raw.manifest"
img2simg "$work/raw.img" "$out/ext4-4k.simg"
img2simg "$work/raw.img" "$out/ext4-1k.simg" 1024
rm -f "$out"/ext4-split.simg.*
simg2simg "$out/ext4-4k.simg" "$out/ext4-split.simg" 40000
ls -l "$out"
