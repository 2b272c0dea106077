#!/bin/bash
# make.sh rebuilds the TRX fixtures in this directory. No Debian tool writes
# TRX, so mktrx.go (go run) wraps real payloads: a gzip'd kernel stand-in
# and a squashfs made by mksquashfs. For each image X it writes X.manifest,
# one "slot size sha256" line per payload (a partition is its payload
# followed by zero padding up to the next one).
set -euo pipefail
cd "$(dirname "$0")"
out=$PWD
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export SOURCE_DATE_EPOCH=1577836800

root=$work/root
mkdir -p "$root/opt/netwarden/bases" "$root/etc"
printf 'AVP Antiviral Database. (c)Kaspersky Lab 1997-2015.\nbase001 fixture\n' >"$root/opt/netwarden/bases/base001.avc"
printf 'netwarden\n' >"$root/etc/hostname"
ln -s usr/lib "$root/lib"
find "$root" -exec touch -h -d 2020-01-01T00:00:00Z {} +
mksquashfs "$root" "$work/rootfs.sqfs" -comp xz -noappend -all-root -quiet -no-progress >/dev/null
head -c 30000 /usr/bin/ls | gzip -9n >"$work/kernel.gz"
head -c 1000 /usr/bin/cat >"$work/loader.bin"

go run mktrx.go 1 "$out/v1.trx" "$work/loader.bin" "$work/kernel.gz" "$work/rootfs.sqfs" >"$out/v1.trx.manifest"
go run mktrx.go 2 "$out/v2.trx" "$work/kernel.gz" "$work/rootfs.sqfs" "" "$work/loader.bin" >"$out/v2.trx.manifest"
ls -l "$out"
