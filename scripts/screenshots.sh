#!/bin/sh
# Refreshes the screenshots in docs/screenshots from the realistic example
# estate (`make_estate --realistic`: five sites, the Q236596 group, a lagging
# CAP, a zero-byte offer), with Chromium, LibreOffice and pdftoppm (Debian
# chromium, libreoffice-calc, poppler-utils):
#
#   scripts/screenshots.sh [SMSAUDIT]
#
# SMSAUDIT is the smsaudit to run (default: this tree's release build, built
# first). Everything else happens in a temporary folder, removed at the end.
set -eu

repo=$(cd "$(dirname "$0")/.." && pwd)
shots="$repo/docs/screenshots"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT INT TERM

cd "$repo"
if [ $# -ge 1 ]; then
    smsaudit=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
else
    cargo build -q --release
    smsaudit="${CARGO_TARGET_DIR:-$repo/target}/release/smsaudit"
fi
cargo run -q --example make_estate -- --realistic --out "$work/estate"
# Relative, so the report names the root "estate", not the temporary folder.
(cd "$work" && "$smsaudit" audit estate --quiet --fail-on never --out report)

shoot() { # shoot WIDTH HEIGHT PNG URL
    timeout 180 chromium --headless --no-sandbox --disable-gpu --no-first-run --hide-scrollbars \
        --user-data-dir="$work/chromium" --window-size="$1,$2" --screenshot="$3" "$4" >/dev/null 2>&1
    test -s "$3"
}

# PNG width and height, from its header.
size() { file "$1" | sed -n 's/.*PNG image data, \([0-9]*\) x \([0-9]*\),.*/\1 \2/p'; }

# Pages of a PDF side by side, at a small size, as one picture: each page
# rendered by pdftoppm, laid out by Chromium.
pages_side_by_side() { # pages_side_by_side PDF FIRST LAST PNG
    pdf=$1
    first=$2
    last=$3
    png=$4
    rm -rf "$work/pages"
    mkdir "$work/pages"
    pdftoppm -f "$first" -l "$last" -r 30 -png "$pdf" "$work/pages/p"
    width=0
    height=0
    printf '<!doctype html><body style="margin:0;background:#8a9a9a;display:flex;gap:12px;padding:12px;align-items:flex-start">' >"$work/pages/all.html"
    for page in "$work/pages"/p-*.png; do
        page_size=$(size "$page")
        width=$((width + ${page_size% *} + 12))
        [ "${page_size#* }" -gt "$height" ] && height=${page_size#* }
        printf '<img src="%s" style="box-shadow:0 0 4px #333">' "$(basename "$page")" >>"$work/pages/all.html"
    done
    shoot $((width + 12)) $((height + 24)) "$work/pages/all.png" "file://$work/pages/all.html"
    cp "$work/pages/all.png" "$png"
}

# report.html as it opens: when and what, the verdict, the causes.
shoot 1280 720 "$shots/report-html.png" "file://$work/report/report.html"

# Its version matrix alone: the sections before it left out by a style.
sed 's#</head>#<style>header.top, main > :not(\#matrix) { display:none; }</style></head>#' \
    "$work/report/report.html" >"$work/report/matrix-only.html"
shoot 3040 1100 "$shots/report-html-matrix.png" "file://$work/report/matrix-only.html"

# report.html printed by Chromium: its pages side by side.
timeout 180 chromium --headless --no-sandbox --disable-gpu --no-first-run --user-data-dir="$work/chromium" \
    --no-pdf-header-footer --print-to-pdf="$work/report.pdf" "file://$work/report/report.html" >/dev/null 2>&1
pages_side_by_side "$work/report.pdf" 1 8 "$shots/report-html-print.png"

# audit.xlsx printed by LibreOffice: the Summary sheet, then the first pages.
timeout 180 soffice "-env:UserInstallation=file://$work/libreoffice" --headless --convert-to pdf \
    --outdir "$work" "$work/report/audit.xlsx" >/dev/null 2>&1
pdftoppm -f 1 -l 1 -r 80 -x 0 -y 0 -W 880 -H 600 -png -singlefile "$work/audit.pdf" "$shots/audit-xlsx-summary"
pages_side_by_side "$work/audit.pdf" 1 10 "$shots/audit-xlsx-print.png"
echo "wrote $shots"
