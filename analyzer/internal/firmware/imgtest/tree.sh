# tree.sh is sourced by the fixture scripts of the image readers (cramfs,
# jffs2, zipfs), so that each image holds the same tree and imgtest's
# checks (CheckTreeLinks, the manifests) apply to all of them.

# make_tree ROOT builds the tree: nested directories, a known base file, a
# ~200 KB deterministic mix of random bytes and text (many pages), an
# empty file, a file with a run of zero pages, a symlink to a directory, a
# relative symlink to a file and a hard link.
make_tree() {
	local root=$1
	mkdir -p "$root/opt/netwarden/bases" "$root/opt/netwarden/bin" "$root/etc" \
		"$root/usr/lib/sub/deeper/deepest" "$root/usr/share" "$root/dev" "$root/empty"
	printf 'AVP Antiviral Database. (c)Kaspersky Lab 1997-2015.\nbase001 fixture\n' >"$root/opt/netwarden/bases/base001.avc"
	printf 'KLI appinfo fixture\n' >"$root/opt/netwarden/bin/appinfo.kli"
	ln "$root/opt/netwarden/bin/appinfo.kli" "$root/opt/netwarden/bin/appinfo-link.kli"
	printf 'netwarden\n' >"$root/etc/hostname"
	printf 'library fixture\n' >"$root/usr/lib/sub/deeper/deepest/libfixture.so"
	: >"$root/etc/empty.conf"
	perl -e '
		my ($s, $out) = (20240601, "");
		sub r { $s = ($s * 69069 + 1) % 4294967296; return $s >> 16 }
		while (length($out) < 200000) {
			$out .= pack("C*", map { r() & 255 } 1 .. 1024);
			$out .= sprintf("%06d %04x netwarden sample line\n", length($out), r()) for 1 .. 96;
		}
		print substr($out, 0, 200000);
	' >"$root/usr/lib/libengine.bin"
	head -c 4096 "$root/usr/lib/libengine.bin" >"$root/usr/share/sparse.bin"
	truncate -s 16384 "$root/usr/share/sparse.bin"
	printf 'tail after the hole\n' >>"$root/usr/share/sparse.bin"
	ln -s usr/lib "$root/lib"
	ln -s ../../opt/netwarden/bases/base001.avc "$root/usr/share/base.link"
}

# add_special_files ROOT adds a FIFO and, when run as root, a character and
# a block device under ROOT/dev.
add_special_files() {
	local root=$1
	mkfifo "$root/dev/initctl"
	mknod "$root/dev/null" c 1 3 2>/dev/null || true
	mknod "$root/dev/sda" b 8 0 2>/dev/null || true
}

# write_manifest ROOT prints the manifest of the tree at ROOT: one line per
# entry, "type path size sha256 [target]" (type f, d, l, c, b, p or s; "-"
# where there is no hash), sorted by path.
write_manifest() {
	(cd "$1" && find . -mindepth 1 | LC_ALL=C sort | while read -r p; do
		p=${p#./}
		if [ -L "$p" ]; then
			t=$(readlink "$p")
			echo "l $p ${#t} - $t"
		elif [ -d "$p" ]; then echo "d $p 0 -"
		elif [ -f "$p" ]; then echo "f $p $(stat -c %s "$p") $(sha256sum <"$p" | cut -d' ' -f1)"
		elif [ -c "$p" ]; then echo "c $p 0 -"
		elif [ -b "$p" ]; then echo "b $p 0 -"
		elif [ -p "$p" ]; then echo "p $p 0 -"
		elif [ -S "$p" ]; then echo "s $p 0 -"
		fi
	done)
}
