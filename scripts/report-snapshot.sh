#!/usr/bin/env bash
# Writes every report and command output of a fixed set of runs into OUT,
# normalised so that two builds can be compared with `diff -r`: run start
# times, durations and the hashes and sizes in manifest.json (which follow
# from them) are replaced; the workbook is unpacked member by member.
#
# For restructurings that must keep every report byte for byte:
#   scripts/report-snapshot.sh /path/to/old/smsaudit /tmp/before
#   scripts/report-snapshot.sh target/release/smsaudit /tmp/after
#   diff -r /tmp/before /tmp/after
#
# The estates are rebuilt in one fixed folder (SNAPSHOT_WORK, default
# /tmp/smsaudit-snapshot-work) with fixed file times, so paths and file
# times are the same in both runs. Needs python3, unzip and cargo (for the
# generated estates: examples/make_estate.rs).
set -uo pipefail
bin=$(realpath "$1")
out=$(realpath -m "$2")
repo=$(cd "$(dirname "$0")/.." && pwd)
work=${SNAPSHOT_WORK:-/tmp/smsaudit-snapshot-work}

# One snapshot at a time on this machine: they share the work folder.
exec 9>/tmp/smsaudit-snapshot.lock
flock 9

rm -rf "$work" "$out"
mkdir -p "$work" "$out"
# The same program path and input paths whatever checkout runs this: the
# history records the command line.
cp "$bin" "$work/smsaudit"
bin="$work/smsaudit"
cp -a "$repo/tests/fixtures/client-logs" "$work/client-logs"

freeze() { find "$1" -exec touch -h -d '2001-02-03 04:05:06 UTC' {} +; }

cp -a "$repo/sample-shares" "$work/sample"
freeze "$work/sample"
(cd "$repo" && cargo run -q --release --example make_estate -- --out "$work/gen-a" \
  --sites 10 --caps-per-site 2 --logon-points 3 --seed 1 --small-files 3000) >/dev/null
(cd "$repo" && cargo run -q --release --example make_estate -- --out "$work/gen-b" \
  --sites 4 --caps-per-site 1 --logon-points 2 --seed 7 --large-files 2 --large-size-mib 1 \
  --small-files 200) >/dev/null
freeze "$work/gen-a"
freeze "$work/gen-b"

# run NAME ARGS...: runs the binary in $work, keeps stdout, stderr and the exit code.
run() {
  local name=$1
  shift
  (cd "$work" && "$bin" "$@" >"$out/$name.stdout" 2>"$out/$name.stderr")
  echo $? >"$out/$name.rc"
}

run s1 audit sample --out r-s1 -v
run s2 audit sample --out r-s2 --csv machine --upgrade MS1,MS2 --to SP2 \
  --client-logs client-logs --log log-s2.txt --fail-on never
run s3 audit sample --out r-s3 --format csv,json,html --upgrade MS1 --to SP1 --exclude '*.log' --exclude 'clicomp.box/hinv/*'
run s3b audit sample --out r-s3b --stdout matrix

# History and drift: two nights with a change between them.
cp -a "$work/sample" "$work/night"
run h1 audit night --out r-h1 --history hist/estate.sqlite
printf 'changed\r\n' >>"$work/night/DC1/SMSLOGON/Sites/MS1/NETCONF.NCF" 2>/dev/null ||
  printf 'changed\r\n' >"$work/night/DC1/SMSLOGON/planted.bat"
printf '@echo off\r\n' >"$work/night/DC1/SMSLOGON/logon.bat"
rm -rf "$work/night/SERVER2/CAP_MS2/clicomp.box/smsapm32"
freeze "$work/night"
sleep 1.1  # h1 and h2 start in different seconds, so the workbook never merges their times
run h2 audit night --out r-h2 --history hist/estate.sqlite --client-logs client-logs
run b1 audit night --out r-b1 --baseline r-s1/audit.json
run d1 diff r-s1/audit.json r-b1/audit.json --out r-d1
run hl history hist/estate.sqlite
run hs history hist/estate.sqlite --site MS1
run hc history hist/estate.sqlite --code F02 --csv=machine
run hp history hist/estate.sqlite --location '\\DC1\SMSLOGON' --path logon.bat
run hi history hist/estate.sqlite --item 'base compver.ini'
run rules rules
run explain explain Q236596

run ga audit gen-a --out r-ga -j 3
run gb audit gen-b --out r-gb --upgrade M00,M01 --to SP4 -j 8
run gb2 audit gen-b --out r-gb2 -j 2 --csv machine --exclude '*/inventry.box/*'

for dir in "$work"/r-* "$work/hist"; do
  cp -a "$dir" "$out/$(basename "$dir")"
done
cp "$work/log-s2.txt" "$out/" 2>/dev/null

python3 - "$out" "$work" <<'EOF'
import os, re, subprocess, sys, zipfile
out, work = sys.argv[1], sys.argv[2]
stamp = re.compile(rb'20[2-9][0-9]-[01][0-9]-[0-3][0-9][T ][0-2][0-9]:[0-5][0-9]:[0-5][0-9](\.[0-9]+)?Z?')
secs = [
    re.compile(rb'"duration_seconds": ?[0-9.]+'),
    re.compile(rb'\(([0-9]+m ?)?[0-9]+\.[0-9]+ ?s\)'),
    re.compile(rb'in [0-9]+\.[0-9]+ ?s\b'),
    re.compile(rb'after [0-9]+\.[0-9]+ ?s\b'),
    re.compile(rb'(?<=Duration \(seconds\)</t></si><si><t>)[0-9.]+'),
    re.compile(rb'(?<=<dt>Duration</dt><dd>)[0-9.]+ ?s'),
    re.compile(rb"(?<=<TIME>','<TIME>',)[0-9.e-]+"),
    re.compile(rb'(?<=<TIME>  <TIME>  )[0-9.]+'),
]
hashes = re.compile(rb'"(sha256|size)": ?("[0-9a-f]{64}"|[0-9]+)')
def norm(data, name):
    data = stamp.sub(b'<TIME>', data)
    for s in secs:
        data = s.sub(b'<DURATION>', data)
    if name == 'manifest.json':
        data = hashes.sub(b'"\\1": <X>', data)
    return data
for root, _, files in os.walk(out):
    for f in files:
        p = os.path.join(root, f)
        if f.endswith('.sqlite'):
            dump = subprocess.run(['sqlite3', p, '.dump'], capture_output=True).stdout
            os.remove(p)
            with open(p + '.sql', 'wb') as w:
                w.write(norm(dump, f))
            continue
        if f.endswith('-wal') or f.endswith('-shm') or f.endswith('.lock'):
            os.remove(p)
            continue
        if f.endswith('.xlsx'):
            with zipfile.ZipFile(p) as z:
                for m in z.namelist():
                    target = os.path.join(p + '.d', m)
                    os.makedirs(os.path.dirname(target), exist_ok=True)
                    with open(target, 'wb') as w:
                        w.write(norm(z.read(m), m))
            os.remove(p)
            continue
        with open(p, 'rb') as r:
            data = r.read()
        with open(p, 'wb') as w:
            w.write(norm(data, f))
EOF
echo "snapshot in $out"
