#!/usr/bin/env bash
# One CAP over a slow link: smsaudit against sha256sum and hashdeep, and
# against the ideal, through benches/slowfs.py at DELAY_MS per round trip.
#
#   benches/slow_link.sh            # DELAY_MS=2 RUNS=5 BENCH_DIR=$(mktemp -d)
#
# The CAP: `make_estate --sites 1 --caps-per-site 0 --logon-points 0
# --small-files 2500 --seed 42` gives CAP_M00 with 2,541 files in 26 folders;
# only that share is mounted, at BENCH_DIR/<mode>/SRVM00/CAP_M00 so its name
# stays a CAP's. Two modes: (a) every entry's attributes cost a round trip,
# (b) --listing-attrs: a listing carries them, as SMB's does.
# Each command runs warm (one warm-up run) RUNS times with hyperfine (else
# /usr/bin/time, one run). The ideal is the round trips smsaudit asked for
# (delayed requests counted by slowfs over one run) x DELAY_MS / 16, its
# default -j on this machine's 2 cores being 16; the ideal at the delivered
# delay is the time those requests really waited in slowfs / 16 (a busy
# Python server wakes them late). Prints a markdown table for
# benches/RESULTS.md. Needs python3-pyfuse3, fuse3, hashdeep (and hyperfine).
set -euo pipefail
cd "$(dirname "$0")/.."

DELAY_MS=${DELAY_MS:-2}
RUNS=${RUNS:-5}
CONCURRENCY=16
BENCH_DIR=${BENCH_DIR:-$(mktemp -d)}
SMSAUDIT=$PWD/target/release/smsaudit
mounts=()
servers=()

cleanup() {
  for mount in "${mounts[@]}"; do fusermount3 -u "$mount" 2>/dev/null || fusermount3 -u -z "$mount" 2>/dev/null || true; done
  for pid in "${servers[@]}"; do kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; done
}
trap cleanup EXIT

cargo build --release --quiet --bin smsaudit --example make_estate
estate=$BENCH_DIR/estate
if [ ! -d "$estate" ]; then
  target/release/examples/make_estate --out "$estate" --sites 1 --caps-per-site 0 --logon-points 0 \
    --small-files 2500 --seed 42 >/dev/null 2>&1
fi
cap=$estate/SRVM00/CAP_M00
files=$(find "$cap" -type f | wc -l)
folders=$(find "$cap" -type d | wc -l)
mib=$(du -sm "$cap" | cut -f1)

# Mounts the CAP through slowfs for mode $1 (a or b); sets $mount, $server.
mount_mode() {
  local mode=$1 options=(--delay-ms "$DELAY_MS")
  [ "$mode" = b ] && options+=(--listing-attrs)
  mount=$BENCH_DIR/$mode/SRVM00/CAP_M00
  mkdir -p "$mount"
  rm -f "$BENCH_DIR/ready-$mode" "$BENCH_DIR/stats-$mode.json"
  /usr/bin/python3 benches/slowfs.py "$cap" "$mount" "${options[@]}" \
    --ready "$BENCH_DIR/ready-$mode" --stats "$BENCH_DIR/stats-$mode.json" >/dev/null 2>"$BENCH_DIR/slowfs-$mode.log" &
  server=$!
  servers+=("$server")
  mounts+=("$mount")
  for _ in $(seq 300); do [ -e "$BENCH_DIR/ready-$mode" ] && return; sleep 0.1; done
  echo "slowfs did not mount: $(cat "$BENCH_DIR/slowfs-$mode.log")" >&2
  exit 1
}

# The delayed round trips counted so far by the server $1 (stats in $2),
# and the seconds they waited in all.
round_trips() {
  rm -f "$2"
  kill -USR1 "$1"
  for _ in $(seq 100); do [ -s "$2" ] && break; sleep 0.05; done
  python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(d["delayed_total"], d["delayed_seconds"])' "$2"
}

# Mean and standard deviation of command $2 (seconds), named $1.
time_it() {
  local name=$1 command=$2
  if command -v hyperfine >/dev/null; then
    hyperfine --runs "$RUNS" --warmup 1 -i --export-json "$BENCH_DIR/$name.json" "$command" >/dev/null 2>&1
    python3 -c 'import json,sys; r=json.load(open(sys.argv[1]))["results"][0]; print("%.3f %.3f" % (r["mean"], r["stddev"] or 0))' \
      "$BENCH_DIR/$name.json"
  else
    /usr/bin/time -f "%e 0" bash -c "$command" 2>&1 >/dev/null | tail -1
  fi
}

echo "## slow link: one CAP ($files files, $folders folders, $mib MiB) at $DELAY_MS ms per round trip"
echo
echo "* date: $(date -u +%Y-%m-%dT%H:%MZ); cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), nproc $(nproc); kernel $(uname -r)"
echo "* load before: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "* $RUNS warm runs each (hyperfine, 1 warm-up); ideal = smsaudit's round trips x $DELAY_MS ms / $CONCURRENCY"
echo
echo "| mode | command | time (mean ± σ) | round trips (one run) | mean delay delivered | ratio to the ideal | ratio to the ideal at the delivered delay |"
echo "|---|---|---|---|---|---|---|"
for mode in a b; do
  mount_mode "$mode"
  out=$BENCH_DIR/out-$mode
  declare -A commands=(
    [smsaudit]="$SMSAUDIT audit $mount --out $out --quiet --fail-on never"
    [sha256sum]="find $mount -type f -print0 | xargs -0 -P8 -n 64 sha256sum"
    [hashdeep]="hashdeep -r -c sha256 -j8 $mount"
  )
  label=$([ "$mode" = a ] && echo "(a) attributes per entry" || echo "(b) attributes in listings")
  ideal=""
  for name in smsaudit sha256sum hashdeep; do
    read -r trips_before waited_before < <(round_trips "$server" "$BENCH_DIR/stats-$mode.json")
    bash -c "${commands[$name]}" >/dev/null 2>&1 || true
    read -r trips_after waited_after < <(round_trips "$server" "$BENCH_DIR/stats-$mode.json")
    trips=$((trips_after - trips_before))
    waited=$(python3 -c "print($waited_after - $waited_before)")
    if [ -z "$ideal" ]; then
      ideal=$(python3 -c "print($trips * $DELAY_MS / 1000 / $CONCURRENCY)")
      delivered=$(python3 -c "print($waited / $CONCURRENCY)")
    fi
    read -r mean sd < <(time_it "$mode-$name" "${commands[$name]}")
    echo "| $label | $name | $mean s ± $sd | $trips | $(python3 -c "print(f'{$waited / max(1, $trips) * 1000:.2f} ms')") |" \
      "$(python3 -c "print(f'{$mean / $ideal:.2f}x')") | $(python3 -c "print(f'{$mean / $delivered:.2f}x')") |"
  done
  echo "| $label | ideal (smsaudit's round trips x $DELAY_MS ms / $CONCURRENCY) | $(python3 -c "print(f'{$ideal:.3f}')") s | | | 1.00x | |"
  echo "| $label | ideal at the delivered delay (their waits / $CONCURRENCY) | $(python3 -c "print(f'{$delivered:.3f}')") s | | | | 1.00x |"
  unset commands
done
echo
echo "* load after: $(cut -d' ' -f1-3 /proc/loadavg)"
