#!/usr/bin/env bash
# Set up, build with AddressSanitizer and UndefinedBehaviorSanitizer, and run
# every test: unit, integration against the real daemon, and the benchmark at
# CI size (its correctness checks fail the run; its timings never do).  Then
# the fuzz harnesses (fuzz/), built with clang in a second build folder and
# run for a short fixed time each.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
dir=build-test
[ -d "$dir" ] || meson setup "$dir" --buildtype=debug -Db_sanitize=address,undefined -Db_lundef=false
ninja -C "$dir"
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
rc=0
meson test -C "$dir" --print-errorlogs --num-processes 2 || rc=$?
# The concurrency stress test again under ThreadSanitizer: any data race
# (a Xapian object shared between threads, say) fails it.
tsan=build-tsan
[ -d "$tsan" ] || meson setup "$tsan" --buildtype=debug -Db_sanitize=thread
ninja -C "$tsan" indexd/test_stress
TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1 \
  meson test -C "$tsan" --no-rebuild --print-errorlogs idx_stress || rc=$?
# The fuzz harnesses, a short run each (libFuzzer needs clang).
fdir=build-fuzz
[ -d "$fdir" ] || CC=clang CXX=clang++ meson setup "$fdir" -Dfuzz=true --buildtype=debug \
  -Db_sanitize=address,undefined -Db_lundef=false
# Only the harnesses and what they link: the rest is built and tested above.
ninja -C "$fdir" fuzz/fz_csv fuzz/fz_code fuzz/fz_query fuzz/fz_mask
meson test -C "$fdir" --suite fuzz --no-rebuild --print-errorlogs --num-processes 2 || rc=$?
# The release build (-O3 brings warnings of its own) must compile cleanly too.
rel=build-rel
[ -d "$rel" ] || meson setup "$rel" --buildtype=release
relOk=1
ninja -C "$rel" || { relOk=0; rc=1; }
# One closing line that any CI reads: the tests that passed and failed.
python3 - "$relOk" "$dir/meson-logs/testlog.json" "$tsan/meson-logs/testlog.json" "$fdir/meson-logs/testlog.json" <<'PY'
import json, sys
res = [json.loads(l)["result"] for f in sys.argv[2:] for l in open(f, encoding="utf-8") if l.strip()]
res.append("OK" if sys.argv[1] == "1" else "FAIL")  # the release build
print(f"{sum(r == 'OK' for r in res)} passed, {sum(r != 'OK' and r != 'SKIP' for r in res)} failed")
PY
exit $rc
