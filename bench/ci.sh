#!/bin/sh
# CI-size benchmark: 2000 records, 30 queries per kind, in a temporary work
# directory.  Fails (non-zero) only when the daemon gave a wrong answer or
# records failed to load, never on timings.  Extra arguments go to bench.py
# (e.g. --indexd build/indexd/indexd --inproc build/bench/bench-inproc).
# On failure the work directory (report.json, indexd.log) is kept.
set -u
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/bench-ci.XXXXXX") || exit 2
python3 "$here/bench.py" --records 2000 --queries 30 --workdir "$work" "$@"
rc=$?
if [ "$rc" -eq 0 ]; then
    rm -rf "$work"
else
    echo "ci.sh: bench.py exited with $rc; work directory kept: $work" >&2
fi
exit "$rc"
