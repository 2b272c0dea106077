#!/usr/bin/env bash
# Compares package content with ripgrep and YARA on one corpus and one
# pattern set, in the same run, each pinned to one core.
#
#   analyzer/internal/content/testdata/compare.sh
#
# The corpus (256 MiB of /usr/lib/x86_64-linux-gnu and /usr/bin, see
# corpusDirs in bench_test.go) and the 200 literals are written by the
# package's own TestExportBench, so all three tools see exactly what
# BenchmarkScan sees. Environment: WORK (scratch directory, default
# /tmp/oemtrace-content-bench), ROUNDS (default 5; the best round of each
# tool is reported), CORE (default 0).
set -euo pipefail

pkg=$(cd "$(dirname "$0")/.." && pwd)
work=${WORK:-/tmp/oemtrace-content-bench}
rounds=${ROUNDS:-5}
core=${CORE:-0}

need() { # need COMMAND DEBIAN-PACKAGE
	command -v "$1" >/dev/null && return
	if [ "$(id -u)" = 0 ]; then
		apt-get install -y "$2" >/dev/null
	else
		echo "compare.sh: $1 not found: apt-get install $2" >&2
		exit 1
	fi
}
need rg ripgrep
need yara yara
need taskset util-linux

mkdir -p "$work"
echo "== building the test binary and exporting corpus and patterns to $work"
(cd "$pkg" && go test -c -o "$work/content.test" .)
OEMTRACE_CONTENT_EXPORT=$work "$work/content.test" -test.run '^TestExportBench$' >/dev/null
corpus=$work/corpus.bin
# expected.txt: bytes=N patterns=N all=N rg=N
read -r bytes patterns all rg < <(sed -E 's/[a-z]+=//g' "$work/expected.txt")
echo "corpus: $bytes bytes, $patterns patterns; package content finds $all matches ($rg leftmost-first, case-sensitive, as rg counts)"

echo "== warming the page cache"
cat "$corpus" >/dev/null
cat "$corpus" >/dev/null

now() { date +%s.%N; }
mbps() { awk -v b="$bytes" -v t="$1" 'BEGIN { printf "%.0f", b / 1e6 / t }'; }
best() { awk -v a="$1" -v b="$2" 'BEGIN { print (b > a) ? b : a }'; }

ours_mem=0 ours_reader=0 ours_file=0 rg_mbps=0 yara_mbps=0
for r in $(seq "$rounds"); do
	out=$(OEMTRACE_CONTENT_CORPUS=$corpus taskset -c "$core" "$work/content.test" \
		-test.run '^$' -test.bench '^BenchmarkScan$' -test.cpu 1 -test.benchtime 3x)
	ours_mem=$(best "$ours_mem" "$(awk '$1 ~ /ScanBytes/ { print $5 }' <<<"$out")")
	ours_reader=$(best "$ours_reader" "$(awk '$1 ~ /Scan\/Scan$|Scan\/Scan-/ { print $5 }' <<<"$out")")
	ours_file=$(best "$ours_file" "$(awk '$1 ~ /File/ { print $5 }' <<<"$out")")

	t0=$(now)
	rg_count=$(taskset -c "$core" rg -F -f "$work/patterns.txt" --count-matches -a "$corpus")
	t1=$(now)
	rg_mbps=$(best "$rg_mbps" "$(mbps "$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')")")

	t0=$(now)
	taskset -c "$core" yara -p 1 "$work/rules.yar" "$corpus" >/dev/null
	t1=$(now)
	yara_mbps=$(best "$yara_mbps" "$(mbps "$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')")")
	echo "round $r: content file ${ours_file%.*} MB/s (best so far), rg $rg_mbps, yara $yara_mbps"
done
yara_count=$(taskset -c "$core" yara -s -p 1 "$work/rules.yar" "$corpus" | grep -c '^0x' || true)

echo
echo "== results (best of $rounds rounds, MB/s = 10^6 bytes per second, one core)"
printf '%-34s %8s MB/s\n' "content ScanBytes (in memory)" "${ours_mem%.*}"
printf '%-34s %8s MB/s\n' "content Scan (io.Reader, memory)" "${ours_reader%.*}"
printf '%-34s %8s MB/s\n' "content Scan (file)" "${ours_file%.*}"
printf '%-34s %8s MB/s\n' "rg -F -f --count-matches -a" "$rg_mbps"
printf '%-34s %8s MB/s\n' "yara -p 1" "$yara_mbps"
awk -v o="$ours_file" -v r="$rg_mbps" -v y="$yara_mbps" \
	'BEGIN { printf "ratio content file / rg   = %.2f\nratio content file / yara = %.2f\n", o / r, o / y }'
echo
echo "matches: content $all (every occurrence) vs yara $yara_count (every occurrence)"
echo "matches: content $rg (leftmost-first, case-sensitive) vs rg $rg_count"
status=0
[ "$all" = "$yara_count" ] || { echo "MISMATCH with yara" >&2; status=1; }
[ "$rg" = "$rg_count" ] || { echo "MISMATCH with rg" >&2; status=1; }
exit $status
