#!/usr/bin/env python3
"""Generate a synthetic poverty-alleviation archive as NDJSON.

Each line is one record in the format of POST /api/v1/records:

    {"code": "Z031-WS·2017-Y-BGS-0001", "title": "...", "author": "...",
     "doc_no": "...", "date": "20170305", "pages": 3, "carrier": "纸质",
     "location": "1号库-03列-2节-4层-015盒",
     "page_texts": [{"n": 1, "text": "..."}, ...]}

The text is real Chinese: sentences sampled from the Chinese manual pages
(Debian package manpages-zh) and the Chinese fortunes (fortunes-zh).  Each
page holds 800-1500 characters and is wrapped every 30-40 characters like a
scanned page, so that line breaks fall between two Chinese characters.

The output depends only on --records, --seed and the installed text (whose
digest is recorded in the .meta.json written next to the output).

Usage: gen_corpus.py --records 1000000 --seed 1 --out corpus.ndjson
"""

import argparse
import glob
import gzip
import hashlib
import json
import os
import random
import re
import sys
import time

GEN_VERSION = 3

# Character classes as the daemon's tokenizer defines them (indexd/idx_text.c).
HAN_CLASS = '\u3007\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002fa1f'
SPACE_CLASS = ' \t\n\r\f\v\u3000\u00a0\u2000-\u200b\ufeff'

MAN_GLOBS = ['/usr/share/man/zh_CN/**/*.gz']
FORTUNE_GLOBS = ['/usr/share/games/fortunes/zh/*.u8', '/usr/share/games/fortunes/*.u8']

FONDS = ['Z%03d' % i for i in range(1, 51)]
CATEGORIES = ['WS', 'KJ', 'KU', 'ZP']
YEARS = list(range(2014, 2021))
RETENTIONS = ['Y', 'D30', 'D10']
# 机构（问题）代码 and the department that writes under it.
ORGS = [('BGS', '办公室', '办'), ('ZHK', '综合股', '综'), ('KFK', '开发股', '开'),
        ('JCK', '监测股', '监'), ('CWK', '财务股', '财'), ('XMK', '项目股', '项'),
        ('SHK', '社会扶贫股', '社'), ('XCK', '宣传股', '宣')]
# One county per 全宗 (the fonds is the county's poverty-alleviation office).
COUNTIES = ['清河', '平安', '永和', '长乐', '安远', '宁化', '石城', '兴国', '会昌', '寻乌',
            '于都', '瑞金', '上犹', '崇义', '大余', '信丰', '龙南', '定南', '全南', '赣县',
            '南康', '遂川', '万安', '泰和', '永丰', '峡江', '新干', '吉水', '安福', '永新',
            '井冈', '莲花', '芦溪', '上栗', '宜丰', '铜鼓', '修水', '武宁', '德安', '都昌',
            '湖口', '彭泽', '鄱阳', '余干', '万年', '婺源', '德兴', '弋阳', '横峰', '铅山']
CARRIERS = ['纸质'] * 9 + ['电子']
CLASSIFICATIONS = ['公开', '内部']
TITLE_FORMS = [('关于', '的通知'), ('关于', '的报告'), ('关于', '的请示'), ('关于', '的批复'),
               ('', '工作方案'), ('', '情况汇报')]
# Month-day of each day of a common and of a leap year.
_MONTH_DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
MD_COMMON = ['%02d%02d' % (m + 1, d + 1) for m in range(12) for d in range(_MONTH_DAYS[m])]
MD_LEAP = MD_COMMON[:59] + ['0229'] + MD_COMMON[59:]

_RE_ANSI = re.compile(r'\x1b\[[0-9;]*[A-Za-z]')
_RE_TROFF = re.compile(r'\\(?:f(?:\[[^\]]*\]|\(..|.)|m\[[^\]]*\]|s[-+]?\d+|[*n]\(..|[*n]\[[^\]]*\]'
                       r'|[*n].|\(..|\[[^\]]*\]|[udcprtaz]|[&/,:%!^|~])')
_RE_CTRL = re.compile(r'[\x00-\x08\x0b-\x1f\x7f\ufffd]')
_RE_SPLIT = re.compile(r'([。！？；]|\n)')
_RE_HAN = re.compile('[' + HAN_CLASS + ']')
_RE_NONSPACE = re.compile('[^' + SPACE_CLASS + ']')
_LATIN = frozenset('abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_')
_RE_END_PUNCT = re.compile(r'[。！？；，、：:;,.!?）)」』》”"\'\]]$')


def _clean_troff(text):
    out = []
    for line in text.split('\n'):
        if line.startswith('.') or line.startswith("'"):
            continue
        line = line.replace('\\-', '-').replace('\\e', '\\').replace('\\ ', ' ')
        line = _RE_TROFF.sub('', line)
        line = line.replace('\\', '')
        out.append(line)
    return '\n'.join(out)


def _source_files():
    man = set()
    for g in MAN_GLOBS:
        for f in glob.glob(g, recursive=True):
            man.add(os.path.realpath(f))
    fortunes = set()
    for g in FORTUNE_GLOBS:
        for f in glob.glob(g):
            fortunes.add(os.path.realpath(f))
    return sorted(man), sorted(fortunes)


def _sentences(text, out):
    parts = _RE_SPLIT.split(text)
    # parts: text, delimiter, text, delimiter, ...
    for i in range(0, len(parts), 2):
        s = parts[i].strip(' \t\r\u3000\xa0\u2002\u2003')
        if not s:
            continue
        delim = parts[i + 1] if i + 1 < len(parts) else '\n'
        nonspace = len(_RE_NONSPACE.findall(s))
        nhan = len(_RE_HAN.findall(s))
        if nhan < 4 or nhan < 0.6 * nonspace or len(s) > 300:
            continue
        if delim != '\n':
            s += delim
        elif not _RE_END_PUNCT.search(s):
            s += '。'
        out.append(s)


def build_pool():
    """Sentence pool (deduplicated, sorted: independent of file order) and a
    digest of it."""
    man, fortunes = _source_files()
    if not man and not fortunes:
        sys.exit('gen_corpus: no Chinese text found (install manpages-zh and fortunes-zh)')
    sents = []
    for f in man:
        try:
            with gzip.open(f, 'rb') as fh:
                raw = fh.read()
        except OSError:
            continue
        try:
            text = raw.decode('utf-8')
        except UnicodeDecodeError:
            text = raw.decode('gb18030', errors='replace')
        text = _RE_CTRL.sub('', _clean_troff(text).replace('\t', ' '))
        _sentences(text, sents)
    for f in fortunes:
        with open(f, 'rb') as fh:
            text = fh.read().decode('utf-8', errors='replace')
        text = _RE_ANSI.sub('', text)
        for entry in re.split(r'\n%\n', text):
            entry = _RE_CTRL.sub('', entry.replace('\t', ' '))
            _sentences(entry, sents)
    pool = sorted(set(sents))
    digest = hashlib.sha256('\n'.join(pool).encode('utf-8')).hexdigest()[:16]
    return pool, digest


def title_pool(pool):
    out = []
    for s in pool:
        t = s.rstrip('。！？；，、：:;,.!? ').strip()
        if 10 <= len(t) <= 30 and '\n' not in t:
            out.append(t)
    return out


def meta_han_runs():
    """Every run of Chinese characters that can appear in a field other than
    title and page text (author, doc_no, location, carrier, classification).
    bench.py keeps its query phrases out of these so that the truth computed
    over title + page texts is the truth whatever fields the daemon searches."""
    runs = set()
    for c in COUNTIES:
        for _, dept, abbr in ORGS:
            runs.add(c + '县扶贫开发领导小组' + dept)
            runs.add(c[0] + '扶' + abbr + '发')
    runs.update(['号库', '列', '节', '层', '盒', '号'])
    runs.update(CARRIERS)
    runs.update(CLASSIFICATIONS)
    return sorted(runs)


class Generator:
    def __init__(self, n, seed, pool, titles):
        self.n = n
        self.rng = random.Random(seed)
        self.pool = pool
        self.titles = titles
        self.avg = sum(map(len, pool)) / len(pool)
        # A permutation i -> (a*i + b) mod M of all possible codes, decoded in
        # mixed radix: unique codes in a random-looking order.
        self.radix = [len(FONDS), len(CATEGORIES), len(YEARS), len(RETENTIONS), len(ORGS), 9999]
        m = 1
        for r in self.radix:
            m *= r
        if n > m:
            sys.exit('gen_corpus: at most %d records' % m)
        self.m = m
        a = self.rng.randrange(m // 3, m)
        while _gcd(a, m) != 1:
            a += 1
        self.a = a
        self.b = self.rng.randrange(m)

    def _code(self, i):
        j = (self.a * i + self.b) % self.m
        parts = []
        for r in reversed(self.radix):
            parts.append(j % r)
            j //= r
        item, org, ret, year, cat, fonds = parts
        return FONDS[fonds], CATEGORIES[cat], YEARS[year], RETENTIONS[ret], org, item + 1

    def _page(self, rng):
        target = rng.randint(800, 1500)
        k = int(target / self.avg) + 8
        text = ''.join(rng.choices(self.pool, k=k))
        while len(text) < target:
            text += ''.join(rng.choices(self.pool, k=8))
        text = text[:target]
        # Wrap like a scanned page: about a fixed line width, mostly '\n',
        # moving a cut that would split a Latin word or number to its end.
        w = rng.randint(30, 40)
        sep = rng.choice(('\n', '\n', '\n', '\n', '\n', '\r\n', ' \n', '\n\u3000\u3000'))
        lines = []
        i, n = 0, len(text)
        while i < n:
            j = i + w
            while j < n and text[j - 1] in _LATIN and text[j] in _LATIN:
                j += 1
            lines.append(text[i:j])
            i = j
        return sep.join(lines)

    def record(self, i):
        rng = self.rng
        fonds, cat, year, ret, org, item = self._code(i)
        ocode, dept, abbr = ORGS[org]
        county = COUNTIES[int(fonds[1:]) - 1]
        code = '%s-%s\u00b7%d-%s-%s-%04d' % (fonds, cat, year, ret, ocode, item)
        title = rng.choice(self.titles)
        if rng.random() < 0.3:
            pre, post = rng.choice(TITLE_FORMS)
            if len(pre) + len(title) + len(post) <= 30:
                title = pre + title + post
        leap = year % 4 == 0
        md = rng.choice(MD_LEAP if leap else MD_COMMON)
        if rng.random() < 0.01:
            md = md[:2] + '00'
        npages = rng.choice((1, 1, 2, 2, 2, 3))
        rec = {
            'code': code,
            'title': title,
            'author': county + '县扶贫开发领导小组' + dept,
            'doc_no': '%s扶%s发〔%d〕%d号' % (county[0], abbr, year, rng.randint(1, 200)),
            'date': '%d%s' % (year, md),
            'pages': npages + rng.randrange(3),
            'carrier': rng.choice(CARRIERS),
            'location': '%d号库-%02d列-%d节-%d层-%03d盒' % (
                rng.randint(1, 3), rng.randint(1, 20), rng.randint(1, 6),
                rng.randint(1, 5), rng.randint(1, 400)),
        }
        if rng.random() < 0.03:
            rec['classification'] = rng.choice(CLASSIFICATIONS)
        rec['page_texts'] = [{'n': p + 1, 'text': self._page(rng)} for p in range(npages)]
        return rec


def _gcd(a, b):
    while b:
        a, b = b, a % b
    return a


def generate(n, seed, out_path, progress=True):
    t0 = time.time()
    pool, digest = build_pool()
    titles = title_pool(pool)
    gen = Generator(n, seed, pool, titles)
    dumps = json.JSONEncoder(ensure_ascii=False, separators=(',', ':')).encode
    tmp = out_path + '.tmp' if out_path != '-' else None
    fh = open(tmp, 'w', encoding='utf-8', buffering=1 << 20) if tmp else sys.stdout
    nbytes = 0
    try:
        buf = []
        for i in range(n):
            buf.append(dumps(gen.record(i)))
            if len(buf) == 1000:
                chunk = '\n'.join(buf) + '\n'
                fh.write(chunk)
                nbytes += len(chunk)
                buf = []
                if progress and (i + 1) % 100000 == 0:
                    print('gen_corpus: %d records, %.0f s' % (i + 1, time.time() - t0),
                          file=sys.stderr, flush=True)
        if buf:
            fh.write('\n'.join(buf) + '\n')
    finally:
        if tmp:
            fh.close()
    meta = {'records': n, 'seed': seed, 'version': GEN_VERSION, 'pool_digest': digest,
            'pool_sentences': len(pool), 'titles': len(titles),
            'seconds': round(time.time() - t0, 1)}
    if tmp:
        os.replace(tmp, out_path)
        with open(out_path + '.meta.json', 'w', encoding='utf-8') as fh:
            json.dump(meta, fh, ensure_ascii=False, indent=1)
    return meta


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--records', type=int, default=20000)
    ap.add_argument('--seed', type=int, default=1)
    ap.add_argument('--out', default='-', help="output file ('-': standard output)")
    ap.add_argument('--stats', action='store_true', help='print the sentence pool statistics and exit')
    args = ap.parse_args()
    if args.stats:
        pool, digest = build_pool()
        lens = sorted(map(len, pool))
        print('sentences %d, titles %d, digest %s, length median %d, max %d' % (
            len(pool), len(title_pool(pool)), digest, lens[len(lens) // 2], lens[-1]))
        return
    meta = generate(args.records, args.seed, args.out)
    print('gen_corpus: %d records in %.1f s' % (meta['records'], meta['seconds']), file=sys.stderr)


if __name__ == '__main__':
    main()
