#!/bin/bash
# make.sh rebuilds the UBIFS fixtures in this directory and the UBI fixtures
# in ../../ubi/testdata with the real tools (mtd-utils: mkfs.ubifs, ubinize;
# gzip, python3 for deterministic pseudo-random bytes, openssl for a signing
# key). Run it from anywhere.
#
# Outputs (mostly 0xff padding, so each is stored gzip-compressed; the tests
# gunzip them in memory):
#   rootfs-{lzo,zlib,zstd,none,favor_lzo}.ubifs.gz  mkfs.ubifs -m 2048 -e 126976 -c 64
#   rootfs.manifest                                 "type path size sha256 [target]" lines
#   tiny.ubifs.gz, tiny.manifest                    a few files, mkfs.ubifs -m 512 -e 15360
#                                                   (the smallest LEB): the fuzz seed
#   tiny-auth.ubifs.gz                              the same, authenticated (--hash-algo sha256)
#   ../../ubi/testdata/tiny.ubi.gz                  tiny.ubifs as volume "rootfs", 16 KiB PEBs
#   ../../ubi/testdata/rootfs.ubi.gz                ubinize -m 2048 -p 128KiB -s 512:
#       volume 0 "rootfs" dynamic (UBIFS built with -e 129024, the LEB size of
#       that geometry: 128 KiB - 2048 data offset), volume 1 "kernel" static
#       (kernel.gz)
#   ../../ubi/testdata/small.ubi.gz                 ubinize -m 512 -p 16KiB: volume 0
#       "data" static (blob.bin, spans 3 LEBs), volume 3 "config" dynamic (config.bin)
#   ../../ubi/testdata/volumes.manifest             "id name type lebsize size sha256" lines
#       for the static volumes and raw dynamic one
set -euo pipefail
cd "$(dirname "$0")"
out=$PWD
ubiout=$(cd ../../ubi/testdata && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# gen SEED SIZE KIND: deterministic bytes (xorshift; independent of the
# Python version). KIND "mixed" cycles 4 KiB blocks of random bytes, text,
# half random/half zero, a repeated pattern, and one all-zero block (a hole).
gen() {
	python3 - "$@" <<'EOF'
import sys
seed, size, kind = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
x = seed or 1
def rnd(n):
    global x
    b = bytearray(n)
    for i in range(n):
        x ^= (x << 13) & 0xffffffff; x ^= x >> 17; x ^= (x << 5) & 0xffffffff
        b[i] = x & 0xff
    return bytes(b)
words = b"engine update signature scanner database heuristic archive packed kernel module "
out = bytearray()
blk = 0
while len(out) < size:
    if kind != "mixed":
        out += rnd(4096)
    elif blk == 10:
        out += bytes(4096)
    elif blk % 4 == 0:
        out += rnd(4096)
    elif blk % 4 == 1:
        r = rnd(512)
        out += b"".join(words[(c % 10) * 8:(c % 10) * 8 + 8] for c in r)
    elif blk % 4 == 2:
        out += rnd(2048) + bytes(2048)
    else:
        out += (b"%06d:" % blk) * 586 + b"\n\n\n\n"
    blk += 1
sys.stdout.buffer.write(bytes(out[:size]))
EOF
}

# manifest DIR prints "type path size sha256 [target]" for each entry.
manifest() {
	(
		cd "$1"
		find . -mindepth 1 | LC_ALL=C sort | while read -r p; do
			p=${p#./}
			if [ -L "$p" ]; then
				t=$(readlink "$p")
				echo "l $p ${#t} - $t"
			elif [ -d "$p" ]; then
				echo "d $p 0 -"
			elif [ -p "$p" ]; then
				echo "p $p 0 -"
			else
				echo "f $p $(stat -c %s "$p") $(sha256sum <"$p" | cut -d' ' -f1)"
			fi
		done
	) | LC_ALL=C sort -k2
}

root=$work/root
mkdir -p "$root/opt/netwarden/bases" "$root/opt/netwarden/bin" "$root/etc" "$root/usr/lib/sub" \
	"$root/a/b/c/d" "$root/var" "$root/dev" "$root/emptydir"
printf 'AVP Antiviral Database. (c)Kaspersky Lab 1997-2015.\nbase001 fixture\n' >"$root/opt/netwarden/bases/base001.avc"
printf 'KLI appinfo fixture\n' >"$root/opt/netwarden/bin/appinfo.kli"
ln "$root/opt/netwarden/bin/appinfo.kli" "$root/opt/netwarden/bin/appinfo-link.kli"
printf 'netwarden\n' >"$root/etc/hostname"
: >"$root/etc/empty"
printf 'library fixture\n' >"$root/usr/lib/sub/libfixture.so"
printf 'deep fixture\n' >"$root/a/b/c/d/deep.txt"
gen 7 200000 mixed >"$root/usr/lib/blob.bin"
gen 11 4096 random >"$root/var/block4096.bin"
gen 12 4097 random >"$root/var/block4097.bin"
# A sparse file: data, a 12 KiB hole, data.
gen 13 5000 random >"$root/var/sparse.bin"
truncate -s 20480 "$root/var/sparse.bin"
gen 14 100 random >>"$root/var/sparse.bin"
ln -s usr/lib "$root/lib"
ln -s /usr/share/zoneinfo/Europe/Some/Very/Long/Path/To/A/Zone/File/That/Exceeds/One/Hundred/Characters/UTC "$root/etc/localtime"
ln -s loop2 "$root/var/loop1"
ln -s loop1 "$root/var/loop2"
ln -s ../../etc/hostname "$root/var/up"
mkfifo "$root/dev/initctl"
find "$root" -exec touch -h -d 2020-01-01T00:00:00Z {} +
# Device nodes come from a device table (no root needed).
printf '/dev/console c 600 0 0 5 1\n/dev/mtdblock0 b 640 0 0 31 0\n' >"$work/devtable"

for c in lzo zlib zstd none favor_lzo; do
	mkfs.ubifs -r "$root" -D "$work/devtable" -U -m 2048 -e 126976 -c 64 -x "$c" -o "$work/rootfs-$c.ubifs"
	gzip -9n <"$work/rootfs-$c.ubifs" >"$out/rootfs-$c.ubifs.gz"
done

{
	manifest "$root"
	echo "c dev/console 0 -"
	echo "b dev/mtdblock0 0 -"
} | LC_ALL=C sort -k2 >"$out/rootfs.manifest"

# A tiny file system with the smallest LEBs (15 KiB), the seed of the fuzz
# targets, and the same in a UBI image of 16 KiB PEBs.
tiny=$work/tiny
mkdir -p "$tiny/etc/init.d" "$tiny/opt/netwarden/bases"
printf 'AVP Antiviral Database. (c)Kaspersky Lab 1997-2015.\nbase001 fixture\n' >"$tiny/opt/netwarden/bases/base001.avc"
printf '#!/bin/sh\necho start\n' >"$tiny/etc/init.d/rcS"
gen 31 9000 mixed >"$tiny/etc/blob"
ln -s etc/init.d "$tiny/init"
find "$tiny" -exec touch -h -d 2020-01-01T00:00:00Z {} +
mkfs.ubifs -r "$tiny" -U -m 512 -e 15360 -c 32 -x favor_lzo -X 5 -o "$work/tiny.ubifs"
gzip -9n <"$work/tiny.ubifs" >"$out/tiny.ubifs.gz"
manifest "$tiny" >"$out/tiny.manifest"
# The same, authenticated (signed superblock; index branches carry SHA-256
# hashes of their targets): needs openssl for a throwaway key.
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$work/key.pem" -out "$work/cert.pem" -days 3650 -subj /CN=fixture 2>/dev/null
mkfs.ubifs -r "$tiny" -U -m 512 -e 15360 -c 32 -x zstd --hash-algo sha256 --auth-key "$work/key.pem" --auth-cert "$work/cert.pem" -o "$work/tiny-auth.ubifs"
gzip -9n <"$work/tiny-auth.ubifs" >"$out/tiny-auth.ubifs.gz"
cat >"$work/tiny.cfg" <<EOF
[rootfs]
mode=ubi
image=$work/tiny.ubifs
vol_id=0
vol_type=dynamic
vol_name=rootfs
EOF
ubinize -o "$work/tiny.ubi" -m 512 -p 16KiB -Q 9 "$work/tiny.cfg"
gzip -9n <"$work/tiny.ubi" >"$ubiout/tiny.ubi.gz"

# UBI: 128 KiB PEBs, 2048-byte pages, 512-byte sub-pages: VID header at 512,
# data at 2048, so the LEB size is 129024 and the UBIFS must be built for it.
mkfs.ubifs -r "$root" -D "$work/devtable" -U -m 2048 -e 129024 -c 64 -x lzo -o "$work/rootfs-ubi.ubifs"
printf 'fixture kernel image\n' | gzip -9n >"$work/kernel.gz"
cat >"$work/rootfs.cfg" <<EOF
[rootfs]
mode=ubi
image=$work/rootfs-ubi.ubifs
vol_id=0
vol_type=dynamic
vol_name=rootfs
vol_flags=autoresize

[kernel]
mode=ubi
image=$work/kernel.gz
vol_id=1
vol_type=static
vol_name=kernel
EOF
ubinize -o "$work/rootfs.ubi" -m 2048 -p 128KiB -s 512 -Q 305419896 "$work/rootfs.cfg"
gzip -9n <"$work/rootfs.ubi" >"$ubiout/rootfs.ubi.gz"

# A small-PEB image whose static volume spans several LEBs.
gen 21 40000 random >"$work/blob.bin"
gen 22 3000 random >"$work/config.bin"
cat >"$work/small.cfg" <<EOF
[data]
mode=ubi
image=$work/blob.bin
vol_id=0
vol_type=static
vol_name=data

[config]
mode=ubi
image=$work/config.bin
vol_id=3
vol_type=dynamic
vol_name=config
vol_size=40KiB
EOF
ubinize -o "$work/small.ubi" -m 512 -p 16KiB -Q 7 "$work/small.cfg"
gzip -9n <"$work/small.ubi" >"$ubiout/small.ubi.gz"

sum() { sha256sum <"$1" | cut -d' ' -f1; }
{
	echo "rootfs.ubi 0 rootfs dynamic 129024 $(stat -c %s "$work/rootfs-ubi.ubifs") $(sum "$work/rootfs-ubi.ubifs")"
	echo "rootfs.ubi 1 kernel static 129024 $(stat -c %s "$work/kernel.gz") $(sum "$work/kernel.gz")"
	echo "small.ubi 0 data static 15360 $(stat -c %s "$work/blob.bin") $(sum "$work/blob.bin")"
	echo "small.ubi 3 config dynamic 15360 $(stat -c %s "$work/config.bin") $(sum "$work/config.bin")"
} >"$ubiout/volumes.manifest"
ls -l "$out" "$ubiout"
