#!/usr/bin/env python3
"""Run one libFuzzer harness for a fixed time as a test.

usage: run.py FUZZER CORPUS SECONDS [libFuzzer flags...]

The seed corpus is copied to a scratch folder, so the run never writes
into the source tree; what the fuzzer finds goes to artefacts/<name>/ in
the build folder, and its bytes are printed (hex) so a CI log alone is
enough to reproduce it.  Exit status: libFuzzer's (non-zero on any crash,
leak, timeout, out-of-memory or sanitizer report).
"""
import os
import shutil
import subprocess
import sys
import tempfile


def main():
    fuzzer, corpus, seconds = sys.argv[1], sys.argv[2], sys.argv[3]
    extra = sys.argv[4:]
    name = os.path.basename(fuzzer)
    artefacts = os.path.join(os.path.dirname(os.path.abspath(fuzzer)), "artefacts", name)
    os.makedirs(artefacts, exist_ok=True)
    env = dict(os.environ)
    # Every report is fatal: UBSan otherwise prints and goes on.
    env["ASAN_OPTIONS"] = "detect_leaks=1:abort_on_error=1:symbolize=1"
    env["UBSAN_OPTIONS"] = "halt_on_error=1:abort_on_error=1:print_stacktrace=1"
    scratch = tempfile.mkdtemp(prefix=name + "-")
    try:
        work = os.path.join(scratch, "corpus")
        shutil.copytree(corpus, work)
        before = set(os.listdir(artefacts))
        # libFuzzer's own failure status, 77, would read as "skipped" to meson
        cmd = [fuzzer, "-max_total_time=" + seconds, "-timeout=10", "-rss_limit_mb=2048",
               "-error_exitcode=1", "-timeout_exitcode=1", "-print_final_stats=1",
               "-artifact_prefix=" + artefacts + "/"] + extra + [work]
        print(" ".join(cmd), flush=True)
        rc = subprocess.call(cmd, env=env, cwd=scratch)
        for f in sorted(set(os.listdir(artefacts)) - before):
            with open(os.path.join(artefacts, f), "rb") as fh:
                data = fh.read(4096)
            print(f"artefact {os.path.join(artefacts, f)} ({len(data)} bytes shown): {data.hex()}")
        return 0 if rc == 0 else 1
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
