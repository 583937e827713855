#!/usr/bin/python3
"""OCR benchmark: ingest against plain `tesseract`, on the same pages, in the
same run.

Builds a delivery of degraded scans with known text (ocr_fixtures.py: five
CJK fonts, 200 and 300 dpi, skew within ±1.5°, blur and speckle, JPEG /
Group 4 TIFF / image-only PDF), ingests it into a fresh indexd with all
workers, and runs `tesseract <page> out -l LANG` one process per page on
the same pages.  Prints, for both: the character error rate (whitespace
ignored, Chinese and ASCII punctuation alike) overall and per font and dpi, the share of random 4-8 character
phrases that a search finds in the right record (for tesseract: the phrase
in its text of that page, line breaks as it writes them, as a plain
indexer would see it), and pages per minute with their ratio.

    /usr/bin/python3 bench/ocr_bench.py [--items 20] [--lines 15] [--workdir DIR]
"""
import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(ROOT, 'tests'))
from daemon import Daemon, code_path  # noqa: E402


def squash(s):
    return ''.join(s.split())


def han(s):
    return ''.join(c for c in s if '\u4e00' <= c <= '\u9fff')


def edit_distance(a, b):
    if len(a) < len(b):
        a, b = b, a
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        prev = cur
    return prev[-1]


# Chinese and ASCII forms of the same punctuation are one character here:
# the source sentences mix them, and either is right in a search.
FOLD = str.maketrans('，：；？！（）', ',:;?!()')


def cer(truth, got):
    t, g = squash(truth).translate(FOLD), squash(got).translate(FOLD)
    return edit_distance(t, g), len(t)


def phrases(rng, text, n):
    """n phrases of 4-8 Chinese characters, half of them across a line break."""
    lines = text.split('\n')
    out = []
    while len(out) < n:
        ln = rng.randint(4, 8)
        k = rng.randrange(len(lines) - 1) if len(lines) > 1 else 0
        if len(lines) > 1 and len(out) % 2 == 0:
            cut = rng.randint(1, ln - 1)
            p, cross = lines[k][-cut:] + lines[k + 1][:ln - cut], True
        else:
            s = rng.randrange(max(1, len(lines[k]) - ln))
            p, cross = lines[k][s:s + ln], False
        if len(p) == ln and han(p) == p:
            out.append((p, cross))
    return out


def table(title, rows):
    print(f'\n{title}')
    w = max(len(r[0]) for r in rows)
    for r in rows:
        print(f'  {r[0]:<{w}}  ' + '  '.join(f'{x:>12}' for x in r[1:]))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--items', type=int, default=20)
    ap.add_argument('--pages', type=int, default=2)
    ap.add_argument('--lines', type=int, default=15)
    ap.add_argument('--phrases', type=int, default=10, help='per page')
    ap.add_argument('--seed', type=int, default=1)
    ap.add_argument('--lang', default='chi_sim', help="ingest's languages")
    ap.add_argument('--baseline-lang', default='chi_sim+eng', help="plain tesseract's languages")
    ap.add_argument('--workers', type=int, default=os.cpu_count())
    ap.add_argument('--workdir')
    ap.add_argument('--indexd', default=os.path.join(ROOT, 'build', 'indexd', 'indexd'))
    ap.add_argument('--ingest', default=os.path.join(ROOT, 'build', 'ocr', 'ingest'))
    a = ap.parse_args()
    work = a.workdir or tempfile.mkdtemp(prefix='ocr-bench-')
    os.makedirs(work, exist_ok=True)
    folder, pages_dir = os.path.join(work, 'delivery'), os.path.join(work, 'pages')
    shutil.rmtree(folder, ignore_errors=True)
    shutil.rmtree(pages_dir, ignore_errors=True)
    t = time.time()
    subprocess.run([sys.executable, os.path.join(HERE, 'ocr_fixtures.py'), '--out', folder, '--items', str(a.items),
                    '--pages', str(a.pages), '--lines', str(a.lines), '--seed', str(a.seed),
                    '--page-images', pages_dir], check=True)
    with open(folder + '.truth.json', encoding='utf-8') as f:
        truth = json.load(f)['items']
    scanned = {c: i for c, i in truth.items() if i['ocr']}
    npages = sum(len(i['pages']) for i in scanned.values())
    print(f'fixtures: {len(scanned)} scanned items, {npages} pages, {a.lines} lines each, in {time.time() - t:.0f} s')

    # ingest, all workers
    d = Daemon(a.indexd).start()
    try:
        env = dict(os.environ)
        t = time.time()
        r = subprocess.run([a.ingest, '--server', d.base, '--quiet', '--workers', str(a.workers), '--lang', a.lang,
                            folder], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
        t_ingest = time.time() - t
        if r.returncode not in (0, 3):
            sys.exit(f'ingest failed ({r.returncode}): {r.stderr}')
        got = {}
        for c, item in scanned.items():
            for n in range(1, len(item['pages']) + 1):
                st, page, _ = d.request('GET', f'{code_path(c)}/pages/{n}')
                got[(c, n)] = page.get('text', '') if st == 200 else ''
        rng = random.Random(a.seed)
        # found, tried, cross found, cross tried
        found = {'ingest': [0, 0, 0, 0], 'ingest-unquoted': [0, 0, 0, 0], 'tesseract': [0, 0, 0, 0]}
        plist = []
        for c, item in scanned.items():
            for n, text in enumerate(item['pages'], 1):
                for p, cross in phrases(rng, text, a.phrases):
                    plist.append((c, n, p, cross))
                    for kind, q in (('ingest', f'"{p}"'), ('ingest-unquoted', p)):
                        st, body, _ = d.search(q=q, limit=100)
                        ok = any(h['code'] == c for h in body.get('hits', []))
                        f = found[kind]
                        f[0] += ok
                        f[1] += 1
                        f[2] += ok and cross
                        f[3] += cross
    finally:
        d.cleanup()

    # plain tesseract, one process per page, the same pages
    base = {}
    t = time.time()
    env = {k: v for k, v in os.environ.items() if k != 'OMP_THREAD_LIMIT'}  # as a user runs it
    for c, item in scanned.items():
        for n in range(1, len(item['pages']) + 1):
            png = os.path.join(pages_dir, f'{c}-{n:04d}.png')
            if not os.path.exists(png):
                png = png[:-4] + '.jpg'
            out = os.path.join(work, 'tess-out')
            subprocess.run(['tesseract', png, out, '-l', a.baseline_lang], stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL, env=env, check=True)
            with open(out + '.txt', encoding='utf-8') as fh:
                base[(c, n)] = fh.read()
    t_tess = time.time() - t
    for c, n, p, cross in plist:
        ok = p in base[(c, n)].replace(' ', '')  # a plain indexer: spaces gone, line breaks kept
        f = found['tesseract']
        f[0] += ok
        f[1] += 1
        f[2] += ok and cross
        f[3] += cross

    # character error rates
    groups = {}
    for c, item in scanned.items():
        for n, text in enumerate(item['pages'], 1):
            for eng, src in (('ingest', got), ('tesseract', base)):
                e, m = cer(text, src[(c, n)])
                for key in ('all', f"font {item['font']}", f"dpi {item['dpi']}",
                            f"format {item['format']}"):
                    g = groups.setdefault(key, {}).setdefault(eng, [0, 0])
                    g[0] += e
                    g[1] += m
    rows = [('', 'ingest', 'tesseract')]
    for key in sorted(groups, key=lambda k: (k != 'all', k)):
        g = groups[key]
        rows.append((key, f"{100 * g['ingest'][0] / g['ingest'][1]:.2f}%",
                     f"{100 * g['tesseract'][0] / g['tesseract'][1]:.2f}%"))
    table(f'character error rate (whitespace ignored; ingest {a.lang}, tesseract {a.baseline_lang})', rows)
    fi, fu, ft = found['ingest'], found['ingest-unquoted'], found['tesseract']
    table('phrases of 4-8 characters found in the right record', [
        ('', '"quoted"', 'unquoted', 'tesseract'),
        ('all', f'{100 * fi[0] / fi[1]:.1f}%', f'{100 * fu[0] / fu[1]:.1f}%', f'{100 * ft[0] / ft[1]:.1f}%'),
        ('across a line break', f'{100 * fi[2] / max(1, fi[3]):.1f}%', f'{100 * fu[2] / max(1, fu[3]):.1f}%',
         f'{100 * ft[2] / max(1, ft[3]):.1f}%'),
        ('phrases', str(fi[1]), str(fu[1]), str(ft[1])),
    ])
    print('  (quoted: exact phrase; unquoted: exact matches, then near matches; tesseract: the phrase in\n'
          '   its text of the page, spaces dropped, line breaks kept, as a plain indexer sees it)')
    ppm_i, ppm_t = npages / (t_ingest / 60), npages / (t_tess / 60)
    table('throughput (pages per minute, wall clock)', [
        ('', 'ingest', 'tesseract'),
        ('workers', str(a.workers), '1 process per page'),
        ('pages/min', f'{ppm_i:.1f}', f'{ppm_t:.1f}'),
        ('ratio', f'{ppm_i / ppm_t:.2f}x', '1.00x'),
    ])
    res = {'pages': npages, 'groups': groups, 'phrases': found, 'ppm': {'ingest': ppm_i, 'tesseract': ppm_t},
           'lang': {'ingest': a.lang, 'tesseract': a.baseline_lang}, 'workers': a.workers}
    with open(os.path.join(work, 'ocr-report.json'), 'w', encoding='utf-8') as f:
        json.dump(res, f, ensure_ascii=False, indent=1)
    print(f'\nreport: {work}/ocr-report.json')


if __name__ == '__main__':
    main()
