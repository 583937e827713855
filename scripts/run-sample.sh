#!/usr/bin/env bash
# Set up, build, and serve the bundled sample catalog with indexd on
# localhost.  Ctrl-C stops the daemon (it commits before it exits).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
[ -d build ] || meson setup build --buildtype=debugoptimized
ninja -C build
port="${PORT:-8080}"
data="${DATA_DIR:-var/sample-index}"
rm -rf "$data"
mkdir -p "$(dirname "$data")"
# Sample users, one per role (passwords for this local sample only), and an
# API token for the imports below.
users=(admin:admin:admin-sample li:archivist:li-sample ping:evaluator:ping-sample vendor:vendor:vendor-sample)
for u in "${users[@]}"; do
  IFS=: read -r name role pass <<<"$u"
  echo "$pass" | build/indexd/indexd users add "$name" --role "$role" --data-dir "$data" 2>/dev/null
done
export INDEXD_TOKEN="$(build/indexd/indexd users token admin --label sample --purpose 样例数据导入 --data-dir "$data" 2>/dev/null)"
build/indexd/indexd --data-dir "$data" --port "$port" --listen 127.0.0.1 &
pid=$!
trap 'kill -TERM $pid 2>/dev/null; wait $pid' INT TERM EXIT
for _ in $(seq 1 100); do
  curl -fs "http://127.0.0.1:$port/healthz" >/dev/null && break
  sleep 0.1
done
export INDEXD_URL="http://127.0.0.1:$port"
build/query/query import samples/catalog.csv || [ $? -eq 3 ]
python3 - "$INDEXD_URL" samples/pages.ndjson <<'PY'
import json, os, sys, urllib.parse, urllib.request
base, path = sys.argv[1], sys.argv[2]
n = 0
for line in open(path, encoding="utf-8"):
    p = json.loads(line)
    url = f"{base}/api/v1/records/{urllib.parse.quote(p['code'], safe='')}/pages/{p['n']}"
    req = urllib.request.Request(url, data=json.dumps({"text": p["text"]}).encode(), method="PUT",
                                 headers={"Content-Type": "application/json",
                                          "Authorization": "Bearer " + os.environ["INDEXD_TOKEN"]})
    urllib.request.urlopen(req).read()
    n += 1
print(f"{n} page texts stored")
PY
# A small scanned delivery (rendered Chinese pages: JPEG folder, G4 TIFF,
# image PDF, text PDF, text, OFD), read by the OCR pipeline into the index.
rm -rf var/sample-delivery
/usr/bin/python3 bench/ocr_fixtures.py --out var/sample-delivery/scans --items 4 --pages 2 --lines 12
build/ocr/ingest var/sample-delivery/scans --state var/sample-delivery/state || [ $? -eq 3 ]
echo
echo "indexd serves the sample catalog at $INDEXD_URL/"
echo "  web client:  $INDEXD_URL/   log in as admin / admin-sample (管理员), li / li-sample (档案员),"
echo "               ping / ping-sample (评估员) or vendor / vendor-sample (数字化厂商)"
echo "  try:         INDEXD_URL=$INDEXD_URL INDEXD_TOKEN=$INDEXD_TOKEN build/query/query search '\"精准扶贫\"'"
echo "               INDEXD_URL=$INDEXD_URL INDEXD_TOKEN=$INDEXD_TOKEN build/query/query get 'Z031-WS·2017-Y-BGS-0001'"
echo "Ctrl-C stops it."
wait $pid
