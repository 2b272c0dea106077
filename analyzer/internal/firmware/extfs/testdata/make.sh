#!/bin/bash
# make.sh rebuilds the ext2/ext3/ext4 test images in this directory with the
# real e2fsprogs (mke2fs -d copies a tree into a new image; e2fsck -D indexes
# large directories). Each image gets a manifest, NAME.manifest, listing what
# the tree holds: "type path size sha256 [target]" per line, sorted by path,
# with "-" for fields that do not apply. Images larger than 256 KB are kept
# gzip-compressed (mostly zeros). Run it from anywhere; outputs are written
# next to it. Output is deterministic (fixed times, UUID and hash seed).
set -euo pipefail
cd "$(dirname "$0")"
out=$PWD
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export SOURCE_DATE_EPOCH=1577836800 E2FSPROGS_FAKE_TIME=1577836800 LC_ALL=C TZ=UTC
mkfs=(mke2fs -q -F -m 0 -U 00000000-0000-0000-0000-000000000001 -E hash_seed=00000000-0000-0000-0000-000000000002)

# lcg N SEED writes N deterministic pseudo-random bytes.
lcg() { mawk -v n="$1" -v x="$2" 'BEGIN{for(i=0;i<n;i++){x=(x*69069+1)%4294967296; printf "%c", int(x/16777216)}}'; }

# small ROOT: the shared tree without the large random file.
small() {
	local r=$1
	mkdir -p "$r/opt/netwarden/bases" "$r/opt/netwarden/bin" "$r/etc" "$r/usr/lib/sub/deeper" "$r/var/run"
	printf 'AVP Antiviral Database. (c)Kaspersky Lab 1997-2015.\nbase001 fixture\n' >"$r/opt/netwarden/bases/base001.avc"
	printf 'KLI appinfo fixture\n' >"$r/opt/netwarden/bin/appinfo.kli"
	ln "$r/opt/netwarden/bin/appinfo.kli" "$r/opt/netwarden/bin/appinfo-link.kli"
	printf 'netwarden\n' >"$r/etc/hostname"
	: >"$r/etc/empty"
	printf 'library fixture\n' >"$r/usr/lib/sub/deeper/libfixture.so"
	ln -s usr/lib "$r/lib"
	# Longer than the 60 bytes of i_block: a slow symlink (or inline data).
	ln -s ../opt/netwarden/bases/../bases/../bases/../bases/../bases/base001.avc "$r/etc/base.link"
	mkfifo "$r/var/run/ctl.fifo"
	mknod "$r/var/run/null" c 1 3
}

# full ROOT: the shared tree with a 200,000-byte random file and a sparse
# file (six 1 KiB data runs 64 KiB apart: holes and more than four extents).
full() {
	local r=$1
	small "$r"
	lcg 200000 1 >"$r/opt/netwarden/bin/random.bin"
	for i in 0 1 2 3 4 5; do
		lcg 1024 $((i + 7)) | dd of="$r/opt/netwarden/sparse.dat" bs=1024 seek=$((i * 64)) conv=notrunc status=none
	done
	truncate -s $((6 * 65536)) "$r/opt/netwarden/sparse.dat"
}

# numbered FILE BYTES writes compressible text in which every 1 KiB block
# differs: a numbered header line padded with dots.
numbered() { mawk -v n="$2" 'BEGIN{p=sprintf("%1009s", ""); gsub(/ /, ".", p); for(i=0;i*1024<n;i++) printf "block %08d\n%s\n", i, p}' | head -c "$2" >"$1"; }

# manifest ROOT NAME lists ROOT as NAME.manifest (plus mke2fs's lost+found).
manifest() {
	local r=$1
	{
		echo "d lost+found - -"
		(cd "$r" && find . -mindepth 1 | sed 's|^\./||') | while IFS= read -r p; do
			f=$r/$p
			if [ -L "$f" ]; then
				t=$(readlink "$f")
				echo "l $p ${#t} - $t"
			elif [ -d "$f" ]; then
				echo "d $p - -"
			elif [ -p "$f" ]; then
				echo "p $p - -"
			elif [ -c "$f" ]; then
				echo "c $p - -"
			else
				echo "f $p $(stat -c %s "$f") $(sha256sum <"$f" | cut -d' ' -f1)"
			fi
		done
	} | sort -k2,2 >"$out/$2.manifest"
}

# fixtimes ROOT IMG sets every inode's atime and ctime in IMG to the fixed
# time: mke2fs -d copies them from ROOT, where touch cannot set ctime.
fixtimes() {
	(cd "$1" && find . -mindepth 1 | sed 's|^\.||'; echo /; echo /lost+found) |
		while IFS= read -r p; do
			printf 'sif "%s" atime 20200101000000\nsif "%s" ctime 20200101000000\n' "$p" "$p"
		done >"$work/cmds"
	debugfs -w -f "$work/cmds" "$2" >/dev/null 2>&1
}

# finish ROOT NAME: fixed times, then the manifest.
finish() {
	find "$1" -exec touch -h -d 2020-01-01T00:00:00Z {} +
	manifest "$1" "$2"
}

rm -f "$out"/*.img "$out"/*.img.gz "$out"/*.manifest

# ext2, 1 KiB blocks: block maps up to double-indirect (big.dat is 300 KB).
r=$work/ext2 && full "$r" && numbered "$r/opt/netwarden/big.dat" 300000 && finish "$r" ext2
"${mkfs[@]}" -t ext2 -b 1024 -N 48 -d "$r" "$work/ext2.img" 768k >/dev/null
fixtimes "$r" "$work/ext2.img"
gzip -9n <"$work/ext2.img" >"$out/ext2.img.gz"

# ext2 revision 0: 128-byte inodes, no file types in directory entries.
r=$work/ext2r0 && small "$r" && finish "$r" ext2-rev0
"${mkfs[@]}" -t ext2 -r 0 -b 1024 -N 48 -d "$r" "$out/ext2-rev0.img" 64k >/dev/null
fixtimes "$r" "$out/ext2-rev0.img"
truncate -s 64k "$out/ext2-rev0.img" # mke2fs leaves the unused tail unwritten

# ext3: a journal (ignored by the reader) and block maps.
r=$work/ext3 && full "$r" && numbered "$r/opt/netwarden/big.dat" 300000 && finish "$r" ext3
"${mkfs[@]}" -t ext3 -b 1024 -N 48 -J size=1 -d "$r" "$work/ext3.img" 3072k >/dev/null
fixtimes "$r" "$work/ext3.img"
gzip -9n <"$work/ext3.img" >"$out/ext3.img.gz"

# ext4, 1 KiB blocks, default features plus 64bit (64-byte descriptors).
r=$work/ext4 && full "$r" && finish "$r" ext4
"${mkfs[@]}" -t ext4 -b 1024 -N 48 -O 64bit,^resize_inode,^has_journal -d "$r" "$out/ext4.img" 256k >/dev/null
fixtimes "$r" "$out/ext4.img"

# ext4, 4 KiB blocks, 32-byte descriptors.
r=$work/ext4k && full "$r" && finish "$r" ext4-4k
"${mkfs[@]}" -t ext4 -b 4096 -N 48 -O ^64bit,^resize_inode,^has_journal -d "$r" "$work/ext4-4k.img" 512k >/dev/null
fixtimes "$r" "$work/ext4-4k.img"
gzip -9n <"$work/ext4-4k.img" >"$out/ext4-4k.img.gz"

# ext4, 64 KiB blocks (the largest; directory record lengths need 17 bits).
r=$work/ext4-64k && small "$r" && finish "$r" ext4-64k
"${mkfs[@]}" -t ext4 -b 65536 -N 48 -O ^resize_inode,^has_journal -d "$r" "$work/ext4-64k.img" 4096k >/dev/null 2>&1
fixtimes "$r" "$work/ext4-64k.img"
gzip -9n <"$work/ext4-64k.img" >"$out/ext4-64k.img.gz"

# ext4 inline_data: files and directories kept in the inode.
r=$work/inline && small "$r" && mkdir -p "$r/inline/dir" "$r/inline/middir" "$r/inline/bigdir" &&
	printf 'twenty bytes inline\n' >"$r/inline/tiny" &&
	numbered "$r/inline/sixty" 60 && numbered "$r/inline/mid" 100 && numbered "$r/inline/big" 3000 &&
	printf 'x\n' >"$r/inline/dir/a" && for i in 1 2 3 4; do : >"$r/inline/middir/e$i"; done &&
	for i in $(seq 1 40); do printf '%d\n' "$i" >"$r/inline/bigdir/entry-$i"; done &&
	finish "$r" ext4-inline
"${mkfs[@]}" -t ext4 -b 1024 -I 256 -N 96 -O inline_data,^resize_inode,^has_journal -d "$r" "$out/ext4-inline.img" 128k >/dev/null
fixtimes "$r" "$out/ext4-inline.img"

# ext4 without extents, meta_bg over 48 block groups and an htree-indexed
# directory of 300 entries whose inodes spread over all groups.
r=$work/htree && small "$r" && mkdir -p "$r/many" &&
	for i in $(seq 1 300); do printf 'entry %d\n' "$i" >"$r/many/file-with-a-longish-name-$i.txt"; done &&
	finish "$r" ext4-htree
"${mkfs[@]}" -t ext4 -b 1024 -g 256 -N 384 -O ^extent,^64bit,meta_bg,^resize_inode,^has_journal -d "$r" "$work/htree.img" 12288k >/dev/null
fixtimes "$r" "$work/htree.img"
e2fsck -fyD "$work/htree.img" >/dev/null 2>&1 || [ $? -le 1 ]
debugfs -w -R "ssv wtime 20200101000000" "$work/htree.img" >/dev/null 2>&1
debugfs -w -R "ssv lastcheck 20200101000000" "$work/htree.img" >/dev/null 2>&1
gzip -9n <"$work/htree.img" >"$out/ext4-htree.img.gz"

# ext4 with an extent tree of depth 2: 400 one-block extents.
r=$work/deep && mkdir -p "$r" && numbered "$work/blk" 409600 &&
	for i in $(seq 0 399); do dd if="$work/blk" of="$r/deep.dat" bs=1024 skip="$i" seek=$((i * 2)) count=1 conv=notrunc status=none; done &&
	finish "$r" ext4-deep
"${mkfs[@]}" -t ext4 -b 1024 -N 16 -O ^resize_inode,^has_journal -d "$r" "$work/deep.img" 1024k >/dev/null
fixtimes "$r" "$work/deep.img"
gzip -9n <"$work/deep.img" >"$out/ext4-deep.img.gz"

# Not ext at all: a squashfs image, which Open must refuse.
mksquashfs "$work/ext2r0" "$out/not-ext.sqfs" -noappend -all-root -quiet -no-progress >/dev/null

ls -l "$out"
