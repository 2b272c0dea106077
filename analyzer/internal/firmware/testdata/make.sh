#!/bin/bash
# make.sh rebuilds the firmware test fixtures in this directory from a tiny
# root tree, with the real tools (squashfs-tools, cpio, u-boot-tools, gzip,
# xz, zstd, lz4, e2fsprogs, genisoimage, dosfstools, mtools). Run it from
# anywhere; outputs are written next to it.
set -euo pipefail
cd "$(dirname "$0")"
out=$PWD
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
root=$work/root
mkdir -p "$root/opt/netwarden/bases" "$root/opt/netwarden/bin" "$root/etc" "$root/usr/lib/sub"
printf 'AVP Antiviral Database. (c)Kaspersky Lab 1997-2015.\nbase001 fixture\n' >"$root/opt/netwarden/bases/base001.avc"
printf 'KLI appinfo fixture\n' >"$root/opt/netwarden/bin/appinfo.kli"
printf 'netwarden\n' >"$root/etc/hostname"
printf 'library fixture\n' >"$root/usr/lib/sub/libfixture.so"
ln -s usr/lib "$root/lib"
ln "$root/opt/netwarden/bin/appinfo.kli" "$root/opt/netwarden/bin/appinfo-link.kli"
touch -h -d 2020-01-01T00:00:00Z "$root/lib"
find "$root" -exec touch -h -d 2020-01-01T00:00:00Z {} +

for c in gzip xz zstd lzo lz4; do
	mksquashfs "$root" "$out/rootfs-$c.sqfs" -comp "$c" -noappend -all-root -quiet -no-progress >/dev/null
done
mksquashfs "$root" "$out/rootfs-xzbcj.sqfs" -comp xz -Xbcj x86 -noappend -all-root -quiet -no-progress >/dev/null

(cd "$root" && find . | LC_ALL=C sort >"$work/list")
for h in newc crc odc; do
	(cd "$root" && cpio -o -H "$h" --owner 0:0 --quiet <"$work/list") >"$out/initrd-$h.cpio"
done
gzip -9nc "$out/initrd-newc.cpio" >"$out/initrd.cpio.gz"
xz -c "$out/initrd-newc.cpio" >"$out/initrd.cpio.xz"
mkimage -A arm -O linux -T ramdisk -C gzip -n test -d "$out/initrd.cpio.gz" "$out/uinitrd.img" >/dev/null
(cd "$root" && tar --owner 0 --group 0 --sort=name -cf "$work/rootfs.tar" .)
zstd -q -f -19 "$work/rootfs.tar" -o "$out/rootfs.tar.zst"
lz4 -q -f "$work/rootfs.tar" "$out/rootfs.tar.lz4"
# Filesystem images (uncompressed; read by go-diskfs). mke2fs -d and mcopy
# copy the tree; the ext2 image proves the "no metadata checksums" gap.
SOURCE_DATE_EPOCH=1577836800 E2FSPROGS_FAKE_TIME=1577836800 mke2fs -q -F -t ext4 -b 1024 -N 64 -m 0 -U 00000000-0000-0000-0000-000000000001 -E hash_seed=00000000-0000-0000-0000-000000000002 -d "$root" "$out/rootfs-ext4.img" 512k
SOURCE_DATE_EPOCH=1577836800 E2FSPROGS_FAKE_TIME=1577836800 mke2fs -q -F -t ext2 -b 1024 -N 64 -m 0 -U 00000000-0000-0000-0000-000000000001 -E hash_seed=00000000-0000-0000-0000-000000000002 -d "$root" "$out/rootfs-ext2.img" 256k
genisoimage -quiet -R -J -V FIXTURE -o "$out/rootfs.iso" "$root"
rm -f "$out/rootfs-fat.img"
mkfs.vfat -C -i 12345678 -n FIXTURE "$out/rootfs-fat.img" 256 >/dev/null
MTOOLS_SKIP_CHECK=1 mcopy -s -i "$out/rootfs-fat.img" "$root/opt" "$root/etc" "$root/usr" ::/
# 7-Zip (LZMA2, solid), symlinks stored as links.
rm -f "$out/rootfs.7z"
(cd "$root" && 7z a -bd -bso0 -snl -mtc=off -mta=off "$out/rootfs.7z" .)
# A raw flash dump: a boot loader stand-in, the uImage at an unaligned
# offset, erased flash (0xff) and a squashfs, found only by carving.
dump=$out/flash.bin
yes 'U-Boot 2016.03 (fixture) boot loader' | head -c 4099 >"$dump"
cat "$out/uinitrd.img" >>"$dump"
head -c 8193 /dev/zero | tr '\0' '\377' >>"$dump"
cat "$out/rootfs-zstd.sqfs" >>"$dump"
yes 'trailer' | head -c 333 >>"$dump"
ls -l "$out"
