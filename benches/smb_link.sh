#!/usr/bin/env bash
# One CAP read over SMB by the smsaudit-smb helper (issue 31), through
# /work/shared/tools/delayproxy at RTT_MS per round trip, against a real
# Samba on 127.0.0.1 serving NT1 only, then SMB3 only.
#
#   sudo benches/smb_link.sh        # RTT_MS=2 BENCH_DIR=$(mktemp -d) [HELPER=<built helper> NO_BUILD=1 MAKE_ESTATE=...]; needs root (smbd), samba, libsmbclient-dev
#
# The CAP: `make_estate --sites 1 --caps-per-site 0 --logon-points 0
# --small-files 2500 --seed 42` gives CAP_M00 with 2,541 files, as
# benches/slow_link.sh. delayproxy counts every SMB request the helper sends
# (and the requests in flight); requests per file are all requests of the
# run (logon and listings included) over the files. The ideal is requests
# x RTT: one helper (one libsmbclient context) sends one request at a time.
# One run each (a run is 20-60 s).
# Prints a markdown table for benches/RESULTS.md.
set -euo pipefail
cd "$(dirname "$0")/.."

RTT_MS=${RTT_MS:-2}
BENCH_DIR=${BENCH_DIR:-$(mktemp -d)}
PROXY_DIR=${PROXY_DIR:-/work/shared/tools/delayproxy}
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; done
}
trap cleanup EXIT

[ -n "${NO_BUILD:-}" ] || cargo build --release --quiet --bin smsaudit --example make_estate
# The helper: a release build unless HELPER names one already built.
if [ -z "${HELPER:-}" ]; then
  cargo build --release --quiet --features smb --bin smsaudit-smb
  HELPER=$PWD/target/release/smsaudit-smb
fi
CARGO_TARGET_DIR=$BENCH_DIR/proxy-target cargo build --release --quiet --manifest-path "$PROXY_DIR/Cargo.toml"
proxy=$BENCH_DIR/proxy-target/release/delayproxy
estate=$BENCH_DIR/estate
if [ ! -d "$estate" ]; then
  "${MAKE_ESTATE:-target/release/examples/make_estate}" --out "$estate" --sites 1 --caps-per-site 0 --logon-points 0 \
    --small-files 2500 --seed 42 >/dev/null 2>&1
fi
cap=$estate/SRVM00/CAP_M00
chmod -R a+rX "$BENCH_DIR"
files=$(find "$cap" -type f | wc -l)
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

echo "| server | smsaudit | requests a file | ideal (requests x RTT, one at a time) | x ideal |"
echo "|---|---|---|---|---|"
for dialect in NT1 SMB3; do
  dir=$BENCH_DIR/$dialect
  mkdir -p "$dir"/state/{lock,state,cache,private,binddns,pid,ncalrpc} "$dir/home/.smb/state"
  port=$(free_port)
  cat >"$dir/smb.conf" <<CONF
[global]
  server role = standalone server
  interfaces = 127.0.0.1
  bind interfaces only = yes
  smb ports = $port
  disable netbios = yes
  lock directory = $dir/state/lock
  state directory = $dir/state/state
  cache directory = $dir/state/cache
  private dir = $dir/state/private
  binddns dir = $dir/state/binddns
  pid directory = $dir/state/pid
  ncalrpc dir = $dir/state/ncalrpc
  passdb backend = tdbsam:$dir/state/private/passdb.tdb
  load printers = no
  printing = bsd
  printcap name = /dev/null
  disable spoolss = yes
  server min protocol = $dialect
  server max protocol = $dialect
[CAP_M00]
  path = $cap
  read only = yes
CONF
  printf 'Bench-Pa55\nBench-Pa55\n' | smbpasswd -c "$dir/smb.conf" -a -s nobody >/dev/null
  printf '[global]\n  disable netbios = yes\n  name resolve order = lmhosts\n  lock directory = %s\n  state directory = %s\n  cache directory = %s\n  private dir = %s\n' \
    "$dir/home/.smb/state" "$dir/home/.smb/state" "$dir/home/.smb/state" "$dir/home/.smb/state" >"$dir/home/.smb/smb.conf"
  printf 'username = nobody\npassword = Bench-Pa55\n' >"$dir/auth"
  chmod 600 "$dir/auth"
  # A session of its own: smbd ending signals its whole process group.
  setsid /usr/sbin/smbd --foreground --no-process-group -s "$dir/smb.conf" >"$dir/smbd.log" 2>&1 &
  pids+=($!)
  listen=$(free_port)
  "$proxy" "$listen" "$port" "$RTT_MS" "$dir/stats.json" &
  pids+=($!)
  for _ in $(seq 100); do (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.1; done
  start=$(date +%s.%N)
  HOME=$dir/home SMSAUDIT_SMB_HELPER=$HELPER target/release/smsaudit audit \
    "smb://127.0.0.1:$listen/CAP_M00" --smb-auth "$dir/auth" --out "$dir/out" --quiet --format csv || true
  end=$(date +%s.%N)
  sleep 1.2  # the proxy writes its stats every half second
  read_ok=$(grep -c ',ok,' "$dir/out/files.csv" || true)
  python3 - "$dir/stats.json" "$start" "$end" "$files" "$read_ok" "$RTT_MS" "$dialect" <<'PY'
import json, sys
stats = json.load(open(sys.argv[1]))
start, end, files, read_ok, rtt = float(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]), float(sys.argv[6])
seconds = end - start
requests = stats["frames_c2s"]
# One libsmbclient context sends one request at a time.
ideal = requests * rtt / 1000
print(f"| {sys.argv[7]} only, {files} files ({read_ok} with status ok) | {seconds:.2f} s | {requests / files:.2f} | {ideal:.2f} s | {seconds / ideal:.2f} |")
print("  commands:", json.dumps(stats["cmds"]), file=sys.stderr)
PY
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; done
  pids=()
done
