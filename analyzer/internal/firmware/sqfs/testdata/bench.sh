#!/bin/bash
# bench.sh times BenchmarkReadAll (walk + read every file, 2 goroutines)
# against `unsquashfs -d` on the same image in the same run, and prints the
# ratio. The image, a gzip squashfs of /usr/lib/x86_64-linux-gnu, is built
# once at /tmp/x.sqfs (override with OEMTRACE_SQFS_BENCH).
#
#   analyzer/internal/firmware/sqfs/testdata/bench.sh [ROUNDS]
set -euo pipefail
cd "$(dirname "$0")/.."
img=${OEMTRACE_SQFS_BENCH:-/tmp/x.sqfs}
rounds=${1:-3}
if [ ! -f "$img" ]; then
	echo "building $img (once)"
	mksquashfs /usr/lib/x86_64-linux-gnu "$img" -comp gzip -quiet -no-progress >/dev/null
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp" /tmp/out' EXIT
go test -c -o "$tmp/sqfs.test" .
cat "$img" >/dev/null # page cache warm for both
echo "image $img: $(stat -c %s "$img") bytes, $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"

best_u=999999 best_g=999999
for r in $(seq "$rounds"); do
	rm -rf /tmp/out
	/usr/bin/time -f '%e %U %S %M' -o "$tmp/u" unsquashfs -q -d /tmp/out -f "$img" >/dev/null
	read -r ue uu us um <"$tmp/u"
	rm -rf /tmp/out
	OEMTRACE_SQFS_BENCH=$img /usr/bin/time -f '%e %U %S %M' -o "$tmp/g" \
		"$tmp/sqfs.test" -test.run '^$' -test.bench ReadAll -test.benchtime 1x -test.benchmem >"$tmp/b"
	read -r ge gu gs gm <"$tmp/g"
	ns=$(awk '/^BenchmarkReadAll/ {print $3}' "$tmp/b")
	gsec=$(awk -v ns="$ns" 'BEGIN {printf "%.2f", ns / 1e9}')
	mbs=$(awk '/^BenchmarkReadAll/ {print $5}' "$tmp/b")
	printf 'round %d: unsquashfs -d %5.2f s (user %.2f sys %.2f, RSS %d MiB) | sqfs ReadAll %5.2f s, %s MB/s (process %.2f s, user %.2f sys %.2f, RSS %d MiB) | ratio unsquashfs/sqfs %.2f\n' \
		"$r" "$ue" "$uu" "$us" $((um / 1024)) "$gsec" "$mbs" "$ge" "$gu" "$gs" $((gm / 1024)) \
		"$(awk -v a="$ue" -v b="$gsec" 'BEGIN {print a / b}')"
	best_u=$(awk -v a="$best_u" -v b="$ue" 'BEGIN {print (b < a) ? b : a}')
	best_g=$(awk -v a="$best_g" -v b="$gsec" 'BEGIN {print (b < a) ? b : a}')
done
printf 'best: unsquashfs -d %.2f s, sqfs ReadAll %.2f s, ratio %.2f (> 1: sqfs faster)\n' \
	"$best_u" "$best_g" "$(awk -v a="$best_u" -v b="$best_g" 'BEGIN {print a / b}')"
