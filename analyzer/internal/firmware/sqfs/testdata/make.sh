#!/bin/bash
# make.sh rebuilds the squashfs fixtures in this directory with the real
# squashfs-tools (mksquashfs) and xz-utils, plus rootfs.manifest, which lists
# what the images hold: one line per entry,
#
#   type perm path size sha256 extra
#
# type d (directory), f (regular file), l (symlink; extra is the target),
# c or b (device; extra is major:minor), p (fifo), s (socket); "-" fills
# fields that do not apply. Run it from anywhere; outputs land next to it.
set -euo pipefail
cd "$(dirname "$0")"
out=$PWD
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
root=$work/root

# rand N SEED writes N deterministic pseudo-random bytes.
rand() { python3 -c "import random,sys; random.seed($2); sys.stdout.buffer.write(random.randbytes($1))"; }

mkdir -p "$root/opt/netwarden/bases" "$root/opt/netwarden/bin" "$root/opt/netwarden/data" \
	"$root/etc" "$root/usr/lib/sub" "$root/usr/bin" "$root/usr/share" "$root/var/empty-dir" \
	"$root/a/b/c/d" "$root/tmp" "$root/many"
printf 'AVP Antiviral Database. (c)Kaspersky Lab 1997-2015.\nbase001 fixture\n' >"$root/opt/netwarden/bases/base001.avc"
printf 'KLI appinfo fixture\n' >"$root/opt/netwarden/bin/appinfo.kli"
ln "$root/opt/netwarden/bin/appinfo.kli" "$root/opt/netwarden/bin/appinfo-link.kli"
printf 'netwarden\n' >"$root/etc/hostname"
printf 'library fixture\n' >"$root/usr/lib/sub/libfixture.so"
printf 'deep\n' >"$root/a/b/c/d/deep.txt"
printf 'unicode name\n' >"$root/usr/share/naïve-façade.txt"
: >"$root/var/empty"
# ~200 KB of real x86 code: several data blocks, and BCJ x86 pays off.
{ cat /usr/bin/ls; head -c 50000 /usr/bin/cp; } >"$root/usr/bin/tool"
chmod 4755 "$root/usr/bin/tool"
chmod 1777 "$root/tmp"
# Incompressible: stored uncompressed with small blocks.
rand 6000 1 >"$root/opt/netwarden/bin/random.bin"
# Zero blocks in the middle are stored sparse.
{ rand 4096 2; head -c 300000 /dev/zero; rand 1000 3; } >"$root/opt/netwarden/data/sparse.img"
# A listing larger than a metadata block gives an extended directory inode.
for i in $(seq -w 1 300); do : >"$root/many/entry-with-a-fairly-long-name-$i"; done
ln -s usr/lib "$root/lib"
ln -s ../../etc/hostname "$root/usr/lib/hostname-link"
ln -s /nonexistent/target "$root/usr/lib/dangling"
find "$root" -exec touch -h -d 2020-01-01T00:00:00Z {} +

# Devices, a fifo and a socket come from pseudo definitions (no root needed).
pseudo=(-p "dev d 755 0 0" -p "dev/console c 600 0 0 5 1" -p "dev/sda b 660 0 0 8 0"
	-p "run d 755 0 0" -p "run/fifo i 644 0 0 f" -p "run/sock i 644 0 0 s")
mk() {
	local name=$1
	shift
	mksquashfs "$root" "$out/$name.sqfs" -noappend -all-root -mkfs-time 1577836800 -quiet -no-progress \
		"${pseudo[@]}" "$@" >/dev/null
}
mk rootfs-gzip -comp gzip
mk rootfs-xz -comp xz
mk rootfs-xzbcj -comp xz -Xbcj x86
mk rootfs-lzo -comp lzo
mk rootfs-lz4 -comp lz4
mk rootfs-zstd -comp zstd
mk rootfs-lzma -comp lzma
mk rootfs-nofrag -comp gzip -no-fragments
mk rootfs-allfrag -comp gzip -always-use-fragments
mk rootfs-b4096 -comp gzip -b 4096 -force-uid 1234 -force-gid 567
# Uncompressed metadata and fragments (data stays compressed): the tests
# turn this one into a big-endian image field by field.
mk rootfs-noi -comp gzip -noI -noId -noF -no-exports -no-xattrs

# Tiny images (no padding, 4 KiB blocks) seed the fuzzer.
tiny=$work/tiny
mkdir -p "$tiny/etc" "$tiny/a/b/c" "$tiny/bin"
cp "$root/opt/netwarden/bases/base001.avc" "$root/etc/hostname" "$tiny/etc/"
ln "$tiny/etc/hostname" "$tiny/etc/hostname.bak"
head -c 9000 /usr/bin/ls >"$tiny/bin/prog"
printf 'deep\n' >"$tiny/a/b/c/deep.txt"
ln -s ../etc/hostname "$tiny/bin/link"
find "$tiny" -exec touch -h -d 2020-01-01T00:00:00Z {} +
for c in gzip xz lzo lz4 zstd lzma; do
	mksquashfs "$tiny" "$out/tiny-$c.sqfs" -comp "$c" -b 4096 -nopad -noappend -all-root -mkfs-time 1577836800 \
		-quiet -no-progress -p "dev d 755 0 0" -p "dev/null c 666 0 0 1 3" >/dev/null
done
mksquashfs "$tiny" "$out/tiny-noi.sqfs" -comp gzip -b 4096 -nopad -noappend -all-root -mkfs-time 1577836800 \
	-quiet -no-progress -noI -noId -noF -no-exports -no-xattrs >/dev/null

# The manifest, from the source tree plus the pseudo entries.
{
	(cd "$root" && find . -mindepth 1 | LC_ALL=C sort) | while IFS= read -r p; do
		p=${p#./}
		f=$root/$p
		perm=$(stat -c %a "$f")
		if [ -L "$f" ]; then
			printf 'l %s %s %s - %s\n' "$perm" "$p" "$(readlink "$f" | tr -d '\n' | wc -c)" "$(readlink "$f")"
		elif [ -d "$f" ]; then
			printf 'd %s %s - - -\n' "$perm" "$p"
		else
			printf 'f %s %s %s %s -\n' "$perm" "$p" "$(stat -c %s "$f")" "$(sha256sum <"$f" | cut -d' ' -f1)"
		fi
	done
	printf 'd 755 dev - - -\nc 600 dev/console - - 5:1\nb 660 dev/sda - - 8:0\n'
	printf 'd 755 run - - -\np 644 run/fifo - - -\ns 644 run/sock - - -\n'
} | LC_ALL=C sort -k3,3 >"$out/rootfs.manifest"

# xz streams with each BCJ filter (and delta) over the same data, for the
# xz decoder's own tests.
mkdir -p "$out/xz"
{ rand 6144 4; head -c 4096 /usr/bin/ls; } >"$out/xz/input.bin"
xzf() { xz --format=xz "$@" --lzma2=preset=6 -c "$out/xz/input.bin"; }
xzf --x86 >"$out/xz/x86.xz"
xzf --x86=start=4096 --check=sha256 >"$out/xz/x86-start.xz"
xzf --arm --check=crc32 >"$out/xz/arm.xz"
xzf --armthumb --check=none >"$out/xz/armthumb.xz"
xzf --powerpc >"$out/xz/powerpc.xz"
xzf --sparc >"$out/xz/sparc.xz"
xzf --ia64 >"$out/xz/ia64.xz"
xzf --arm64 >"$out/xz/arm64.xz"
xzf --delta=dist=4 >"$out/xz/delta.xz"
xzf --x86 --delta=dist=2 >"$out/xz/x86-delta.xz"
ls -l "$out" "$out/xz"
