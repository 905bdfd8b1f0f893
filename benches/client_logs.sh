#!/usr/bin/env bash
# What a big client log costs (issue 28): `smsaudit audit --client-logs`
# over one generated Ccim32.log of symptom lines (the Q236596
# "cfg-out-of-sync" line for 4 components, times and lines all different),
# peak RSS from /usr/bin/time -v, against an empty CAP (\\SERVER1\CAP_MS1). Prints a
# markdown table row per size. Run by hand; not part of `cargo test`.
#
#   benches/client_logs.sh            # 200 MB and 1 GB
#   SIZES_MB="200" benches/client_logs.sh
#
# Env: SMSAUDIT (default target/release/smsaudit, built if missing);
#      BASELINE=/path/to/older/smsaudit adds its run per size (before/after);
#      BENCH_DIR (default /tmp/smsaudit-clientlogs-bench) holds the logs
#      (as big as the sizes; remove it when done) and the reports.
# Needs: time (/usr/bin/time), python3.
set -euo pipefail
cd "$(dirname "$0")/.."

BENCH_DIR=${BENCH_DIR:-/tmp/smsaudit-clientlogs-bench}
SIZES_MB=${SIZES_MB:-"200 1024"}
# The share the log lines name, empty: a CAP with its component folder.
mkdir -p "$BENCH_DIR/root/SERVER1/CAP_MS1/clicomp.box"
command -v /usr/bin/time >/dev/null || { echo "missing: /usr/bin/time (apt-get install time)" >&2; exit 2; }
if [ -z "${SMSAUDIT:-}" ]; then
  cargo build --release --quiet --bin smsaudit
  SMSAUDIT=$PWD/target/release/smsaudit
fi

make_log() { # $1 size in MB, $2 file
  python3 - "$1" "$2" <<'PY'
import sys
size, path = int(sys.argv[1]) << 20, sys.argv[2]
cfgs = ["smsapm32", "SWDist", "sinv", "hinv"]
with open(path, "w", newline="") as out:
    written, n, chunk = 0, 0, []
    while written < size:
        line = ("Warning: \\\\SERVER1\\CAP_MS1\\clicomp.box\\%s.CFG version () out of sync with offer "
                "file version (2.00.1239.0000); skipping operations $$<CCIM32><Tue Jun 22 %02d:%02d:%02d.%03d 1999>"
                "<thread=4294798339 (0xFFFD6C03)>\r\n") % (cfgs[n % 4], n // 3600000 % 24, n // 60000 % 60, n // 1000 % 60, n % 1000)
        chunk.append(line)
        written += len(line)
        n += 1
        if len(chunk) == 10000:
            out.write("".join(chunk)); chunk = []
    out.write("".join(chunk))
print(n)
PY
}

run() { # $1 binary, $2 logs folder, $3 label, $4 size
  local out=$BENCH_DIR/out-$3
  rm -rf "$out"
  /usr/bin/time -v "$1" audit "$BENCH_DIR/root" --client-logs "$2" -o "$out" --fail-on never \
    >"$BENCH_DIR/stdout-$3" 2>"$BENCH_DIR/time-$3" || true
  local rss secs code rows
  rss=$(awk -F': ' '/Maximum resident set size/ {printf "%.0f", $2/1024}' "$BENCH_DIR/time-$3")
  secs=$(awk -F': ' '/Elapsed \(wall clock\)/ {print $2}' "$BENCH_DIR/time-$3")
  code=$(awk -F': ' '/Exit status/ {print $2}' "$BENCH_DIR/time-$3")
  rows=$( [ -f "$out/symptoms.csv" ] && echo $(( $(wc -l <"$out/symptoms.csv") - 1 )) || echo "no set")
  echo "| $3 | $4 MB, $LINES lines | $rss MiB | $secs | $code | $rows |"
}

echo "| binary | log | peak RSS | wall | exit | symptoms.csv rows |"
echo "|---|---|---|---|---|---|"
for mb in $SIZES_MB; do
  logs=$BENCH_DIR/logs-$mb
  if [ ! -f "$logs/.lines" ]; then
    rm -rf "$logs"; mkdir -p "$logs/PC-LOUD"
    make_log "$mb" "$logs/PC-LOUD/Ccim32.log" >"$logs/.lines"
  fi
  LINES=$(cat "$logs/.lines")
  run "$SMSAUDIT" "$logs" "smsaudit-$mb" "$mb"
  if [ -n "${BASELINE:-}" ]; then run "$BASELINE" "$logs" "baseline-$mb" "$mb"; fi
done
