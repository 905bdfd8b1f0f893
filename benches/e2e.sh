#!/usr/bin/env bash
# End-to-end benchmarks of `smsaudit audit` against its peers on synthetic
# estates (examples/make_estate.rs). Not part of `cargo test` or .ci/run:
# it writes several GiB and takes minutes.
#
#   benches/e2e.sh [all|throughput|large|small|scale|latency|million]
# (million is not part of all: it writes 13 GiB.)
#
# Needs: hyperfine, hashdeep, time (/usr/bin/time), openssl (Debian packages).
# Env: BENCH_DIR (default /tmp/smsaudit-bench) holds estates and results;
#      RUNS (default 5) hyperfine runs per command;
#      BASELINE=/path/to/older/smsaudit adds that build to the throughput runs.
# Every run is warm-cache: hyperfine's warmup run reads the files first.
set -euo pipefail
cd "$(dirname "$0")/.."

WHAT=${1:-all}
BENCH_DIR=${BENCH_DIR:-/tmp/smsaudit-bench}
RUNS=${RUNS:-5}
OUT=$BENCH_DIR/results
mkdir -p "$BENCH_DIR" "$OUT"

for tool in hyperfine hashdeep openssl /usr/bin/time; do
  command -v "$tool" >/dev/null || { echo "missing: $tool (apt-get install hyperfine hashdeep time openssl)" >&2; exit 2; }
done

cargo build --release --quiet --bin smsaudit --example make_estate
SMSAUDIT=$PWD/target/release/smsaudit
MAKE=$PWD/target/release/examples/make_estate

estate() { # name, make_estate args...
  local name=$1; shift
  if [ ! -f "$BENCH_DIR/$name.done" ]; then
    rm -rf "${BENCH_DIR:?}/$name"
    "$MAKE" --out "$BENCH_DIR/$name" --seed 42 "$@"
    touch "$BENCH_DIR/$name.done"
  fi
}

describe() { # dir -> "files, MiB"
  local files bytes
  files=$(find "$1" -type f | wc -l)
  bytes=$(du -sb "$1" | cut -f1)
  echo "$files files, $((bytes / 1048576)) MiB"
}

peak_rss() { # label, command... -> prints "label: N MiB, S s"
  local label=$1; shift
  /usr/bin/time -v -o "$OUT/time.txt" "$@" >/dev/null 2>&1 || true
  local kib wall
  kib=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$OUT/time.txt")
  wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {print $2}' "$OUT/time.txt")
  echo "| $label | $((kib / 1024)) MiB | $wall |"
}

machine() {
  echo "date: $(date -u +%Y-%m-%dT%H:%MZ)"
  echo "cpu: $(lscpu | sed -n 's/^Model name: *//p'), nproc $(nproc), flags: $(grep -o -w -m1 sha_ni /proc/cpuinfo || echo no-sha_ni)"
  echo "memory: $(free -m | awk '/^Mem:/ {print $2}') MiB; kernel $(uname -r); fs: $(df -T "$BENCH_DIR" | awk 'NR==2 {print $2}')"
  echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "versions: $(hashdeep -V 2>&1 | head -1) hashdeep; $(openssl version); $(sha256sum --version | head -1)"
}

throughput() { # name, dir
  local name=$1 dir=$2
  echo "## throughput: $name ($(describe "$dir"))"
  local baseline=()
  [ -n "${BASELINE:-}" ] && baseline=(-n "smsaudit (baseline)" "$BASELINE audit $dir --out $BENCH_DIR/out-base-$name --quiet")
  hyperfine --warmup 1 --runs "$RUNS" -i -N --export-markdown "$OUT/$name.md" --export-json "$OUT/$name.json" \
    -n smsaudit "$SMSAUDIT audit $dir --out $BENCH_DIR/out-$name --quiet" "${baseline[@]}" \
    -n "hashdeep -j2" "hashdeep -r -c sha256 -j2 $dir" \
    -n "sha256sum x2" "sh -c 'find $dir -type f -print0 | xargs -0 -P2 -n 64 sha256sum >/dev/null'" \
    -n "openssl x2" "sh -c 'find $dir -type f -print0 | xargs -0 -P2 -n 64 openssl dgst -sha256 >/dev/null'" \
    >"$OUT/$name.log" 2>&1 || { cat "$OUT/$name.log"; exit 1; }
  cat "$OUT/$name.md"
  echo
  python3 - "$OUT/$name.json" "$(du -sb "$dir" | cut -f1)" <<'PY'
import json, sys
results = json.load(open(sys.argv[1]))["results"]
size = int(sys.argv[2])
ours = results[0]["mean"]
print("| command | mean | throughput | smsaudit speed-up (peer time / smsaudit time) |")
print("|---|---|---|---|")
for r in results:
    print(f"| {r['command']} | {r['mean']:.3f} s | {size / r['mean'] / 2**30:.2f} GiB/s | {r['mean'] / ours:.2f}x |")
PY
  echo
  echo "| command | peak RSS (largest process) | wall |"
  echo "|---|---|---|"
  peak_rss smsaudit "$SMSAUDIT" audit "$dir" --out "$BENCH_DIR/out-$name" --quiet
  [ -n "${BASELINE:-}" ] && peak_rss "smsaudit (baseline)" "$BASELINE" audit "$dir" --out "$BENCH_DIR/out-base-$name" --quiet
  peak_rss "hashdeep -j2" hashdeep -r -c sha256 -j2 "$dir"
  peak_rss "sha256sum x2" sh -c "find $dir -type f -print0 | xargs -0 -P2 -n 64 sha256sum >/dev/null"
  peak_rss "openssl x2" sh -c "find $dir -type f -print0 | xargs -0 -P2 -n 64 openssl dgst -sha256 >/dev/null"
  echo
}

million() {
  # The issue's estate: 1,017,200 files, about 13 GiB. One run each (a run
  # takes tens of seconds), warm cache after the first.
  estate million --sites 100 --caps-per-site 3 --logon-points 20 --small-files 1000000
  local dir=$BENCH_DIR/million
  echo "## million: $(describe "$dir"), every report"
  echo
  echo "| command | peak RSS (largest process) | wall |"
  echo "|---|---|---|"
  find "$dir" -type f -print0 | xargs -0 cat >/dev/null
  rm -rf "$BENCH_DIR/out-million"
  peak_rss "smsaudit (every report)" "$SMSAUDIT" audit "$dir" --out "$BENCH_DIR/out-million" --quiet --fail-on never
  peak_rss "smsaudit --format csv" "$SMSAUDIT" audit "$dir" --out "$BENCH_DIR/out-million-csv" --format csv --quiet --fail-on never
  peak_rss "sha256sum x2" sh -c "find $dir -type f -print0 | xargs -0 -P2 -n 64 sha256sum >/dev/null"
  echo
}

scale() {
  echo "## scale: locations (sites x (SMS + CAP + 2 CAPs) + logon points), 20 uploads per location"
  echo
  echo "| locations | files | MiB | time (mean ± σ, $RUNS runs) | peak RSS |"
  echo "|---|---|---|---|---|"
  for n in 100 300 1000; do
    local sites=$((n / 5)) dir=$BENCH_DIR/scale-$n
    estate "scale-$n" --sites $sites --caps-per-site 2 --logon-points $((n - sites * 4)) --small-files $((n * 20))
    hyperfine --warmup 1 --runs "$RUNS" -i -N --export-json "$OUT/scale-$n.json" \
      "$SMSAUDIT audit $dir --out $BENCH_DIR/out-scale-$n --quiet" >/dev/null 2>&1
    local mean sd files mib rss
    mean=$(python3 -c "import json;r=json.load(open('$OUT/scale-$n.json'))['results'][0];print(f\"{r['mean']:.2f} s ± {r['stddev']:.2f}\")")
    files=$(find "$dir" -type f | wc -l)
    mib=$(( $(du -sb "$dir" | cut -f1) / 1048576 ))
    rss=$(peak_rss x "$SMSAUDIT" audit "$dir" --out "$BENCH_DIR/out-scale-$n" --quiet | cut -d'|' -f3)
    echo "| $n | $files | $mib | $mean |$rss|"
  done
  echo
}

latency() {
  # One share behind a slow link, through the FUSE layer benches/slowfs.py.
  RUNS=$RUNS BENCH_DIR=$BENCH_DIR/slow-link benches/slow_link.sh
}

{
  echo "# smsaudit e2e run"
  echo
  machine
  echo
  case $WHAT in
    all | throughput | large)
      estate large --sites 4 --caps-per-site 1 --logon-points 2 --large-files 160 --large-size-mib 16
      throughput large "$BENCH_DIR/large"
      ;;&
    all | throughput | small)
      estate small --sites 25 --caps-per-site 2 --logon-points 5 --small-files 100000
      throughput small "$BENCH_DIR/small"
      ;;&
    all | scale) scale ;;&
    million) million ;;&
    all | latency) latency ;;
  esac
  echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
} | tee "$OUT/e2e-$(date -u +%Y%m%dT%H%M).md"
