#!/usr/bin/env bash
# One CAP read over SMB by the smsaudit-smb helper (issue 31), through
# /work/shared/tools/delayproxy at RTT_MS per round trip, against a real
# Samba on 127.0.0.1 serving NT1 only, then SMB3 only; and, once, smsaudit
# over smbnetfs (FUSE over libsmbclient) on the NT1 server through the same
# proxy, the issue's comparison.
#
#   sudo benches/smb_link.sh   # RTT_MS=2 RUNS=3 SMBNETFS=1 JOBS= BENCH_DIR=$(mktemp -d) [HELPER=<built helper> NO_BUILD=1 MAKE_ESTATE=...]
#
# Needs root (smbd), samba, libsmbclient-dev, and smbnetfs with /dev/fuse for
# the comparison (SMBNETFS=0 skips it). The CAP: `make_estate --sites 1
# --caps-per-site 0 --logon-points 0 --small-files 2500 --seed 42` gives
# CAP_M00 with 2,541 files in 26 folders, as benches/slow_link.sh. Each run
# gets a fresh delayproxy, which counts every SMB request of the run (logon
# and listings included; requests per file are over the files), the
# requests by command, the round trip it delivered (RTT_MS plus what a
# loaded machine adds), and the requests in flight (the proxy's max, and the
# mean the wall time implies: requests x delivered round trip / wall time).
# The ideal is requests x RTT / in flight, with in flight the helper's reader
# processes at the `-j` given (JOBS, default smsaudit's own: 16 on this
# machine, so 16 readers). NT1 and SMB3 runs alternate;
# every run's figures are printed, then best and median wall time.
# Prints markdown for benches/RESULTS.md.
set -euo pipefail
cd "$(dirname "$0")/.."

RTT_MS=${RTT_MS:-2}
BENCH_DIR=${BENCH_DIR:-$(mktemp -d)}
PROXY_DIR=${PROXY_DIR:-/work/shared/tools/delayproxy}
pids=()
cleanup() {
  for mnt in "$BENCH_DIR"/*/mnt; do fusermount -u "$mnt" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; done
  # The samba-dcerpcd smbd starts on demand leaves smbd's process: by its pid file, its rpcd children first.
  for file in "$BENCH_DIR"/*/state/pid/samba-dcerpcd.pid; do
    [ -f "$file" ] || continue
    pkill -P "$(cat "$file")" 2>/dev/null || true
    kill "$(cat "$file")" 2>/dev/null || true
  done
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

IN_FLIGHT=${JOBS:-16}
[ "$IN_FLIGHT" -le 16 ] || IN_FLIGHT=16  # the helper's readers at most
RUNS=${RUNS:-3}
SMBNETFS=${SMBNETFS:-1}
jobs_arg=()
[ -z "${JOBS:-}" ] || jobs_arg=(-j "$JOBS")

# Both servers up for the whole bench: runs alternate between them.
declare -A smbd_port
for dialect in NT1 SMB3; do
  dir=$BENCH_DIR/$dialect
  rm -rf "$dir"  # a reused BENCH_DIR: smbd's state and this run's figures only
  mkdir -p "$dir"/state/{lock,state,cache,private,binddns,pid,ncalrpc} "$dir/home/.smb/state"
  port=$(free_port)
  smbd_port[$dialect]=$port
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
  printf '[global]\n  disable netbios = yes\n  name resolve order = lmhosts\n  client min protocol = NT1\n  lock directory = %s\n  state directory = %s\n  cache directory = %s\n  private dir = %s\n' \
    "$dir/home/.smb/state" "$dir/home/.smb/state" "$dir/home/.smb/state" "$dir/home/.smb/state" >"$dir/home/.smb/smb.conf"
  printf 'username = nobody\npassword = Bench-Pa55\n' >"$dir/auth"
  chmod 600 "$dir/auth"
  # A session of its own: smbd ending signals its whole process group.
  setsid /usr/sbin/smbd --foreground --no-process-group -s "$dir/smb.conf" >"$dir/smbd.log" 2>&1 &
  pids+=($!)
  for _ in $(seq 100); do (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.1; done
  (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null || { echo "smbd ($dialect) did not start: $dir/smbd.log" >&2; exit 1; }
done

# One measured run: how ("helper" or "smbnetfs"), dialect, run number.
measure() {
  local how=$1 dialect=$2 run=$3 dir=$BENCH_DIR/$2 listen proxy_pid root start end read_ok fuse_pid=
  listen=$(free_port)
  "$proxy" "$listen" "${smbd_port[$dialect]}" "$RTT_MS" "$dir/stats-$how-$run.json" &
  proxy_pid=$!
  pids+=($proxy_pid)
  for _ in $(seq 100); do (exec 3<>"/dev/tcp/127.0.0.1/$listen") 2>/dev/null && break; sleep 0.05; done
  rm -rf "$dir/out"
  if [ "$how" = helper ]; then
    root="smb://127.0.0.1:$listen/CAP_M00"
  else
    mkdir -p "$dir/mnt" "$dir/roots/SRVM00"
    printf 'smb_query_browsers "false"\nuse_libsecret "false"\nauth "nobody" "Bench-Pa55"\n' >"$dir/home/.smb/smbnetfs.conf"
    chmod 600 "$dir/home/.smb/smbnetfs.conf"
    HOME=$dir/home setsid smbnetfs "$dir/mnt" -f >"$dir/smbnetfs.log" 2>&1 &
    fuse_pid=$!
    pids+=($fuse_pid)
    for _ in $(seq 100); do ls "$dir/mnt/127.0.0.1:$listen/CAP_M00" >/dev/null 2>&1 && break; sleep 0.1; done
    ln -sfn "$dir/mnt/127.0.0.1:$listen/CAP_M00" "$dir/roots/SRVM00/CAP_M00"
    root=$dir/roots/SRVM00/CAP_M00
    # The mount's own listing above is not the audit's: counted from here.
    kill "$proxy_pid"; wait "$proxy_pid" 2>/dev/null || true
    rm -f "$dir/stats-$how-$run.json"
    "$proxy" "$listen" "${smbd_port[$dialect]}" "$RTT_MS" "$dir/stats-$how-$run.json" &
    proxy_pid=$!
    pids+=($proxy_pid)
    sleep 0.3
  fi
  start=$(date +%s.%N)
  HOME=$dir/home SMSAUDIT_SMB_HELPER=$HELPER target/release/smsaudit audit "$root" --smb-auth "$dir/auth" \
    --out "$dir/out" --quiet --format csv "${jobs_arg[@]}" || true
  end=$(date +%s.%N)
  sleep 1.2  # the proxy writes its stats every half second
  read_ok=$(grep -c ',ok,' "$dir/out/files.csv" || true)
  python3 - "$dir/stats-$how-$run.json" "$start" "$end" "$files" "$read_ok" "$RTT_MS" "$dialect" "$how" "$IN_FLIGHT" "$run" <<'PY'
import json, sys, time
# The proxy rewrites its stats every half second: a read may meet the file
# half written.
for attempt in range(20):
    try:
        stats = json.load(open(sys.argv[1]))
        break
    except ValueError:
        time.sleep(0.1)
else:
    sys.exit(f"no readable stats in {sys.argv[1]}")
start, end, files, read_ok, rtt = float(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]), float(sys.argv[6])
dialect, how, in_flight, run = sys.argv[7], sys.argv[8], int(sys.argv[9]), sys.argv[10]
seconds = end - start
requests = stats["frames_c2s"]
ideal = requests * rtt / 1000 / in_flight
# The round trip the proxy delivered (a loaded machine stretches it), and
# the requests in flight on average that the wall time implies.
rtt_seen = 2 * stats["one_way_mean_us"] / 1000
in_flight_seen = requests * rtt_seen / 1000 / seconds
kinds = ", ".join(f"{name.split(':')[1]} {count / files:.2f}" for name, count in sorted(stats["cmds"].items(), key=lambda kv: -kv[1]) if count / files >= 0.005)
who = "smsaudit-smb" if how == "helper" else "smsaudit over smbnetfs"
x_ideal = f"{seconds / ideal:.2f}" if ideal else "-"
print(f"| {dialect} | {who} | {run} | {seconds:.2f} s | {read_ok} of {files} | {requests / files:.2f} ({kinds}) | {rtt_seen:.2f} ms | {stats['inflight_max']} / {in_flight_seen:.1f} | {ideal:.2f} s | {x_ideal} |")
with open(sys.argv[1] + ".seconds", "w") as out:
    out.write(f"{seconds:.3f}\n")
PY
  kill "$proxy_pid" 2>/dev/null || true; wait "$proxy_pid" 2>/dev/null || true
  if [ -n "$fuse_pid" ]; then
    fusermount -u "$dir/mnt" 2>/dev/null || true
    kill "$fuse_pid" 2>/dev/null || true; wait "$fuse_pid" 2>/dev/null || true
  fi
}

echo "uptime before: $(uptime)"
echo
echo "| server | read by | run | wall time | files ok | SMB requests a file (by command) | round trip delivered | in flight max / mean | ideal (requests x RTT / $IN_FLIGHT) | x ideal |"
echo "|---|---|---|---|---|---|---|---|---|---|"
for run in $(seq "$RUNS"); do
  for dialect in NT1 SMB3; do
    measure helper "$dialect" "$run"
  done
done
if [ "$SMBNETFS" = 1 ]; then
  measure smbnetfs NT1 1
fi
echo
for dialect in NT1 SMB3; do
  sort -n "$BENCH_DIR/$dialect"/stats-helper-*.json.seconds | python3 -c '
import sys, statistics
times = [float(line) for line in sys.stdin]
print(f"{sys.argv[1]}, smsaudit-smb: best {min(times):.2f} s, median {statistics.median(times):.2f} s of {len(times)} runs")' "$dialect"
done
echo "uptime after: $(uptime)"
