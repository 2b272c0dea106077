#!/bin/bash
# make.sh rebuilds the FIT fixtures in this directory with the real tools
# (mkimage, dtc, cpio, gzip): one image tree source with a gzip'd kernel
# stand-in, a gzip'd cpio ramdisk and a device tree, built with embedded
# data, with external data (mkimage -E: data-offset) and with external data
# at absolute positions (mkimage -E -p: data-position). plain.dtb is a
# device tree that is not a FIT. images.manifest has one "name type
# compression size sha256" line per image, from the files given to mkimage.
set -euo pipefail
cd "$(dirname "$0")"
out=$PWD
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export SOURCE_DATE_EPOCH=1577836800

head -c 30000 /usr/bin/ls | gzip -9n >"$work/kernel.gz"
root=$work/root
mkdir -p "$root/opt/netwarden/bases" "$root/etc"
printf 'AVP Antiviral Database. (c)Kaspersky Lab 1997-2015.\nbase001 fixture\n' >"$root/opt/netwarden/bases/base001.avc"
printf 'netwarden\n' >"$root/etc/hostname"
find "$root" -exec touch -h -d 2020-01-01T00:00:00Z {} +
(cd "$root" && find . | LC_ALL=C sort | cpio -o -H newc --owner 0:0 --quiet --reproducible) | gzip -9n >"$work/ramdisk.cpio.gz"
cat >"$work/board.dts" <<'DTS'
/dts-v1/;
/ {
	compatible = "oemtrace,fixture";
	model = "oemtrace fixture board";
	#address-cells = <1>;
	#size-cells = <1>;
	memory@80000000 { device_type = "memory"; reg = <0x80000000 0x1000000>; };
	chosen { bootargs = "console=ttyS0"; };
};
DTS
dtc -q -I dts -O dtb -o "$work/board.dtb" "$work/board.dts"
cp "$work/board.dtb" "$out/plain.dtb"

cat >"$work/image.its" <<'ITS'
/dts-v1/;
/ {
	description = "oemtrace FIT fixture";
	#address-cells = <1>;
	images {
		kernel-1 {
			description = "kernel stand-in";
			data = /incbin/("kernel.gz");
			type = "kernel";
			arch = "arm";
			os = "linux";
			compression = "gzip";
			load = <0x80008000>;
			entry = <0x80008000>;
			hash-1 { algo = "sha256"; };
		};
		ramdisk-1 {
			description = "initramfs";
			data = /incbin/("ramdisk.cpio.gz");
			type = "ramdisk";
			arch = "arm";
			os = "linux";
			compression = "gzip";
			hash-1 { algo = "crc32"; };
		};
		fdt-1 {
			description = "board device tree";
			data = /incbin/("board.dtb");
			type = "flat_dt";
			arch = "arm";
			compression = "none";
		};
	};
	configurations {
		default = "conf-1";
		conf-1 { kernel = "kernel-1"; ramdisk = "ramdisk-1"; fdt = "fdt-1"; };
	};
};
ITS
cd "$work"
mkimage -q -f image.its "$out/embedded.itb"
mkimage -q -E -f image.its "$out/external.itb"
mkimage -q -E -p 0x1000 -f image.its "$out/position.itb"
for n in kernel-1:kernel:gzip:kernel.gz ramdisk-1:ramdisk:gzip:ramdisk.cpio.gz fdt-1:flat_dt:none:board.dtb; do
	IFS=: read -r name typ comp file <<<"$n"
	printf '%s %s %s %d %s\n' "$name" "$typ" "$comp" "$(stat -c %s "$file")" "$(sha256sum <"$file" | cut -d' ' -f1)"
done >"$out/images.manifest"
ls -l "$out"
