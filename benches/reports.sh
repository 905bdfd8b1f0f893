#!/usr/bin/env bash
# What the reports cost (issue #17): `smsaudit audit` with every report
# (the default), with each format alone, and the `find | xargs sha256sum`
# pipeline it is measured against, on a synthetic estate of 100k small
# files (examples/make_estate.rs). Prints a markdown table: mean and
# spread from hyperfine, peak RSS from /usr/bin/time -v, and the ratio to
# the pipeline. Run by hand; not part of `cargo test` or .ci/run.
#
#   benches/reports.sh
#
# Needs: hyperfine, time (/usr/bin/time) (Debian packages).
# Env: BASELINE=/path/to/older/smsaudit adds its runs with every report and
#      with --format xlsx, for a before and after;
#      BENCH_DIR (default /tmp/smsaudit-reports-bench) holds the estate
#      (about 1.9 GiB; remove it when done) and the reports;
#      SMALL_FILES (default 100000); RUNS (default 5) hyperfine runs each.
# Every run is warm-cache: hyperfine's warmup run reads the files first.
set -euo pipefail
cd "$(dirname "$0")/.."

BENCH_DIR=${BENCH_DIR:-/tmp/smsaudit-reports-bench}
SMALL_FILES=${SMALL_FILES:-100000}
RUNS=${RUNS:-5}
ESTATE=$BENCH_DIR/estate-$SMALL_FILES
OUT=$BENCH_DIR/out
mkdir -p "$BENCH_DIR"

for tool in hyperfine /usr/bin/time sha256sum xargs; do
  command -v "$tool" >/dev/null || { echo "missing: $tool (apt-get install hyperfine time)" >&2; exit 2; }
done

cargo build --release --quiet --bin smsaudit --example make_estate
SMSAUDIT=$PWD/target/release/smsaudit
if [ ! -f "$ESTATE.done" ]; then
  rm -rf "$ESTATE"
  target/release/examples/make_estate --out "$ESTATE" --sites 50 --caps-per-site 3 \
    --logon-points 2 --small-files "$SMALL_FILES" --seed 42 >&2
  touch "$ESTATE.done"
fi

# label|command: the audit exits 1 or 3 on findings, so --fail-on never.
audit="$SMSAUDIT audit --quiet --fail-on never --out $OUT"
commands=(
  "sha256sum pipeline|find $ESTATE -type f -print0 | xargs -0 -P2 -n 64 sha256sum > /dev/null"
  "every report (default)|$audit $ESTATE"
  "--format csv|$audit --format csv $ESTATE"
  "--format json|$audit --format json $ESTATE"
  "--format xlsx|$audit --format xlsx $ESTATE"
  "--format html|$audit --format html $ESTATE"
)
if [ -n "${BASELINE:-}" ]; then
  baseline="$BASELINE audit --quiet --fail-on never --out $OUT"
  commands+=(
    "baseline: every report|$baseline $ESTATE"
    "baseline: --format xlsx|$baseline --format xlsx $ESTATE"
  )
fi

files=$(find "$ESTATE" -type f | wc -l)
mib=$(( $(du -sb "$ESTATE" | cut -f1) / 1048576 ))
echo "## Reports, $files files ($mib MiB), warm cache"
echo
echo "$(date -u '+%Y-%m-%d %H:%M UTC'), nproc $(nproc), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
echo
echo "| command | mean s | ± s | × pipeline | peak RSS MiB |"
echo "|---|---:|---:|---:|---:|"
pipeline_mean=
for entry in "${commands[@]}"; do
  label=${entry%%|*}
  command=${entry#*|}
  hyperfine --warmup 1 --runs "$RUNS" --style none --export-json "$BENCH_DIR/run.json" \
    "$command" >/dev/null 2>&1
  read -r mean stddev < <(python3 -c '
import json, sys
r = json.load(open(sys.argv[1]))["results"][0]
print("%.3f %.3f" % (r["mean"], r["stddev"]))' "$BENCH_DIR/run.json")
  pipeline_mean=${pipeline_mean:-$mean}
  ratio=$(python3 -c "print(f'{$mean / $pipeline_mean:.2f}')")
  /usr/bin/time -v -o "$BENCH_DIR/time.txt" bash -c "$command" >/dev/null 2>&1 || true
  kib=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$BENCH_DIR/time.txt")
  echo "| $label | $mean | $stddev | $ratio | $((kib / 1024)) |"
done
echo
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
