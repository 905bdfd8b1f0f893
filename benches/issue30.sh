#!/usr/bin/env bash
# Issue 30's targets, measured the way the issue measured them: runs of the
# commands compared alternated (one of each, then again), best of RUNS, so a
# shared machine's load falls on every command alike. Not part of
# `cargo test` or .ci/run.
#
#   benches/issue30.sh [all|small|small-mixed|shares|fewsites]
#
# small:  the issue's shape: 100,000 small files on 200 shares, every file
#         0.5-60 KiB, 2.8 KiB on average (about 280 MB; `make_estate
#         --file-sizes small`), every report, against
#         `find | xargs -0 -P2 -n256 sha256sum`; `--format csv`; the
#         workbook's size.
# small-mixed: the same with make_estate's default sizes (bundled
#         binaries of a few hundred KiB, uploads up to 256 KiB: about
#         14.5 KB a file, 1.5 GiB), the estate of the first issue-30 runs.
# shares: 1,000 and 10,000 shares of 10 files each (sites x (SMS + CAP +
#         2 CAPs) + as many logon points as sites: n/5 sites): wall time,
#         CPU and peak memory of each, their ratio, the reports' sizes.
# fewsites: the same with n/20 sites (sites x (SMS + CAP + 17 CAPs) + as
#         many logon points as sites).
#
# Needs: /usr/bin/time (Debian package `time`).
# Env: BENCH_DIR (default /tmp/smsaudit-bench) holds estates and results;
#      RUNS (default 5) alternated runs per command;
#      BASELINE=/path/to/older/smsaudit adds that build to every comparison;
#      SIZES (default "1000 10000") the share counts of shares/fewsites, the
#      first the one the others are compared with.
# Warm cache: one untimed run of each command comes first.
set -euo pipefail
cd "$(dirname "$0")/.."

WHAT=${1:-all}
BENCH_DIR=${BENCH_DIR:-/tmp/smsaudit-bench}
RUNS=${RUNS:-5}
OUT=$BENCH_DIR/results-issue30
mkdir -p "$BENCH_DIR" "$OUT"
command -v /usr/bin/time >/dev/null || { echo "missing: /usr/bin/time (apt-get install time)" >&2; exit 2; }

cargo build --release --quiet --bin smsaudit --example make_estate
SMSAUDIT=$PWD/target/release/smsaudit
MAKE=$PWD/target/release/examples/make_estate

estate() { # name, make_estate args...
  local name=$1; shift
  if [ ! -f "$BENCH_DIR/$name.done" ]; then
    rm -rf "${BENCH_DIR:?}/$name"
    "$MAKE" --out "$BENCH_DIR/$name" --seed 42 "$@" 2>/dev/null
    touch "$BENCH_DIR/$name.done"
  fi
}

machine() {
  echo "date: $(date -u +%Y-%m-%dT%H:%MZ); commit $(git rev-parse --short HEAD)"
  echo "cpu: $(lscpu | sed -n 's/^Model name: *//p'), nproc $(nproc); memory: $(free -m | awk '/^Mem:/ {print $2}') MiB; kernel $(uname -r); fs: $(df -T "$BENCH_DIR" | awk 'NR==2 {print $2}')"
  echo "load before (uptime): $(uptime)"
}

# Runs each "label|command" of the arguments (no `|` in the label) RUNS times, alternated, and
# prints per label: best wall (s), median wall, peak RSS (MiB, largest of
# the runs), best CPU (user+sys, s). Output rows:
# "label<TAB>best<TAB>median<TAB>rss<TAB>cpu".
alternate() {
  local specs=("$@") i spec label cmd
  for spec in "${specs[@]}"; do sh -c "${spec#*|}" >/dev/null 2>&1 || true; done
  : >"$OUT/runs.tsv"
  for ((i = 0; i < RUNS; i++)); do
    for spec in "${specs[@]}"; do
      label=${spec%%|*}; cmd=${spec#*|}
      /usr/bin/time -f "%e %M %U %S" -o "$OUT/time.txt" sh -c "$cmd" >/dev/null 2>&1 || true
      echo "$label	$(cat "$OUT/time.txt")" >>"$OUT/runs.tsv"
    done
  done
  python3 - "$OUT/runs.tsv" <<'PY'
import sys, statistics
runs = {}
for line in open(sys.argv[1]):
    label, rest = line.rstrip("\n").split("\t")
    wall, kib, user, system = rest.split()
    runs.setdefault(label, []).append((float(wall), int(kib), float(user) + float(system)))
for label, r in runs.items():
    walls = [w for w, _, _ in r]
    print(f"{label}\t{min(walls):.3f}\t{statistics.median(walls):.3f}\t{max(k for _, k, _ in r) // 1024}\t{min(c for _, _, c in r):.2f}")
PY
}

small() { # estate name, make_estate --file-sizes
  # 200 shares: 39 sites x (SMS + CAP + 3 CAPs) + 5 logon points.
  local name=$1 sizes=$2
  estate "$name" --sites 39 --caps-per-site 3 --logon-points 5 --small-files 100000 --file-sizes "$sizes"
  local dir=$BENCH_DIR/$name
  echo "## 100,000 small files, \`--file-sizes $sizes\` ($(find "$dir" -type f | wc -l) files, $(($(du -sb "$dir" | cut -f1) / 1048576)) MiB, 200 shares), $RUNS alternated runs"
  echo
  local specs=(
    "smsaudit, every report|$SMSAUDIT audit $dir --out $BENCH_DIR/out30-$name --quiet --fail-on never"
    "smsaudit --format csv|$SMSAUDIT audit $dir --out $BENCH_DIR/out30-$name-csv --format csv --quiet --fail-on never"
    "sha256sum pipeline (find, xargs -0 -P2 -n256)|find $dir -type f -print0 | xargs -0 -P2 -n256 sha256sum"
  )
  [ -n "${BASELINE:-}" ] && specs+=(
    "baseline, every report|$BASELINE audit $dir --out $BENCH_DIR/out30-$name-base --quiet --fail-on never"
    "baseline --format csv|$BASELINE audit $dir --out $BENCH_DIR/out30-$name-base-csv --format csv --quiet --fail-on never"
  )
  alternate "${specs[@]}" >"$OUT/small.tsv"
  python3 - "$OUT/small.tsv" <<'PY'
import sys
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1])]
pipe = next(float(r[1]) for r in rows if r[0].startswith("sha256sum pipeline"))
print("| command | best | median | x the pipeline (its best / this best) | peak RSS |")
print("|---|---:|---:|---:|---:|")
for label, best, median, rss, _cpu in rows:
    print(f"| {label} | {best} s | {median} s | {pipe / float(best):.2f}x | {rss} MiB |")
PY
  echo
  echo "audit.xlsx: $(stat -c %s "$BENCH_DIR/out30-$name/audit.xlsx") bytes; report.html: $(stat -c %s "$BENCH_DIR/out30-$name/report.html") bytes; files.csv: $(stat -c %s "$BENCH_DIR/out30-$name/files.csv") bytes"
  [ -n "${BASELINE:-}" ] && echo "baseline audit.xlsx: $(stat -c %s "$BENCH_DIR/out30-$name-base/audit.xlsx") bytes; report.html: $(stat -c %s "$BENCH_DIR/out30-$name-base/report.html") bytes"
  echo
}

# shares SHAPE: SHAPE is "sites5" (n/5 sites, 2 more CAPs each) or
# "sites20" (n/20 sites, 17 more CAPs each); as many logon points as sites.
shares() {
  local shape=$1 n sites caps divisor first
  case $shape in
    sites5) divisor=5 caps=2 ;;
    sites20) divisor=20 caps=17 ;;
  esac
  local sizes=(${SIZES:-1000 10000})
  first=${sizes[0]}
  for n in "${sizes[@]}"; do
    sites=$((n / divisor))
    estate "$shape-$n" --sites $sites --caps-per-site $caps --logon-points $((n - sites * (caps + 2))) --small-files $((n * 10))
  done
  echo "## ${sizes[*]} shares, 10 files each, n/$divisor sites, every report, $RUNS alternated runs"
  echo
  local specs=()
  for n in "${sizes[@]}"; do
    specs+=("smsaudit, $n shares|$SMSAUDIT audit $BENCH_DIR/$shape-$n --out $BENCH_DIR/out30-$shape-$n --quiet --fail-on never")
    [ -n "${BASELINE:-}" ] && specs+=("baseline, $n shares|$BASELINE audit $BENCH_DIR/$shape-$n --out $BENCH_DIR/out30-$shape-base-$n --quiet --fail-on never")
  done
  alternate "${specs[@]}" >"$OUT/$shape.tsv"
  python3 - "$OUT/$shape.tsv" "$first" <<'PY'
import sys
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1])]
first = sys.argv[2]
best = {r[0]: float(r[1]) for r in rows}
cpu = {r[0]: float(r[4]) for r in rows}
print("| command | best wall | median wall | best CPU (user+sys) | peak RSS |")
print("|---|---:|---:|---:|---:|")
for label, b, median, rss, c in rows:
    print(f"| {label} | {b} s | {median} s | {c} s | {rss} MiB |")
print()
for who in ("smsaudit", "baseline"):
    base = f"{who}, {first} shares"
    if base not in best:
        continue
    for label in best:
        if label.startswith(f"{who}, ") and label != base:
            print(f"{who}: {label[len(who) + 2:]} cost {best[label] / best[base]:.1f}x the wall and {cpu[label] / cpu[base]:.1f}x the CPU of {first} shares")
PY
  echo
  for n in "${sizes[@]}"; do
    echo "reports at $n shares: $(cd "$BENCH_DIR/out30-$shape-$n" && for f in matrix.csv audit.json audit.xlsx report.html files.csv; do printf '%s %s bytes; ' "$f" "$(stat -c %s "$f")"; done)"
  done
  echo
}

echo "# smsaudit, issue 30 benchmarks"
echo
machine
echo
case $WHAT in
  all) small small100k-issue small; small small100k mixed; shares sites5; shares sites20 ;;
  small) small small100k-issue small ;;
  small-mixed) small small100k mixed ;;
  shares) shares sites5 ;;
  fewsites) shares sites20 ;;
  *) echo "usage: $0 [all|small|small-mixed|shares|fewsites]" >&2; exit 2 ;;
esac
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
