#!/bin/bash
# make.sh rebuilds the RPM fixtures in this directory with rpmbuild (in a
# temporary _topdir): a tiny noarch package whose payload is compressed
# with gzip, zstd and xz in turn. For each package X it writes X.manifest
# with the tags the tests expect (from rpm -qp --qf) and "payload SIZE
# SHA256" of the decompressed payload (the cpio archive rpm2cpio writes).
set -euo pipefail
cd "$(dirname "$0")"
out=$PWD
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export SOURCE_DATE_EPOCH=1577836800

mkdir -p "$work/SPECS"
cat >"$work/SPECS/fixture.spec" <<'SPEC'
Name:           netwarden-fixture
Version:        1.2.3
Release:        4
Summary:        oemtrace test fixture
License:        MIT
URL:            https://example.invalid/netwarden
Vendor:         Fixture Vendor
Packager:       Fixture Packager <fixture@example.invalid>
BuildArch:      noarch

%description
A tiny package for the RPM reader tests.

%install
mkdir -p %{buildroot}/opt/netwarden/bases %{buildroot}/opt/netwarden/bin
printf 'AVP Antiviral Database. (c)Kaspersky Lab 1997-2015.\nbase001 fixture\n' >%{buildroot}/opt/netwarden/bases/base001.avc
head -c 20000 /usr/bin/ls >%{buildroot}/opt/netwarden/bin/blob.bin

%files
/opt/netwarden
SPEC
for c in gzip:w9.gzdio zstd:w19.zstdio xz:w6.xzdio; do
	name=${c%%:*}
	rpmbuild --quiet -bb \
		--define "_topdir $work" \
		--define "_binary_payload ${c#*:}" \
		--define "use_source_date_epoch_as_buildtime 1" \
		--define "clamp_mtime_to_source_date_epoch 1" \
		--define "_buildhost fixture.example.invalid" \
		"$work/SPECS/fixture.spec"
	mv "$work/RPMS/noarch/"*.rpm "$out/fixture-$name.rpm"
	rpm -qp --qf 'name %{NAME}\nversion %{VERSION}\nrelease %{RELEASE}\narch %{ARCH}\nvendor %{VENDOR}\npackager %{PACKAGER}\nurl %{URL}\nlicense %{LICENSE}\nsummary %{SUMMARY}\npayloadformat %{PAYLOADFORMAT}\npayloadcompressor %{PAYLOADCOMPRESSOR}\n' \
		"$out/fixture-$name.rpm" >"$out/fixture-$name.rpm.manifest"
	rpm2cpio "$out/fixture-$name.rpm" >"$work/payload"
	printf 'payload %d %s\n' "$(stat -c %s "$work/payload")" "$(sha256sum <"$work/payload" | cut -d' ' -f1)" >>"$out/fixture-$name.rpm.manifest"
done
ls -l "$out"
