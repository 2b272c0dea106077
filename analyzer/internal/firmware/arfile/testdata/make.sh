#!/bin/bash
# make.sh rebuilds the ar fixtures in this directory with the real tools
# (dpkg-deb, GNU ar, llvm-ar, as) and writes, for each archive X, X.manifest:
# one "name size sha256" line per member (symbol and name tables excluded),
# taken from the members that ar itself extracts. Outputs land next to it.
set -euo pipefail
cd "$(dirname "$0")"
out=$PWD
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export SOURCE_DATE_EPOCH=1577836800

# A tiny Debian package.
pkg=$work/pkg
mkdir -p "$pkg/DEBIAN" "$pkg/opt/netwarden/bases" "$pkg/usr/share/doc/netwarden"
cat >"$pkg/DEBIAN/control" <<'CTL'
Package: netwarden-fixture
Version: 1.0-1
Architecture: all
Maintainer: Fixture <fixture@example.invalid>
Description: oemtrace test fixture
 A tiny package for the ar reader tests.
CTL
printf 'AVP Antiviral Database. (c)Kaspersky Lab 1997-2015.\nbase001 fixture\n' >"$pkg/opt/netwarden/bases/base001.avc"
head -c 20000 /usr/bin/ls >"$pkg/opt/netwarden/blob.bin"
printf 'fixture\n' >"$pkg/usr/share/doc/netwarden/README"
find "$pkg" -exec touch -h -d 2020-01-01T00:00:00Z {} +
for z in xz gzip; do
	dpkg-deb --root-owner-group -Z"$z" --build "$pkg" "$out/fixture-$z.deb" >/dev/null
done

# GNU ar with a symbol table ("/"), a long-name table ("//") and an odd-sized
# member (padding); llvm-ar's BSD variant ("#1/len" names, "__.SYMDEF").
mem=$work/mem
mkdir -p "$mem"
printf '.globl fixture_sym\nfixture_sym:\n\tret\n' | as -o "$mem/f.o" -
printf 'short member\n' >"$mem/short.txt"
printf 'odd\n' >"$mem/odd"
printf 'a member whose name is longer than sixteen bytes\n' >"$mem/a_rather_long_member_name.txt"
printf 'another long one\n' >"$mem/second_long_member_name.data"
touch -d 2020-01-01T00:00:00Z "$mem"/*
rm -f "$out/gnu.a" "$out/bsd.a"
(cd "$mem" && ar rcsD "$out/gnu.a" f.o short.txt odd a_rather_long_member_name.txt second_long_member_name.data)
(cd "$mem" && llvm-ar --format=bsd rcsD "$out/bsd.a" f.o short.txt odd a_rather_long_member_name.txt second_long_member_name.data)

# Manifests from what ar itself extracts, in archive order.
for a in fixture-xz.deb fixture-gzip.deb gnu.a bsd.a; do
	x=$work/x-$a
	mkdir -p "$x"
	(cd "$x" && ar x "$out/$a")
	# GNU ar does not know BSD's symbol table; the reader skips it.
	ar t "$out/$a" | grep -v '^__\.SYMDEF' | while read -r n; do
		printf '%s %d %s\n' "$n" "$(stat -c %s "$x/$n")" "$(sha256sum <"$x/$n" | cut -d' ' -f1)"
	done >"$out/$a.manifest"
done
ls -l "$out"
