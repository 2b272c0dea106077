#!/usr/bin/env bash
# Rebuilds the binary fixtures of package binmeta from the sources in src/.
#
#   bash analyzer/internal/binmeta/testdata/make.sh
#
# Needs gcc and binutils (strip), x86_64-w64-mingw32-gcc and -windres
# (Debian: gcc-mingw-w64-x86-64), openssl, osslsigncode, and a JDK (javac,
# jar). The certificates are throwaway: made here with made-up subjects, used
# once, and deleted with their keys. The Android fixtures (classes.dex,
# app.apk) are written by the package's own test, because no dex compiler is
# packaged for Debian: the script runs it last. Afterwards review and commit
# the changed *.golden files (go test ./analyzer/internal/binmeta/ -update).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cd "$here"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
rm -f libacmeav.so scanner.elf acmeav.dll scanner.exe scanner.exe.debug scanner-signed.exe scanner.jar

# ELF: an engine library exporting kave* functions under a vendor's own
# SONAME, and a daemon importing them; both stripped as firmware ships them.
gcc -shared -fPIC -O2 -g0 -Wl,--build-id=none -Wl,-soname,libacmeav.so.8 \
	-o libacmeav.so src/acmeav.c
gcc -O2 -g0 -Wl,--build-id=none -o "$tmp/scanner" src/scanner.c -L. -lacmeav
strip --strip-unneeded libacmeav.so
strip --strip-unneeded -o scanner.elf "$tmp/scanner"

# PE: the same library as a DLL with a version resource, and an executable
# that imports it.
x86_64-w64-mingw32-windres -O coff -o "$tmp/version.o" src/version.rc
x86_64-w64-mingw32-gcc -shared -O2 -s -Wl,--no-insert-timestamp \
	-o acmeav.dll src/acmeav.c src/acmeav.def "$tmp/version.o"
x86_64-w64-mingw32-gcc -O2 -s -Wl,--no-insert-timestamp \
	-o scanner.exe src/scanner.c acmeav.dll

# A debug-only image: the section headers kept, their data (the import
# table's too) left out, as distributions ship beside stripped binaries.
objcopy --only-keep-debug scanner.exe scanner.exe.debug

# Authenticode: a throwaway CA, a code-signing certificate and a time-stamping
# certificate, all with made-up subjects. scanner-signed.exe carries a SHA-1
# signature with a SHA-256 signature nested in it, the nested one
# time-stamped by the test TSA.
subj() { printf '/C=US/O=Acme Test Org/CN=%s' "$1"; }
openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -set_serial 0x0a11ce \
	-subj "$(subj 'Acme Test Root CA')" -keyout "$tmp/ca.key" -out "$tmp/ca.pem" 2>/dev/null
issue() { # name serial subject eku
	openssl req -new -newkey rsa:2048 -nodes -subj "$(subj "$3")" \
		-keyout "$tmp/$1.key" -out "$tmp/$1.csr" 2>/dev/null
	printf 'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=%s\n' "$4" >"$tmp/$1.ext"
	openssl x509 -req -in "$tmp/$1.csr" -CA "$tmp/ca.pem" -CAkey "$tmp/ca.key" \
		-set_serial "$2" -days 3650 -extfile "$tmp/$1.ext" -out "$tmp/$1.pem" 2>/dev/null
	cat "$tmp/$1.pem" "$tmp/ca.pem" >"$tmp/$1.chain"
}
issue signer 0x5157 'Acme Test Signer' codeSigning
issue tsa 0x7157 'Acme Test TSA' critical,timeStamping
osslsigncode sign -certs "$tmp/signer.chain" -key "$tmp/signer.key" -h sha1 \
	-n 'Acme Threat Shield' -time 1704067200 \
	-in scanner.exe -out "$tmp/signed1.exe" >/dev/null
osslsigncode sign -nest -certs "$tmp/signer.chain" -key "$tmp/signer.key" -h sha256 \
	-TSA-certs "$tmp/tsa.chain" -TSA-key "$tmp/tsa.key" -TSA-time 1704067200 \
	-time 1704067200 -in "$tmp/signed1.exe" -out scanner-signed.exe >/dev/null

# Java: a jar with an application class and an SDK class, built from source.
mkdir "$tmp/classes"
javac --release 11 -d "$tmp/classes" \
	src/java/com/example/scan/Scanner.java src/java/com/kavsdk/antivirus/AvObjectScanner.java
jar --create --date=2024-01-01T00:00:00Z --file scanner.jar -C "$tmp/classes" .

# Android: written by the package's test (see dex_test.go); dexdump
# (Debian: dexdump), when present, checks the dex header and checksum.
(cd .. && go test -count=1 -run '^TestWriteAndroidFixtures$' . -args -update)
if command -v dexdump >/dev/null; then dexdump -f classes.dex >/dev/null; fi

# Tool versions, for the record.
{
	gcc --version | head -n1
	x86_64-w64-mingw32-gcc --version | head -n1
	osslsigncode --version 2>&1 | head -n1
	openssl version
	javac -version 2>&1
} | sed 's/^/# /'

ls -l libacmeav.so scanner.elf acmeav.dll scanner.exe scanner.exe.debug scanner-signed.exe scanner.jar classes.dex app.apk
