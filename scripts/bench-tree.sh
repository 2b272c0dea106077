#!/usr/bin/env bash
# Whole-tree scan speed: oemtrace (Syft cataloging + content scan of every
# file, all cores) against ripgrep and yara given the same literals, on the
# same directory, in the same run, page cache warmed first.
#
#   scripts/bench-tree.sh [DIR]     (default /usr/lib/x86_64-linux-gnu)
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${1:-/usr/lib/x86_64-linux-gnu}
command -v rg >/dev/null || apt-get install -y ripgrep >/dev/null
command -v yara >/dev/null || apt-get install -y yara >/dev/null
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
go build -o "$tmp/oemtrace" ./cmd/oemtrace
go run ./internal/tools/siglits > "$tmp/pats.txt"
go run ./internal/tools/siglits -yara > "$tmp/rule.yar"
bytes=$(find "$dir" -type f -print0 | du -cb --files0-from=- | tail -1 | cut -f1)
files=$(find "$dir" -type f | wc -l)
for _ in 1 2; do find "$dir" -type f -print0 | xargs -0 cat >/dev/null 2>&1 || true; done
echo "corpus: $dir, $files files, $bytes bytes, $(wc -l < "$tmp/pats.txt") literals, $(nproc) cores"
run() { # name, command...
  local name=$1; shift
  local s e
  s=$(date +%s.%N); "$@" >/dev/null 2>&1 || true; e=$(date +%s.%N)
  awk -v n="$name" -v s="$s" -v e="$e" -v b="$bytes" 'BEGIN{t=e-s; printf "%-34s %7.2f s  %7.0f MB/s\n", n, t, b/t/1e6}'
}
run "oemtrace scan (catalog + content)" "$tmp/oemtrace" scan --quiet "$dir"
run "rg -F -f (all threads)" rg -F -f "$tmp/pats.txt" -c -a -uuu "$dir"
run "yara -r (all threads)" yara -r "$tmp/rule.yar" "$dir"
run "oemtrace, 1 core" taskset -c 0 "$tmp/oemtrace" scan --quiet "$dir"
run "rg -F -f -j1, 1 core" taskset -c 0 rg -j1 -F -f "$tmp/pats.txt" -c -a -uuu "$dir"
run "yara -p 1, 1 core" taskset -c 0 yara -p 1 -r "$tmp/rule.yar" "$dir"
echo "content scan alone (no Syft), 1 and 2 cores:"
OEMTRACE_BENCH_DIR=$dir go test -run '^$' -bench ScanTree -benchtime 3x -cpu 1,2 ./analyzer/internal/fscan/ | grep '^Benchmark'
echo "the matcher on 200 literals against rg and yara: analyzer/internal/content/testdata/compare.sh"
