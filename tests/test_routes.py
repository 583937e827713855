"""The route table and its documentation agree: `indexd routes` prints the
daemon's table, proto/README.md lists the routes in its "Routes" table;
every route is in both, with the same rights and body limit.  The handler
files hold no paths (routing lives in the table alone)."""
import glob
import os
import re
import subprocess
import unittest

EXE = os.environ.get("INDEXD", "build/indexd/indexd")
ROOT = os.path.join(os.path.dirname(__file__), "..")


def documented():
    text = open(os.path.join(ROOT, "proto", "README.md"), encoding="utf-8").read()
    section = text.split("### Routes", 1)[1].split("\n### ", 1)[0]
    rows = set()
    for line in section.splitlines():
        m = re.match(r"\|\s*`(\w+)`( \(and HEAD\))?\s*\|\s*`([^`]+)`\s*\|\s*([^|]+?)\s*\|\s*([^|]+?)\s*\|", line)
        if m:
            rows.add((m.group(1), m.group(3), m.group(4), m.group(5), bool(m.group(2))))
    return rows


def table():
    out = subprocess.run([EXE, "routes"], capture_output=True, text=True, check=True).stdout
    rows = set()
    for line in out.splitlines():
        parts = [p.strip() for p in line.split("|")]
        method, path = parts[0].split(" ", 1)
        rows.add((method, path, parts[1], parts[2], len(parts) > 3 and parts[3] == "HEAD"))
    return rows


class RoutesTest(unittest.TestCase):
    def test_table_and_readme_agree(self):
        t, d = table(), documented()
        self.assertGreater(len(t), 25)
        self.assertEqual(sorted(t - d), [], "in the route table, not in proto/README.md")
        self.assertEqual(sorted(d - t), [], "in proto/README.md, not in the route table")

    def test_handlers_hold_no_paths(self):
        files = glob.glob(os.path.join(ROOT, "indexd", "idx_h_*.c"))
        self.assertGreater(len(files), 5)
        for f in files:
            src = open(f, encoding="utf-8").read()
            self.assertNotRegex(src, r'"/api/|"/healthz', f)
        # and only the transport knows libmicrohttpd
        for f in glob.glob(os.path.join(ROOT, "indexd", "*.[ch]")):
            if os.path.basename(f) in ("idx_http.c",):
                continue
            self.assertNotIn("microhttpd.h", open(f, encoding="utf-8").read(), f)


if __name__ == "__main__":
    unittest.main()
