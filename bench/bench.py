#!/usr/bin/env python3
"""Benchmark and correctness check of the archive search daemon.

Generates (or reuses) a synthetic archive, loads it into the daemon over
HTTP (on local shards, or on shards served by xapian-tcpsrv, or both one
after the other), checks every answer of a fixed query mix against the
truth computed by substring search over the corpus, measures latencies over
HTTP and in process, and compares with SQLite FTS5 (trigram) and Groonga
(TokenBigram, over HTTP) on the same corpus.

    python3 bench/bench.py --records 20000 --workdir /tmp/b

Exit status: 0 if every answer of the daemon was right, 1 if any was wrong
(or records failed to load), 2 on a setup error.  Timings never fail it.
See bench/README.md.
"""

import argparse
import array
import collections
import http.client
import json
import math
import operator
import os
import pickle
import queue
import random
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)
import gen_corpus  # noqa: E402

BENCH_VERSION = 2

HAN = gen_corpus.HAN_CLASS
SPACE = gen_corpus.SPACE_CLASS
RE_WS_HAN = re.compile('(?<=[' + HAN + '])[' + SPACE + ']+(?=[' + HAN + '])')
RE_RUN = re.compile('[' + HAN + ']+')
SEP = '\x1f'  # between title and pages in the truth text: no phrase crosses it

PHRASE_KINDS = ['phrase2', 'phrase3', 'phrase4', 'phrase6', 'phrase8']
KINDS = PHRASE_KINDS + ['and2', 'run', 'title', 'year', 'yrange', 'code']
# Kinds whose answers are exact by contract: any difference from the truth
# is an error that makes the run fail.
EXACT_KINDS = set(PHRASE_KINDS + ['and2', 'title', 'year', 'yrange'])
KIND_DOC = {
    'phrase2': 'quoted phrase of 2 characters',
    'phrase3': 'quoted phrase of 3 characters',
    'phrase4': 'quoted phrase of 4 characters',
    'phrase6': 'quoted phrase of 6 characters',
    'phrase8': 'quoted phrase of 8 characters',
    'and2': 'two quoted phrases (2-4 characters) ANDed',
    'run': 'unquoted run of 4-8 characters (exact first, then near)',
    'title': '题名:"phrase" (2-6 characters)',
    'year': 'quoted phrase (3-6) with year=YYYY',
    'yrange': '年度:A..B "phrase" or year_from/year_to with a phrase (3-6)',
    'code': 'GET /api/v1/records/{档号}',
}


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def norm(text):
    """The truth's form of a text: white space between two Chinese
    characters removed (a line wrap does not split a word), nothing else."""
    return RE_WS_HAN.sub('', text)


def truth_text(rec):
    """Title and page texts of a record, normalized, one SEP between them."""
    parts = [norm(rec.get('title', ''))]
    for p in rec.get('page_texts') or ():
        parts.append(norm(p.get('text', '')))
    return SEP.join(parts)


def pct(values, p):
    """Nearest-rank percentile (the C helper computes it the same way)."""
    if not values:
        return None
    v = sorted(values)
    k = max(0, min(len(v) - 1, int(math.ceil(p / 100.0 * len(v))) - 1))
    return v[k]


def rnd(x, nd=3):
    return None if x is None else round(x, nd)


# ---------------------------------------------------------------- corpus --

def ensure_corpus(workdir, n, seed):
    path = os.path.join(workdir, 'corpus-%d-s%d.ndjson' % (n, seed))
    meta_path = path + '.meta.json'
    _, digest = gen_corpus.build_pool()
    if os.path.exists(path) and os.path.exists(meta_path):
        with open(meta_path, encoding='utf-8') as fh:
            meta = json.load(fh)
        if (meta.get('records') == n and meta.get('seed') == seed and
                meta.get('version') == gen_corpus.GEN_VERSION and meta.get('pool_digest') == digest):
            log('corpus: reusing %s' % path)
            return path, meta
    log('corpus: generating %d records ...' % n)
    meta = gen_corpus.generate(n, seed, path)
    log('corpus: %d records in %.1f s' % (n, meta['seconds']))
    return path, meta


def read_selected(path, wanted):
    """Records at the ordinals in `wanted` (a set), parsed."""
    out = {}
    with open(path, encoding='utf-8') as fh:
        for i, line in enumerate(fh):
            if i in wanted:
                out[i] = json.loads(line)
                if len(out) == len(wanted):
                    break
    return out


# ------------------------------------------------------------- query mix --

class Sample:
    """A record the queries are drawn from, with its runs of Chinese
    characters (normalized text, so a run goes on across a line wrap)."""

    def __init__(self, ordinal, rec):
        self.ordinal = ordinal
        self.code = rec['code']
        self.year = int(rec['code'].split('\u00b7')[1][:4])
        self.raw_pages = [p['text'] for p in rec.get('page_texts') or ()]
        self.text_runs = []
        for t in self.raw_pages:
            self.text_runs.extend(RE_RUN.findall(norm(t)))
        self.title_runs = RE_RUN.findall(norm(rec['title']))
        self.rec = rec


def build_queries(corpus, n, nq, seed):
    """The fixed query mix: nq queries of each kind, drawn with a seeded RNG."""
    rng = random.Random(seed * 7919 + 17)
    meta_runs = gen_corpus.meta_han_runs()
    want = set(rng.randrange(n) for _ in range(min(3 * nq * len(KINDS), 4 * n)))
    recs = read_selected(corpus, want)
    samples = [Sample(i, recs[i]) for i in sorted(recs)]
    del recs

    def ok_phrase(p):
        return not any(p in m for m in meta_runs)

    def pick(s, length, source='text'):
        runs = s.text_runs if source == 'text' else s.title_runs
        runs = [r for r in runs if len(r) >= length]
        if not runs:
            return None
        r = rng.choice(runs)
        k = rng.randrange(len(r) - length + 1)
        p = r[k:k + length]
        return p if ok_phrase(p) else None

    def crosses(s, p):
        return not any(p in t for t in s.raw_pages)

    def quoted(p):
        # Now and then the quotes of a Chinese input method.
        return ('\u201c%s\u201d' if rng.random() < 0.1 else '"%s"') % p

    queries = []
    for kind in KINDS:
        made = 0
        tries = 0
        while made < nq:
            tries += 1
            if tries > 200 * nq + 1000:
                log('queries: could only draw %d of %d for %s' % (made, nq, kind))
                break
            s = rng.choice(samples)
            q = {'kind': kind}
            if kind in PHRASE_KINDS:
                length = int(kind[6:])
                p = pick(s, length)
                if not p:
                    continue
                q.update(q=quoted(p), phrases=[['all', p]], cross=crosses(s, p))
            elif kind == 'and2':
                p1 = pick(s, rng.choice((2, 3, 4)))
                p2 = pick(s, rng.choice((2, 3, 4)))
                if not p1 or not p2 or p1 in p2 or p2 in p1:
                    continue
                q.update(q='%s %s' % (quoted(p1), quoted(p2)), phrases=[['all', p1], ['all', p2]],
                         cross=crosses(s, p1) or crosses(s, p2))
            elif kind == 'run':
                p = pick(s, rng.randint(4, 8))
                if not p:
                    continue
                q.update(q=p, phrases=[['all', p]], cross=crosses(s, p))
            elif kind == 'title':
                p = pick(s, rng.randint(2, 6), 'title')
                if not p:
                    continue
                field = '题名：' if rng.random() < 0.2 else '题名:'
                q.update(q=field + quoted(p), phrases=[['title', p]], cross=p not in s.rec['title'])
            elif kind == 'year':
                p = pick(s, rng.randint(3, 6))
                if not p:
                    continue
                q.update(q=quoted(p), phrases=[['all', p]], year=s.year,
                         years=[s.year, s.year], cross=crosses(s, p))
            elif kind == 'yrange':
                p = pick(s, rng.randint(3, 6))
                if not p:
                    continue
                span = rng.randint(1, 3)
                lo = rng.randint(max(2014, s.year - span + 1), s.year)
                hi = min(2020, lo + span - 1)
                if made % 2 == 0:
                    q.update(q='年度:%d..%d %s' % (lo, hi, quoted(p)))
                else:
                    q.update(q=quoted(p), year_from=lo, year_to=hi)
                q.update(phrases=[['all', p]], years=[lo, hi], cross=crosses(s, p))
            elif kind == 'code':
                code = s.code
                # Now and then a look-alike separator, as typed by hand.
                r = rng.random()
                if r < 0.1:
                    code = code.replace('\u00b7', '\u30fb')
                elif r < 0.2:
                    code = code.replace('\u00b7', '.')
                q.update(code=code, canonical=s.code, title=s.rec['title'])
            queries.append(q)
            made += 1
    for i, q in enumerate(queries):
        q['id'] = i
    return queries, samples


def compute_truth(corpus, queries, samples):
    """Scan the corpus once; for every query the sorted ordinals of the
    records that satisfy it.  Returns (truth, codes, years)."""
    t0 = time.time()
    needles = {}
    for q in queries:
        for scope, p in q.get('phrases', ()):
            needles.setdefault((scope, p), len(needles))
    # Key every needle by its rarest character pair (document frequency in
    # the samples): a record is tested for a needle only if it holds the key.
    df = collections.Counter()
    for s in samples[:1500]:
        t = truth_text(s.rec)
        df.update(set(map(operator.add, t, t[1:])))
    bykey = collections.defaultdict(list)
    for (scope, p), nid in needles.items():
        pairs = [p[i:i + 2] for i in range(len(p) - 1)]
        key = min(pairs, key=lambda b: (df.get(b, 0), b))
        # (needle, phrase, where to look): None when holding the key is
        # holding the needle (a 2-character phrase anywhere in the record).
        bykey[key].append((nid, p, None if len(p) == 2 and scope == 'all'
                           else (scope == 'title')))
    keys = set(bykey)
    post = [array.array('I') for _ in needles]
    codes = []
    years = array.array('H')
    nchars = npages = 0
    add = operator.add
    with open(corpus, encoding='utf-8') as fh:
        for i, line in enumerate(fh):
            rec = json.loads(line)
            codes.append(rec['code'])
            years.append(int(rec['code'].split('\u00b7')[1][:4]))
            title = norm(rec['title'])
            t = truth_text(rec)
            for pg in rec.get('page_texts') or ():
                npages += 1
                nchars += len(pg['text'])
            for k in keys.intersection(map(add, t, t[1:])):
                for nid, p, in_title in bykey[k]:
                    if in_title is None or p in (title if in_title else t):
                        post[nid].append(i)
            if (i + 1) % 200000 == 0:
                log('truth: %d records, %.0f s' % (i + 1, time.time() - t0))
    truth = {}
    for q in queries:
        if q['kind'] == 'code':
            continue
        sets = [post[needles[(scope, p)]] for scope, p in q['phrases']]
        res = set(sets[0])
        for other in sets[1:]:
            res.intersection_update(other)
        if 'years' in q:
            lo, hi = q['years']
            res = {o for o in res if lo <= years[o] <= hi}
        truth[q['id']] = sorted(res)
    log('truth: %d queries over %d records in %.1f s' % (len(truth), len(codes), time.time() - t0))
    return truth, codes, years, {'chars': nchars, 'pages': npages}


# ------------------------------------------------------------------ HTTP --

TOKEN = None  # the benchmark's admin API token, made when the daemon starts
TOKEN_DIR = None  # the data directory TOKEN belongs to


class Client:
    """One keep-alive HTTP connection, authenticated with TOKEN (auth=True)."""

    def __init__(self, port, host='127.0.0.1', timeout=300, auth=True):
        self.host, self.port, self.timeout = host, port, timeout
        self.auth = auth
        self.conn = None

    def request(self, method, path, body=None, headers=None):
        for attempt in (0, 1):
            try:
                if self.conn is None:
                    self.conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
                h = dict(headers or {})
                if TOKEN and self.auth:
                    h['Authorization'] = 'Bearer ' + TOKEN
                self.conn.request(method, path, body=body, headers=h)
                r = self.conn.getresponse()
                data = r.read()
                if (r.getheader('Connection') or '').lower() == 'close':
                    self.close()
                return r.status, data
            except (http.client.HTTPException, OSError):
                self.close()
                if attempt:
                    raise

    def get_json(self, path):
        status, data = self.request('GET', path)
        try:
            return status, json.loads(data.decode('utf-8'))
        except ValueError:
            return status, {'_raw': data[:500].decode('utf-8', 'replace')}

    def close(self):
        if self.conn is not None:
            self.conn.close()
            self.conn = None


def search_path(q, extra=None):
    params = {}
    if q.get('q') is not None:
        params['q'] = q['q']
    if 'year' in q:
        params['year'] = str(q['year'])
    if 'year_from' in q:
        params['year_from'] = str(q['year_from'])
        params['year_to'] = str(q['year_to'])
    params.update(extra or {})
    return '/api/v1/search?' + urllib.parse.urlencode(params, quote_via=urllib.parse.quote)


def record_path(code):
    return '/api/v1/records/' + urllib.parse.quote(code, safe='')


class RssSampler(threading.Thread):
    """Samples VmRSS of a process every `period` seconds until stopped."""

    def __init__(self, pid, period=0.1):
        super().__init__(daemon=True)
        self.pid, self.period = pid, period
        self.samples = []
        self.cpu0 = cpu_seconds(pid)
        self.cpu1 = None
        self._stop_ev = threading.Event()

    def run(self):
        while not self._stop_ev.is_set():
            v = read_status(self.pid, 'VmRSS')
            if v is not None:
                self.samples.append(v)
            self._stop_ev.wait(self.period)

    def stop(self):
        self._stop_ev.set()
        self.join()
        self.cpu1 = cpu_seconds(self.pid)
        return {'rss_peak_mb': rnd(max(self.samples) / 1024.0, 1) if self.samples else None,
                'rss_mean_mb': rnd(sum(self.samples) / len(self.samples) / 1024.0, 1)
                if self.samples else None,
                'samples': len(self.samples),
                'cpu_s': rnd(self.cpu1 - self.cpu0, 2)
                if self.cpu0 is not None and self.cpu1 is not None else None}


def read_status(pid, key):
    try:
        with open('/proc/%d/status' % pid) as fh:
            for line in fh:
                if line.startswith(key + ':'):
                    return int(line.split()[1])  # kB
    except OSError:
        return None
    return None


def cpu_seconds(pid):
    try:
        with open('/proc/%d/stat' % pid) as fh:
            f = fh.read().rsplit(')', 1)[1].split()
        return (int(f[11]) + int(f[12])) / os.sysconf('SC_CLK_TCK')
    except (OSError, IndexError, ValueError):
        return None


def dir_size(path):
    """Disk usage in bytes, as du counts it."""
    total = 0
    for base, _, files in os.walk(path):
        for f in files:
            try:
                total += os.lstat(os.path.join(base, f)).st_blocks * 512
            except OSError:
                pass
    return total


def free_port():
    s = socket.socket()
    s.bind(('127.0.0.1', 0))
    port = s.getsockname()[1]
    s.close()
    return port


def daemon_keys(exe):
    """The configuration keys `indexd --help` lists (with '_')."""
    try:
        p = subprocess.run([exe, '--help'], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return set()
    return set(k.replace('-', '_') for k in re.findall(r'^\s*--([a-z][a-z0-9_-]*)', p.stdout.decode(
        'utf-8', 'replace'), re.M))


class Daemon:
    def __init__(self, exe, datadir, port, logpath, shards, threads, remote=None, readers=None):
        """remote: the endpoints ('tcp:HOST:PORT') of the shards' writable
        servers instead of local shards; readers: their read-only servers."""
        self.exe, self.datadir, self.port = exe, datadir, port
        self.logpath = logpath
        self.argv = [exe, '--data-dir', datadir, '--port', str(port), '--listen', '127.0.0.1',
                     '--threads', str(threads)]
        if remote:
            self.argv += ['--remote-shards', ','.join(remote)]
            if readers:
                self.argv += ['--remote-readers', ','.join(readers)]
        else:
            self.argv += ['--shards', str(shards)]
        self.proc = None

    def ensure_token(self):
        """An admin and a token for the benchmark (made on the server, as an
        operator would; the index directory is created if need be)."""
        global TOKEN, TOKEN_DIR
        if TOKEN and TOKEN_DIR == self.datadir:
            return
        users = os.path.join(self.datadir, 'users.json')
        if not os.path.exists(users) or '"bench"' not in open(users, encoding='utf-8').read():
            subprocess.run([self.exe, 'users', 'add', 'bench', '--role', 'admin', '--data-dir', self.datadir],
                           input='bench-password-1\n', text=True, check=True, capture_output=True)
        r = subprocess.run([self.exe, 'users', 'token', 'bench', '--purpose', '性能测试', '--data-dir', self.datadir],
                           text=True, check=True, capture_output=True)
        TOKEN = r.stdout.strip().splitlines()[-1]
        TOKEN_DIR = self.datadir

    def start(self, timeout=60):
        self.ensure_token()
        self.logfh = open(self.logpath, 'ab')
        self.proc = subprocess.Popen(self.argv, stdout=self.logfh, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL)
        c = Client(self.port, timeout=5)
        t0 = time.time()
        while time.time() - t0 < timeout:
            if self.proc.poll() is not None:
                raise SetupError('indexd exited with status %s at start; log:\n%s'
                                 % (self.proc.returncode, self.log_tail()))
            try:
                status, body = c.get_json('/healthz')
                if status == 200:
                    c.close()
                    return body
            except (OSError, http.client.HTTPException):
                pass
            time.sleep(0.1)
        raise SetupError('indexd did not answer /healthz within %d s; log:\n%s'
                         % (timeout, self.log_tail()))

    def stop(self, timeout=300):
        """SIGTERM and wait: the daemon commits and exits."""
        t0 = time.time()
        self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            rc = 'killed after %d s' % timeout
        self.logfh.close()
        return rc, time.time() - t0

    def kill(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def log_tail(self, n=30):
        try:
            with open(self.logpath, 'rb') as fh:
                lines = fh.read().decode('utf-8', 'replace').splitlines()
            return '\n'.join(lines[-n:])
        except OSError:
            return ''


class SetupError(Exception):
    pass


def port_listening(port):
    """Whether something listens on 127.0.0.1:port (read from /proc, so
    that no connection is made: a writable xapian-tcpsrv would open the
    database for it and hold its lock a moment)."""
    want = ':%04X' % port
    for name in ('/proc/net/tcp', '/proc/net/tcp6'):
        try:
            with open(name) as fh:
                next(fh)
                for line in fh:
                    f = line.split()
                    if f[1].endswith(want) and f[3] == '0A':
                        return True
        except (OSError, StopIteration):
            pass
    return False


class RemoteShards:
    """The shards of the remote mode: one `xapian-tcpsrv --writable` per
    shard directory WORKDIR/remote-K (and a read-only server on the same
    directory per shard when the daemon takes read endpoints)."""

    def __init__(self, exe, workdir, n, fresh, readers=False):
        self.exe, self.fresh, self.want_readers = exe, fresh, readers
        self.dirs = [os.path.join(workdir, 'remote-%d' % k) for k in range(n)]
        self.logpath = os.path.join(workdir, 'xapian-tcpsrv.log')
        self.procs = []
        self.writers, self.readers = [], []
        self.logfh = None

    def _spawn(self, argv, port, timeout=30):
        proc = subprocess.Popen(argv, stdout=self.logfh, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, start_new_session=True)
        self.procs.append(proc)
        t0 = time.time()
        while not port_listening(port):
            if proc.poll() is not None:
                raise SetupError('%s exited with status %s at start (log %s)'
                                 % (' '.join(argv), proc.returncode, self.logpath))
            if time.time() - t0 > timeout:
                raise SetupError('%s does not listen after %d s' % (' '.join(argv), timeout))
            time.sleep(0.05)
        return 'tcp:127.0.0.1:%d' % port

    def start(self):
        if self.fresh:
            for d in self.dirs:
                shutil.rmtree(d, ignore_errors=True)
        self.logfh = open(self.logpath, 'ab')
        for d in self.dirs:
            port = free_port()
            self.writers.append(self._spawn([self.exe, '--writable', '--interface', '127.0.0.1',
                                             '--port', str(port), d], port))
        if self.want_readers:
            for d in self.dirs:
                port = free_port()
                self.readers.append(self._spawn([self.exe, '--interface', '127.0.0.1',
                                                 '--port', str(port), d], port))

    def cpu_seconds(self):
        """CPU time of the servers and of the children they forked for
        connections and reaped (after the daemon closed them)."""
        total = 0.0
        for proc in self.procs:
            try:
                with open('/proc/%d/stat' % proc.pid) as fh:
                    f = fh.read().rsplit(')', 1)[1].split()
                total += sum(int(x) for x in f[11:15]) / os.sysconf('SC_CLK_TCK')
            except (OSError, IndexError, ValueError):
                return None
        return total

    def stop(self):
        """SIGTERM to each server's process group (the server and the
        children it forked for connections), SIGKILL after 10 s."""
        for proc in self.procs:
            if proc.poll() is None:
                try:
                    os.killpg(proc.pid, signal.SIGTERM)
                except OSError:
                    pass
        for proc in self.procs:
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                try:
                    os.killpg(proc.pid, signal.SIGKILL)
                except OSError:
                    pass
                proc.wait()
        self.procs = []
        if self.logfh:
            self.logfh.close()
            self.logfh = None

    def inproc_dir(self, workdir):
        """A directory bench-inproc can open as an index: the shard count
        and shard-K links to the remote directories."""
        d = os.path.join(workdir, 'remote-inproc')
        shutil.rmtree(d, ignore_errors=True)
        os.makedirs(d)
        with open(os.path.join(d, 'shards'), 'w') as fh:
            fh.write('%d\n' % len(self.dirs))
        for k, sd in enumerate(self.dirs):
            os.symlink(os.path.relpath(sd, d), os.path.join(d, 'shard-%d' % k))
        return d


# ------------------------------------------------------------------ load --

def load_http(port, corpus, n, batch, nconn, pid, problems):
    """POST the corpus as NDJSON in batches over nconn keep-alive connections."""
    q = queue.Queue(maxsize=2 * nconn)
    stats = {'imported': 0, 'replaced': 0, 'rejected': 0, 'requests': 0, 'errors': 0,
             'split_413': 0}
    lock = threading.Lock()

    def reader():
        buf = []
        first = 0
        with open(corpus, 'rb') as fh:
            for i, line in enumerate(fh):
                buf.append(line)
                if len(buf) == batch:
                    q.put((first, buf))
                    first = i + 1
                    buf = []
        if buf:
            q.put((first, buf))
        for _ in range(nconn):
            q.put(None)

    def post(c, first, lines):
        # commit=0: the daemon commits in large groups, as a bulk load should;
        # the rate below counts until every record is visible.
        status, data = c.request('POST', '/api/v1/records?commit=0', body=b''.join(lines),
                                 headers={'Content-Type': 'application/x-ndjson'})
        with lock:
            stats['requests'] += 1
        if status == 413 and len(lines) > 1:
            with lock:
                stats['split_413'] += 1
            h = len(lines) // 2
            post(c, first, lines[:h])
            post(c, first + h, lines[h:])
            return
        try:
            body = json.loads(data.decode('utf-8'))
        except ValueError:
            body = None
        with lock:
            if status != 200 or not isinstance(body, dict):
                stats['errors'] += 1
                problems.append({'where': 'load', 'records': '%d-%d' % (first, first + len(lines) - 1),
                                 'problem': 'HTTP %d: %s' % (status, data[:300].decode('utf-8', 'replace'))})
                return
            stats['imported'] += body.get('imported', 0)
            stats['replaced'] += body.get('replaced', 0)
            rej = body.get('rejected') or []
            stats['rejected'] += len(rej)
            for r in rej[:3]:
                problems.append({'where': 'load', 'records': '%d-%d' % (first, first + len(lines) - 1),
                                 'problem': 'rejected: %s' % json.dumps(r, ensure_ascii=False)})
            if body.get('imported', 0) + len(rej) != len(lines):
                problems.append({'where': 'load', 'records': '%d-%d' % (first, first + len(lines) - 1),
                                 'problem': 'imported %s + rejected %d != %d lines'
                                 % (body.get('imported'), len(rej), len(lines))})

    def worker():
        c = Client(port)
        while True:
            item = q.get()
            if item is None:
                break
            try:
                post(c, *item)
            except Exception as e:  # noqa: BLE001 - keep loading, report it
                with lock:
                    stats['errors'] += 1
                    problems.append({'where': 'load', 'records': str(item[0]),
                                     'problem': 'exception %r' % (e,)})
        c.close()

    sampler = RssSampler(pid)
    sampler.start()
    t0 = time.time()
    threads = [threading.Thread(target=reader, daemon=True)]
    threads += [threading.Thread(target=worker, daemon=True) for _ in range(nconn)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    dt = time.time() - t0
    # Wait until the daemon sees every record (it may commit lazily).
    c = Client(port)
    t1 = time.time()
    seen = None
    while time.time() - t1 < 300:
        try:
            status, body = c.get_json('/healthz')
            seen = body.get('records') if status == 200 else None
        except (OSError, http.client.HTTPException):
            seen = None
        if seen is not None and seen >= stats['imported']:
            break
        time.sleep(0.2)
    visible = time.time() - t0
    c.close()
    rss = sampler.stop()
    stats.update(seconds=rnd(dt, 2), records_per_s=rnd(n / visible, 1),
                 visible_seconds=rnd(visible, 2), healthz_records=seen, **rss)
    stats['rss_hwm_mb'] = rnd((read_status(pid, 'VmHWM') or 0) / 1024.0, 1)
    return stats


# ----------------------------------------------------------- correctness --

class Checker:
    def __init__(self, truth, codes, small):
        self.truth, self.codes = truth, codes
        self.small = small
        self.by_kind = {k: collections.Counter() for k in KINDS}
        self.details = []
        self.wrong_ids = set()

    def bad(self, q, problem, **kw):
        """Record a problem with the answer to q ('wrong' counts queries)."""
        if q['id'] not in self.wrong_ids:
            self.wrong_ids.add(q['id'])
            self.by_kind[q['kind']]['wrong'] += 1
        self.by_kind[q['kind']]['problems'] += 1
        d = {'kind': q['kind'], 'q': q.get('q') or q.get('code'), 'problem': problem}
        for k in ('year', 'year_from', 'year_to'):
            if k in q:
                d[k] = q[k]
        d.update(kw)
        if len([x for x in self.details if x['kind'] == q['kind']]) < 10:
            self.details.append(d)

    def fetch_all(self, c, q, upto):
        """Hits of q, paging 100 at a time, until upto hits or the end."""
        hits = []
        first = None
        while len(hits) < upto:
            # The first page as a user gets it (facets on, which also makes
            # the daemon count matches further), later pages without facets.
            extra = {'offset': len(hits), 'limit': 100}
            if hits:
                extra['facets'] = 0
            status, body = c.get_json(search_path(q, extra))
            if status != 200:
                return None, 'HTTP %d: %s' % (status, json.dumps(body, ensure_ascii=False)[:300])
            if first is None:
                first = body
            page = body.get('hits') or []
            hits.extend(page)
            if len(page) < 100 or len(hits) >= body.get('total', 0):
                break
        return (first, hits), None

    def check(self, c, q):
        kind = q['kind']
        cnt = self.by_kind[kind]
        cnt['n'] += 1
        if kind == 'code':
            status, body = c.get_json(record_path(q['code']))
            if status != 200:
                self.bad(q, 'HTTP %d: %s' % (status, json.dumps(body, ensure_ascii=False)[:300]))
            elif body.get('code') != q['canonical'] or body.get('title') != q['title']:
                self.bad(q, 'wrong record: code %r title %r' % (body.get('code'), body.get('title')))
            return
        want = self.truth[q['id']]
        ntrue = len(want)
        cnt['truth_total'] += ntrue
        if q.get('cross'):
            cnt['cross_wrap'] += 1
        small = ntrue <= self.small
        # Small answers: every hit (and some more, to see false positives
        # or the near hits of a run); large ones: the first page.
        upto = (ntrue + 100 if kind == 'run' else self.small + 100) if small else 100
        res, err = self.fetch_all(c, q, upto)
        if err:
            self.bad(q, err)
            return
        first, hits = res
        got = [h.get('code') for h in hits]
        if len(set(got)) != len(got):
            self.bad(q, 'duplicate hits', dup=[x for x, k in collections.Counter(got).items() if k > 1][:5])
        total = first.get('total')
        exact_total = first.get('total_exact')
        if kind == 'run':
            flags = [h.get('exact') for h in hits]
            if any(f is None for f in flags):
                self.bad(q, 'hit without an "exact" flag')
                return
            k = flags.index(False) if False in flags else len(flags)
            if any(flags[k:]):
                self.bad(q, 'an exact hit comes after a near one', at=flags.index(True, k))
            exact = set(got[:k])
            cnt['near'] += len(flags) - k
            if small:
                self.compare(q, exact, want, total=None)
            else:
                wanted = set(self.codes[o] for o in want)
                fp = [x for x in got[:k] if x not in wanted]
                if fp:
                    self.bad(q, 'false positives among the exact hits', fp=fp[:5], truth=ntrue)
                    cnt['fp'] += len(fp)
                if k < len(flags):
                    self.bad(q, 'near hits before all %d exact ones' % ntrue, exact_seen=k)
            return
        for h in hits:
            if h.get('exact') is False:
                self.bad(q, 'hit of a quoted phrase marked exact=false', code=h.get('code'))
                break
        if exact_total is True and total != ntrue:
            self.bad(q, 'total %s (total_exact) but truth %d' % (total, ntrue))
        elif exact_total is not True:
            if small:
                self.bad(q, 'total_exact is %r for %d matches (total %s)' % (exact_total, ntrue, total))
            else:
                cnt['estimated'] += 1
                if ntrue:
                    cnt['est_err_pct_sum'] += 100.0 * abs((total or 0) - ntrue) / ntrue
        if small:
            self.compare(q, set(got), want, total)
        else:
            wanted = set(self.codes[o] for o in want)
            fp = [x for x in got if x not in wanted]
            if fp:
                cnt['fp'] += len(fp)
                self.bad(q, 'false positives on the first page', fp=fp[:5], truth=ntrue)

    def compare(self, q, got, want, total):
        cnt = self.by_kind[q['kind']]
        wanted = set(self.codes[o] for o in want)
        fp = sorted(got - wanted)
        fn = sorted(wanted - got)
        cnt['compared'] += 1
        if fp or fn:
            cnt['fp'] += len(fp)
            cnt['fn'] += len(fn)
            self.bad(q, 'hit set differs from the truth', fp=fp[:5], fn=fn[:5], n_fp=len(fp),
                     n_fn=len(fn), truth=len(wanted), total=total)


def check_all(port, queries, truth, codes, small):
    """Check every answer, one query at a time (this also warms the daemon)."""
    chk = Checker(truth, codes, small)
    c = Client(port)
    for q in queries:
        try:
            chk.check(c, q)
        except Exception as e:  # noqa: BLE001 - report it as a wrong answer
            chk.bad(q, 'exception %r' % (e,))
            c.close()
    c.close()
    return chk


# --------------------------------------------------------------- latency --

def time_http(port, queries, clients, rounds, seed, pid):
    rng = random.Random(seed + 4242)
    work = []
    for r in range(rounds):
        order = list(queries)
        rng.shuffle(order)
        work.extend(order)
    idx = [0]
    lock = threading.Lock()
    lat = collections.defaultdict(list)
    errors = collections.Counter()

    def worker():
        c = Client(port)
        mine = []
        while True:
            with lock:
                i = idx[0]
                idx[0] += 1
            if i >= len(work):
                break
            q = work[i]
            path = record_path(q['code']) if q['kind'] == 'code' else search_path(q)
            t0 = time.perf_counter()
            try:
                status, _ = c.request('GET', path)
            except (OSError, http.client.HTTPException):
                status = -1
            dt = (time.perf_counter() - t0) * 1000.0
            mine.append((q['kind'], dt, status))
        c.close()
        with lock:
            for kind, dt, status in mine:
                if status == 200:
                    lat[kind].append(dt)
                else:
                    errors[kind] += 1

    sampler = RssSampler(pid)
    sampler.start()
    t0 = time.time()
    threads = [threading.Thread(target=worker, daemon=True) for _ in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.time() - t0
    rss = sampler.stop()
    out = {}
    for kind in KINDS:
        v = lat.get(kind, [])
        out[kind] = {'p50_ms': rnd(pct(v, 50)), 'p99_ms': rnd(pct(v, 99)), 'n': len(v),
                     'errors': errors.get(kind, 0)}
    summary = {'requests': len(work), 'seconds': rnd(wall, 2), 'qps': rnd(len(work) / wall, 1),
               'clients': clients, 'rounds': rounds}
    summary.update(rss)
    return out, summary


def write_inproc_queries(path, queries):
    with open(path, 'w', encoding='utf-8') as fh:
        for q in queries:
            o = {'kind': q['kind']}
            for k in ('q', 'code', 'year', 'year_from', 'year_to'):
                if k in q:
                    o[k] = q[k]
            fh.write(json.dumps(o, ensure_ascii=False) + '\n')


def run_inproc(exe, datadir, qpath, shards):
    t0 = time.time()
    p = subprocess.run([exe, datadir, qpath, str(shards)], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=3600)
    if p.returncode != 0:
        return None, 'exit %d: %s' % (p.returncode, p.stderr.decode('utf-8', 'replace')[-1000:])
    try:
        res = json.loads(p.stdout.decode('utf-8'))
    except ValueError:
        return None, 'unparsable output: %r' % p.stdout[:300]
    log('in-process: %.1f s' % (time.time() - t0))
    return res, p.stderr.decode('utf-8', 'replace').strip() or None


# ------------------------------------------------------------------ FTS5 --

def prior_load(logpath, port, mode='local'):
    """The load figures an earlier run logged ('load: N records/s, peak RSS
    M MB'; 'load remote: ...' for remote shards)."""
    rate = rss = None
    with open(logpath, encoding='utf-8') as fh:
        for line in fh:
            m = re.search(r'load(?: (remote))?: ([0-9.]+) records/s, peak RSS ([0-9.]+) MB', line)
            if m and (m.group(1) or 'local') == mode:
                rate, rss = float(m.group(2)), float(m.group(3))
    if rate is None:
        raise SetupError('no load figures (%s shards) in %s' % (mode, logpath))
    c = Client(port, timeout=60)
    status, body = c.get_json('/healthz')
    c.close()
    n = body.get('records') if status == 200 else None
    return {'records_per_s': rate, 'rss_peak_mb': rss, 'imported': n, 'rejected': 0, 'errors': 0,
            'healthz_records': n, 'from_log': logpath}


def fts5_load(corpus, n, dbpath, batch):
    for suffix in ('', '-journal', '-wal', '-shm'):
        if os.path.exists(dbpath + suffix):
            os.remove(dbpath + suffix)
    db = sqlite3.connect(dbpath, isolation_level=None, check_same_thread=False)
    db.execute("CREATE VIRTUAL TABLE docs USING fts5(code UNINDEXED, year UNINDEXED, "
               "title, body, tokenize='trigram')")
    db.execute('CREATE TABLE codes(code TEXT PRIMARY KEY, rid INTEGER NOT NULL) WITHOUT ROWID')
    t0 = time.time()
    rows, crows = [], []

    def flush():
        db.execute('BEGIN')
        db.executemany('INSERT INTO docs(rowid, code, year, title, body) VALUES (?,?,?,?,?)', rows)
        db.executemany('INSERT INTO codes(code, rid) VALUES (?,?)', crows)
        db.execute('COMMIT')
        rows.clear()
        crows.clear()

    with open(corpus, encoding='utf-8') as fh:
        for i, line in enumerate(fh):
            rec = json.loads(line)
            year = int(rec['code'].split('\u00b7')[1][:4])
            body = '\n\n'.join(norm(p['text']) for p in rec.get('page_texts') or ())
            rows.append((i + 1, rec['code'], year, norm(rec['title']), body))
            crows.append((rec['code'], i + 1))
            if len(rows) == batch:
                flush()
    if rows:
        flush()
    dt = time.time() - t0
    size = os.path.getsize(dbpath)
    return db, {'seconds': rnd(dt, 2), 'records_per_s': rnd(n / dt, 1), 'db_bytes': size}


SNIPPET = ", snippet(docs, -1, '<mark>', '</mark>', '…', 24)"


def fts5_sql(q):
    """(where clause, params, method) of q for the FTS5 table."""
    conds, params, match = [], [], []
    likes = False
    for scope, p in q['phrases']:
        if len(p) >= 3:
            match.append(('title : "%s"' if scope == 'title' else '"%s"') % p)
        else:
            likes = True
            # '+col': SQLite evaluates the LIKE itself.  Handed to FTS5 (plain
            # 'col LIKE'), a pattern under 3 characters finds nothing in
            # SQLite 3.40 (it should fall back to a scan).
            if scope == 'title':
                conds.append('+title LIKE ?')
                params.append('%' + p + '%')
            else:
                conds.append('(+title LIKE ? OR +body LIKE ?)')
                params += ['%' + p + '%', '%' + p + '%']
    if match:
        conds.insert(0, 'docs MATCH ?')
        params.insert(0, ' AND '.join(match))
    if 'years' in q:
        conds.append('year BETWEEN ? AND ?')
        params += q['years']
    method = 'MATCH+LIKE' if match and likes else ('LIKE' if likes else 'MATCH')
    return ' AND '.join(conds), params, method, bool(match)


def fts5_short_like_probe(db, queries, truth):
    """Whether 'col LIKE' with a 2-character pattern, handed to FTS5, finds
    what '+col LIKE' (evaluated by SQLite) finds.  None if not tested."""
    for q in queries:
        ph = q.get('phrases') or []
        if len(ph) == 1 and ph[0][0] == 'all' and len(ph[0][1]) == 2 and 'years' not in q \
                and truth.get(q['id']):
            pat = '%' + ph[0][1] + '%'
            a = db.execute('SELECT count(*) FROM docs WHERE title LIKE ? OR body LIKE ? OR 0',
                           (pat, pat)).fetchone()[0]
            b = db.execute('SELECT count(*) FROM docs WHERE body LIKE ?', (pat,)).fetchone()[0]
            c = db.execute('SELECT count(*) FROM docs WHERE +body LIKE ?', (pat,)).fetchone()[0]
            return {'pattern': pat, 'truth': len(truth[q['id']]), 'title_or_body': a,
                    'body_via_fts5': b, 'body_via_sqlite': c}
    return None


def fts5_queries(db, queries, truth, codes, small, like_max, seed):
    lat = collections.defaultdict(list)
    lat_like = collections.defaultdict(list)
    methods = collections.defaultdict(collections.Counter)
    wrong = {k: collections.Counter() for k in KINDS}
    details = []
    like_done = collections.Counter()
    for q in queries:
        kind = q['kind']
        if kind == 'code':
            t0 = time.perf_counter()
            row = db.execute('SELECT code, title, body FROM docs WHERE rowid = '
                             '(SELECT rid FROM codes WHERE code = ?)', (q['canonical'],)).fetchone()
            lat[kind].append((time.perf_counter() - t0) * 1000.0)
            methods[kind]['rowid'] += 1
            wrong[kind]['n'] += 1
            if not row or row[0] != q['canonical']:
                wrong[kind]['wrong'] += 1
            continue
        where, params, method, ranked = fts5_sql(q)
        if method != 'MATCH':
            if like_done[kind] >= like_max:
                methods[kind]['skipped (LIKE cap)'] += 1
                continue
            like_done[kind] += 1
        methods[kind][method] += 1
        t0 = time.perf_counter()
        count = db.execute('SELECT count(*) FROM docs WHERE ' + where, params).fetchone()[0]
        # The first page as a result list shows it: with a snippet where
        # FTS5 can make one (not for LIKE-only queries).
        db.execute('SELECT code, title' + (SNIPPET if ranked else '') + ' FROM docs WHERE ' + where +
                   (' ORDER BY rank' if ranked else '') + ' LIMIT 20', params).fetchall()
        dt = (time.perf_counter() - t0) * 1000.0
        (lat if method == 'MATCH' else lat_like)[kind].append(dt)
        want = truth[q['id']]
        c = wrong[kind]
        c['n'] += 1
        if count != len(want):
            c['wrong'] += 1
            c['count_diff'] += 1
            if len(details) < 30:
                details.append({'kind': kind, 'q': q['q'], 'method': method, 'count': count,
                                'truth': len(want)})
        if len(want) <= small:
            got = set(r[0] for r in db.execute('SELECT code FROM docs WHERE ' + where, params))
            wanted = set(codes[o] for o in want)
            c['fp'] += len(got - wanted)
            c['fn'] += len(wanted - got)
    out = {}
    for kind in KINDS:
        v, vl = lat.get(kind, []), lat_like.get(kind, [])
        out[kind] = {'p50_ms': rnd(pct(v, 50)), 'p99_ms': rnd(pct(v, 99)), 'n': len(v),
                     'like_p50_ms': rnd(pct(vl, 50)), 'like_p99_ms': rnd(pct(vl, 99)),
                     'like_n': len(vl), 'all_p50_ms': rnd(pct(v + vl, 50)),
                     'all_p99_ms': rnd(pct(v + vl, 99)),
                     'methods': dict(methods[kind]), 'wrong': wrong[kind].get('wrong', 0),
                     'fp': wrong[kind].get('fp', 0), 'fn': wrong[kind].get('fn', 0),
                     'checked': wrong[kind].get('n', 0)}
    return out, details


# --------------------------------------------------------------- Groonga --

class Groonga:
    """A `groonga` server speaking HTTP, on a database of its own."""

    def __init__(self, exe, dbdir, port):
        self.exe, self.dbdir, self.port = exe, dbdir, port
        self.dbpath = os.path.join(dbdir, 'db')
        self.logpath = os.path.join(dbdir, 'groonga.log')
        self.proc = None
        self.client = Client(port, auth=False, timeout=600)

    def start(self, new=True, timeout=60):
        if new:
            shutil.rmtree(self.dbdir, ignore_errors=True)
            os.makedirs(self.dbdir)
        argv = [self.exe, '-s', '--protocol', 'http', '--bind-address', '127.0.0.1',
                '--port', str(self.port), '--log-path', self.logpath,
                '--query-log-path', os.path.join(self.dbdir, 'query.log')]
        argv += (['-n', self.dbpath] if new else [self.dbpath])
        self.outfh = open(os.path.join(self.dbdir, 'stdout.log'), 'ab')
        self.proc = subprocess.Popen(argv, stdout=self.outfh, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL)
        t0 = time.time()
        while time.time() - t0 < timeout:
            if self.proc.poll() is not None:
                raise SetupError('groonga exited with status %s at start (%s)'
                                 % (self.proc.returncode, ' '.join(argv)))
            try:
                return self.cmd('status')
            except (OSError, http.client.HTTPException, GroongaError):
                time.sleep(0.1)
        raise SetupError('groonga did not answer /d/status within %d s' % timeout)

    def request(self, command, params=None, body=None):
        """(seconds end to end, header, body) of /d/COMMAND; the header is
        [rc, start, elapsed, ...]."""
        name = command
        path = '/d/%s' % name
        if params:
            path += '?' + urllib.parse.urlencode(params, quote_via=urllib.parse.quote)
        t0 = time.perf_counter()
        if body is None:
            status, data = self.client.request('GET', path)
        else:
            status, data = self.client.request('POST', path, body=body,
                                               headers={'Content-Type': 'application/json'})
        dt = time.perf_counter() - t0
        try:
            res = json.loads(data.decode('utf-8'))
        except ValueError:
            raise GroongaError('%s: HTTP %d, not JSON: %r' % (name, status, data[:300]))
        if not isinstance(res, list) or not res or res[0][0] != 0:
            raise GroongaError('%s: HTTP %d: %s' % (name, status, json.dumps(res, ensure_ascii=False)[:400]))
        return dt, res[0], res[1] if len(res) > 1 else None

    def cmd(self, command, **params):
        return self.request(command, params)[2]

    def stop(self, timeout=60):
        if self.proc is None:
            return None
        try:
            self.request('shutdown')
        except (OSError, http.client.HTTPException, GroongaError):
            pass
        try:
            rc = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            rc = 'killed after %d s' % timeout
        self.client.close()
        self.outfh.close()
        self.proc = None
        return rc

    def kill(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


class GroongaError(Exception):
    pass


def groonga_schema(g, table, lexicon):
    """The records' table (hash-keyed by 档号), the year, title and body
    (normalized text, pages joined by a blank line), and a bigram lexicon
    with a positional index over title and one over body."""
    g.cmd('table_create', name=table, flags='TABLE_HASH_KEY', key_type='ShortText')
    g.cmd('column_create', table=table, name='year', flags='COLUMN_SCALAR', type='UInt16')
    g.cmd('column_create', table=table, name='title', flags='COLUMN_SCALAR', type='ShortText')
    g.cmd('column_create', table=table, name='body', flags='COLUMN_SCALAR', type='LongText')
    g.cmd('table_create', name=lexicon, flags='TABLE_PAT_KEY', key_type='ShortText',
          default_tokenizer='TokenBigram', normalizer='NormalizerAuto')
    for col in ('title', 'body'):
        g.cmd('column_create', table=lexicon, name='%s_%s' % (table.lower(), col),
              flags='COLUMN_INDEX|WITH_POSITION', type=table, source=col)


def groonga_load(g, corpus, n, batch, problems):
    """Schema, then the corpus through /d/load in JSON batches of `batch`
    records (index columns updated as records come, as for FTS5)."""
    g.cmd('cache_limit', max=0)  # each query is run more than once (timed, then checked)
    groonga_schema(g, 'Docs', 'Terms')
    sampler = RssSampler(g.proc.pid)
    sampler.start()
    t0 = time.time()
    rows = []
    loaded = 0

    def flush():
        nonlocal loaded
        body = json.dumps(rows, ensure_ascii=False).encode('utf-8')
        try:
            _, _, got = g.request('load', {'table': 'Docs'}, body=body)
        except GroongaError as e:
            problems.append(str(e))
            got = 0
        if got != len(rows):
            problems.append('load of %d records answered %r' % (len(rows), got))
        loaded += got or 0
        rows.clear()

    with open(corpus, encoding='utf-8') as fh:
        for line in fh:
            rec = json.loads(line)
            rows.append({'_key': rec['code'], 'year': int(rec['code'].split('\u00b7')[1][:4]),
                         'title': norm(rec['title']),
                         'body': '\n\n'.join(norm(p['text']) for p in rec.get('page_texts') or ())})
            if len(rows) == batch:
                flush()
    if rows:
        flush()
    dt = time.time() - t0
    rss = sampler.stop()
    nrec = g.cmd('select', table='Docs', limit=0)[0][0][0]
    out = {'seconds': rnd(dt, 2), 'records_per_s': rnd(n / dt, 1), 'loaded': loaded, 'records': nrec,
           'db_bytes': dir_size(g.dbdir)}
    out.update(rss)
    return out


def grn_phrase(p):
    return '"%s"' % p.replace('\\', '\\\\').replace('"', '\\"')


def groonga_params(q, table='Docs'):
    """/d/select parameters of q, without output ones."""
    scopes = set(sc for sc, _ in q['phrases'])
    params = {'table': table, 'match_columns': 'title' if scopes == {'title'} else 'title||body',
              'query': ' '.join(grn_phrase(p) for _, p in q['phrases']),
              # No escalation to looser matching when a phrase finds nothing.
              'match_escalation_threshold': -1}
    if 'years' in q:
        lo, hi = q['years']
        params['filter'] = 'year == %d' % lo if lo == hi else 'year >= %d && year <= %d' % (lo, hi)
    return params


def groonga_code_params(code):
    return {'table': 'Docs', 'filter': '_key == "%s"' % code.replace('\\', '\\\\').replace('"', '\\"'),
            'output_columns': '_key,title,body', 'limit': 1}


def groonga_keys(g, params):
    """Every matching key (an untimed request)."""
    p = dict(params, output_columns='_key', limit=-1)
    body = g.cmd('select', **p)
    return [r[0] for r in body[0][2:]]


def groonga_queries(g, queries, truth, codes, small):
    """Each query once, timed end to end over HTTP (one thread): the total
    (nhits) and the top 20 by score with a snippet; then checked."""
    lat = collections.defaultdict(list)
    srv = collections.defaultdict(list)
    wrong = {k: collections.Counter() for k in KINDS}
    details = []
    errors = collections.Counter()
    sampler = RssSampler(g.proc.pid)
    sampler.start()
    for q in queries:
        kind = q['kind']
        c = wrong[kind]
        c['n'] += 1
        try:
            if kind == 'code':
                dt, head, body = g.request('select', groonga_code_params(q['canonical']))
                rows = body[0][2:]
                ok = len(rows) == 1 and rows[0][0] == q['canonical'] and rows[0][1] == norm(q['title'])
                if not ok:
                    c['wrong'] += 1
                    if len(details) < 30:
                        details.append({'kind': kind, 'code': q['canonical'], 'got': rows[:1]})
            else:
                params = groonga_params(q)
                dt, head, body = g.request('select', dict(
                    params, output_columns='_key,title,snippet_html(body)', sort_keys='-_score', limit=20))
                count = body[0][0][0]
                want = truth[q['id']]
                if count != len(want):
                    c['wrong'] += 1
                    c['count_diff'] += 1
                    if len(details) < 30:
                        details.append({'kind': kind, 'q': q['q'], 'count': count, 'truth': len(want)})
                if len(want) <= small:
                    got = set(groonga_keys(g, params))
                    wanted = set(codes[o] for o in want)
                    c['fp'] += len(got - wanted)
                    c['fn'] += len(wanted - got)
                    if got != wanted and count == len(want):
                        c['wrong'] += 1
        except (OSError, http.client.HTTPException, GroongaError) as e:
            errors[kind] += 1
            if len(details) < 30:
                details.append({'kind': kind, 'q': q.get('q') or q.get('code'), 'error': str(e)[:300]})
            continue
        lat[kind].append(dt * 1000.0)
        srv[kind].append(head[2] * 1000.0)
    rss = sampler.stop()
    out = {}
    for kind in KINDS:
        v, vs = lat.get(kind, []), srv.get(kind, [])
        out[kind] = {'p50_ms': rnd(pct(v, 50)), 'p99_ms': rnd(pct(v, 99)), 'n': len(v),
                     'server_p50_ms': rnd(pct(vs, 50)), 'server_p99_ms': rnd(pct(vs, 99)),
                     'method': 'key' if kind == 'code' else
                     ('phrase+filter' if kind in ('year', 'yrange') else 'phrase'),
                     'wrong': wrong[kind].get('wrong', 0), 'fp': wrong[kind].get('fp', 0),
                     'fn': wrong[kind].get('fn', 0), 'count_diff': wrong[kind].get('count_diff', 0),
                     'checked': wrong[kind].get('n', 0), 'errors': errors.get(kind, 0)}
    return out, details, rss


def groonga_floor(g, n):
    """An empty select (no condition, no rows), n times: the HTTP and JSON
    cost every Groonga timing includes."""
    v, vs = [], []
    for _ in range(n):
        dt, head, _ = g.request('select', {'table': 'Docs', 'limit': 0, 'output_columns': '_id'})
        v.append(dt * 1000.0)
        vs.append(head[2] * 1000.0)
    return {'p50_ms': rnd(pct(v, 50)), 'p99_ms': rnd(pct(v, 99)), 'n': n,
            'server_p50_ms': rnd(pct(vs, 50)), 'server_p99_ms': rnd(pct(vs, 99))}


# Texts and queries that show what TokenBigram and NormalizerAuto do: the
# expectation is plain substring search in title or body, as for the truth.
GRN_PROBE_DOCS = [
    ('a', '中华人民共和国', '人民群众\n\n共和'),   # two "pages" separated by a blank line
    ('b', 'x', '民'),                             # one character, alone
    ('c', 'x', '民主，人民'),                     # at the end, and before punctuation
    ('d', 'x', '国和共'),
    ('e', 'x', '共和 国'),                        # a space between two Chinese characters
    ('f', 'x', 'abc共和国def'),
    ('g', 'x', '共和国１２３'),                   # full-width digits
    ('h', 'x', '和国'),
]
GRN_PROBE_QUERIES = [
    ('民', '1 character (also the last of a text)'),
    ('国', '1 character'),
    ('人民', '2 characters'),
    ('共和', '2 characters'),
    ('和共', '2 characters, reversed order'),
    ('共和国', '3 characters, a phrase'),
    ('民共和', '3 characters, a phrase in the title'),
    ('人民国', 'characters present, not in this order'),
    ('群众共和', 'across the blank line between pages'),
    ('华人民共和国', '6 characters'),
]


def groonga_probe(g):
    """Run GRN_PROBE_QUERIES on a table of GRN_PROBE_DOCS (same lexicon
    settings as the benchmark's) and compare with substring search."""
    groonga_schema(g, 'Probe', 'ProbeTerms')
    g.request('load', {'table': 'Probe'}, body=json.dumps(
        [{'_key': k, 'title': t, 'body': b, 'year': 2000} for k, t, b in GRN_PROBE_DOCS],
        ensure_ascii=False).encode('utf-8'))
    out = []
    for p, what in GRN_PROBE_QUERIES:
        params = groonga_params({'phrases': [['all', p]]}, table='Probe')
        got = sorted(groonga_keys(g, params))
        want = sorted(k for k, t, b in GRN_PROBE_DOCS if p in t or p in b)
        out.append({'q': p, 'what': what, 'want': want, 'got': got, 'ok': got == want})
    return out


def groonga_tokens(g):
    """TokenBigram's tokens of a text (ADD: as indexed) and of queries
    (GET: as searched; force_prefix marks a prefix search of the lexicon)."""
    out = []
    for text, mode in (('人民群众\n\n共和 国，民主', 'ADD'), ('民', 'GET'), ('人民', 'GET'),
                       ('共和国', 'GET'), ('华人民共和国', 'GET')):
        toks = g.cmd('tokenize', tokenizer='TokenBigram', normalizer='NormalizerAuto', string=text, mode=mode)
        out.append({'string': text, 'mode': mode, 'tokens': [
            t['value'] + ('*' if t.get('force_prefix_search', t.get('force_prefix')) else '') for t in toks]})
    return out


def groonga_one_char(g, corpus, queries, limit=5):
    """Totals of 1-character queries (the first characters of some
    2-character phrases) against a scan of the corpus."""
    chars = []
    for q in queries:
        if q['kind'] == 'phrase2' and q['phrases'][0][1][0] not in chars:
            chars.append(q['phrases'][0][1][0])
        if len(chars) == limit:
            break
    counts = collections.Counter()
    with open(corpus, encoding='utf-8') as fh:
        for line in fh:
            t = truth_text(json.loads(line))
            for ch in chars:
                if ch in t:
                    counts[ch] += 1
    out = []
    for ch in chars:
        body = g.cmd('select', **dict(groonga_params({'phrases': [['all', ch]]}), limit=0))
        out.append({'q': ch, 'truth': counts[ch], 'nhits': body[0][0][0]})
    return out


# ---------------------------------------------------------------- report --

def fmt(x, nd=2):
    if x is None:
        return '-'
    if isinstance(x, float):
        return ('%.' + str(nd) + 'f') % x
    return str(x)


def fms(x):
    """A time in ms with about three significant digits."""
    if x is None:
        return '-'
    return '%.2f' % x if x < 10 else ('%.1f' % x if x < 100 else '%.0f' % x)


def pq(d, a='p50_ms', b='p99_ms'):
    return '%s/%s' % (fms(d.get(a)), fms(d.get(b))) if d and d.get(a) is not None else '-'


def ratio(a, b):
    if not a or not b:
        return '-'
    r = a / b
    return ('%.0fx' if r >= 10 else '%.1fx' if r >= 0.1 else '%.2fx') % r


def mb(b):
    return None if b is None else b / 1e6


MODE_LABEL = {'local': 'local shards', 'remote': 'remote shards'}


def ours_p50(k, mode):
    """The daemon's p50 the ratios divide by: in process if measured, else HTTP."""
    m = k.get(mode) or {}
    ip, h = m.get('inproc') or {}, m.get('http') or {}
    return ip.get('p50_ms') or h.get('p50_ms')


def print_report(rep):
    out = []
    w = out.append
    cfg = rep['config']
    modes = rep.get('modes') or []
    w('')
    w('== archive search benchmark: %d records (seed %d), %d queries per kind ==' % (
        cfg['records'], cfg['seed'], cfg['queries']))
    c = rep['corpus']
    w('corpus        %s: %.1f MB NDJSON, %d text characters (%d pages)' % (
        os.path.basename(c['path']), mb(c['bytes']), c.get('chars', 0), c.get('pages', 0)))
    h = rep.get('host') or {}
    if h.get('loadavg_start'):
        w('machine       %s CPUs; load average %.1f at the start, %.1f at the end (other work '
          'skews timings)' % (h.get('cpus'), h['loadavg_start'][0], (h.get('loadavg_end') or [0])[0]))
    for mode in modes:
        d = rep['daemon'].get(mode) or {}
        if mode == 'local':
            w('shards        local: %s shards in %s' % (d.get('shards'), d.get('datadir')))
        else:
            w('shards        remote: %s xapian-tcpsrv --writable (%s), directories %s' % (
                d.get('shards'), ','.join(d.get('endpoints') or []),
                os.path.join(os.path.dirname(d.get('datadir', '')), 'remote-K')))
            w('              read-only servers: %s' % (','.join(d['readers']) if d.get('readers') else
                                                     'none (the daemon has no remote_readers key)'))
    cols = [('indexd' if len(modes) == 1 else 'indexd ' + m) for m in modes]
    f5 = rep.get('fts5') or {}
    f5l = f5.get('load') or {}
    gr = rep.get('groonga') or {}
    grl = gr.get('load') or {}
    loads = [(rep['daemon'].get(m) or {}).get('load') or {} for m in modes]
    servs = [(rep['daemon'].get(m) or {}).get('serve') or {} for m in modes]
    head = '%-28s' + ' %14s' * (len(modes) + 2)
    w('')
    w(head % tuple([''] + cols + ['SQLite FTS5', 'Groonga']))

    def row(label, vals):
        w(head % tuple([label] + [v if isinstance(v, str) else fmt(v, 1) for v in vals]))

    def pm(d, a='rss_peak_mb', b='rss_mean_mb'):
        return '%s/%s' % (fmt(d.get(a), 0), fmt(d.get(b), 0)) if d and d.get(a) is not None else '-'

    row('load rate (records/s)', [ld.get('records_per_s') for ld in loads] +
        [f5l.get('records_per_s'), grl.get('records_per_s')])
    row('load time (s)', [ld.get('seconds') for ld in loads] + [f5l.get('seconds'), grl.get('seconds')])
    row('index size (MB)', [mb((rep['daemon'].get(m) or {}).get('index_bytes')) for m in modes] +
        [mb(f5l.get('db_bytes')), mb(grl.get('db_bytes'))])
    row('RSS loading peak/mean (MB)', [pm(ld) for ld in loads] + ['-', pm(grl)])
    row('RSS serving peak/mean (MB)', [pm(sv) for sv in servs] + ['-', pm(gr.get('serve'))])
    row('HTTP throughput (req/s)', [sv.get('qps') for sv in servs] + ['-', '-'])
    row('server CPU load/serve (s)', ['%s/%s' % (fmt(ld.get('cpu_s'), 1), fmt(sv.get('cpu_s'), 1))
                                      for ld, sv in zip(loads, servs)] +
        ['-', '%s/%s' % (fmt(grl.get('cpu_s'), 1), fmt((gr.get('serve') or {}).get('cpu_s'), 1))
         if grl else '-'])
    if 'remote' in modes:
        row('xapian-tcpsrv CPU, all (s)', [(rep['daemon'].get(m) or {}).get('servers_cpu_s') if m == 'remote'
                                           else '-' for m in modes] + ['-', '-'])
    w('')
    w('latency in ms, p50/p99 (indexd HTTP: %d clients; in-process, FTS5 and Groonga: one thread;'
      % cfg['clients'])
    w('Groonga over HTTP from Python, end to end)')
    lat_cols, bad_cols = [], []
    for m in modes:
        suffix = '' if len(modes) == 1 else ' ' + m
        lat_cols += ['HTTP' + suffix, 'in-proc' + suffix]
        bad_cols.append('fp/fn/bad' + suffix)
    head = ('%-8s %4s %7s' + ' %14s' * (len(lat_cols) + 2) + ' %9s %9s' +
            ' %16s' * (len(bad_cols) + 2))
    w(head % tuple(['kind', 'n', 'truth'] + lat_cols + ['FTS5', 'Groonga', 'FTS5/ours', 'Grn/ours']
                   + bad_cols + ['FTS5 fp/fn/bad', 'Grn fp/fn/bad']))
    for kind in KINDS:
        k = rep['kinds'][kind]
        cells = [kind, str(k.get('queries', '-')), fmt(k.get('truth_median'))]
        for m in modes:
            km = k.get(m) or {}
            cells += [pq(km.get('http')), pq(km.get('inproc'))]
        ours = ours_p50(k, modes[0]) if modes else None
        fx, gx = k.get('fts5') or {}, k.get('groonga') or {}
        if fx.get('n'):
            fts, f50 = pq(fx), fx['p50_ms']
        elif fx.get('like_n'):
            fts, f50 = 'L ' + pq(fx, 'like_p50_ms', 'like_p99_ms'), fx['like_p50_ms']
        else:
            fts, f50 = '-', None
        g50 = gx.get('p50_ms') if gx.get('n') else None
        cells += [fts, pq(gx) if gx.get('n') else '-', ratio(f50, ours), ratio(g50, ours)]
        for m in modes:
            cr = (k.get(m) or {}).get('correct') or {}
            cells.append('%d/%d/%d' % (cr.get('fp', 0), cr.get('fn', 0), cr.get('wrong', 0)) if cr else '-')
        for x in (fx, gx):
            cells.append('%d/%d/%d' % (x.get('fp', 0), x.get('fn', 0), x.get('wrong', 0)) if x else '-')
        w(head % tuple(cells))
    w('')
    w('n: queries; truth: median matching records; fp/fn: false positive/negative records over the')
    w('queries whose full hit list was compared (truth <= %d); bad: queries with any wrong' % cfg['small'])
    w('answer.  FTS5/ours, Grn/ours: FTS5\'s and Groonga\'s p50 over indexd\'s (%s; in process,'
      % (MODE_LABEL.get(modes[0], '-') if modes else '-'))
    w('or over HTTP when the helper did not run).  FTS5 "L": only LIKE scans (2-character terms')
    w('find nothing through the trigram index), at most %d queries per kind.' % cfg['fts5_like_max'])
    mixed = [kind for kind in KINDS if (rep['kinds'][kind].get('fts5') or {}).get('like_n')
             and (rep['kinds'][kind].get('fts5') or {}).get('n')]
    for kind in mixed:
        fx = rep['kinds'][kind]['fts5']
        w('  FTS5 %s: MATCH %d queries (above); LIKE %d queries p50/p99 %s/%s ms' % (
            kind, fx['n'], fx['like_n'], fmt(fx['like_p50_ms'], 1), fmt(fx['like_p99_ms'], 1)))
    if gr.get('floor'):
        fl = gr['floor']
        w('Groonga\'s floor, an empty select (no condition, no rows): %s ms p50/p99 end to end (a new'
          % pq(fl))
        w('  connection each time, HTTP, JSON), %s inside Groonga.  Groonga\'s own time (the elapsed'
          % pq(fl, 'server_p50_ms', 'server_p99_ms'))
        w('  in its answers), p50: ' + ', '.join(
            '%s %s' % (kind, fms((rep['kinds'][kind].get('groonga') or {}).get('server_p50_ms')))
            for kind in KINDS))
    for mode in modes:
        est = []
        for kind in KINDS:
            cr = (rep['kinds'][kind].get(mode) or {}).get('correct') or {}
            if cr.get('estimated'):
                est.append('%s %d (mean error %.0f%%)' % (kind, cr['estimated'],
                                                         cr.get('est_err_pct_sum', 0) / cr['estimated']))
        if est:
            w('estimated totals%s (total_exact false; allowed above %d matches): %s'
              % ('' if len(modes) == 1 else ' (%s)' % MODE_LABEL[mode], cfg['small'], ', '.join(est)))
    if modes:
        cw = sum(((rep['kinds'][k].get(modes[0]) or {}).get('correct') or {}).get('cross_wrap', 0)
                 for k in KINDS)
        w('phrases that cross white space (a line wrap, or a space of the source text) in the record')
        w('they were drawn from: %d' % cw)
    if rep.get('notes'):
        w('')
        for n in rep['notes']:
            w('note: ' + n)
    if rep.get('problems'):
        w('')
        w('PROBLEMS (%d):' % len(rep['problems']))
        for p in rep['problems'][:40]:
            w('  ' + json.dumps(p, ensure_ascii=False))
    w('')
    w('result: %s' % ('OK: every answer of the daemon was right' if rep['ok']
                      else 'FAIL: wrong answers (see PROBLEMS)'))
    print('\n'.join(out), flush=True)


# ------------------------------------------------------------------ main --

def run_daemon(args, mode, corpus, queries, truth, codes, qpath, rep, readers_ok):
    """The daemon's part on local shards or remote ones: load (or reuse),
    check, time over HTTP, stop, time in process.  Fills rep['daemon'][mode]
    and rep['kinds'][kind][mode]."""
    remote = mode == 'remote'
    nshards = args.remote_shards if remote else args.shards
    datadir = os.path.join(args.workdir, 'data-remote' if remote else 'data')
    run = {'shards': nshards, 'datadir': datadir}
    rep['daemon'][mode] = run
    problems = []

    def problem(**d):
        problems.append(dict(d, mode=mode))

    if not args.reuse_index:
        shutil.rmtree(datadir, ignore_errors=True)
        os.makedirs(datadir)
    servers = None
    daemon = None
    try:
        if remote:
            servers = RemoteShards(args.xapian_tcpsrv, args.workdir, nshards, fresh=not args.reuse_index,
                                   readers=readers_ok)
            log('remote: starting %d xapian-tcpsrv%s ...' % (nshards, ' (and read-only ones)'
                                                             if readers_ok else ''))
            servers.start()
            run['endpoints'] = servers.writers
            run['readers'] = servers.readers
            rep['notes'].append('remote shards: the daemon\'s RSS and CPU leave out the xapian-tcpsrv '
                                'processes (their CPU is a row of its own); the index size is the '
                                'daemon\'s data directory plus WORKDIR/remote-K')
            # REMOTE READERS: when `indexd --help` lists a remote_readers key
            # (readers_ok), RemoteShards has also started a read-only
            # xapian-tcpsrv per shard directory, and Daemon passes them as
            # --remote-readers in the shards' order.
        port = args.port or free_port()
        logpath = os.path.join(args.workdir, 'indexd-remote.log' if remote else 'indexd.log')
        if os.path.exists(logpath) and not args.reuse_index:
            os.remove(logpath)
        daemon = Daemon(args.indexd, datadir, port, logpath, nshards, args.threads,
                        remote=servers.writers if servers else None,
                        readers=servers.readers if servers else None)
        log('indexd (%s): starting on port %d' % (MODE_LABEL[mode], port))
        daemon.start()
        pid = daemon.proc.pid
        if args.reuse_index:
            ld = prior_load(args.reuse_index, port, mode)
            rep['notes'].append('the index (%s) was loaded by an earlier run (log %s); its load figures are '
                                'that run\'s' % (MODE_LABEL[mode], args.reuse_index))
        else:
            log('load (%s): %d records in batches of %d over %d connections ...'
                % (MODE_LABEL[mode], args.records, args.batch, args.loaders))
            lp = []
            ld = load_http(port, corpus, args.records, args.batch, args.loaders, pid, lp)
            for d in lp:
                problem(**d)
        run['load'] = ld
        if not args.reuse_index:
            # prior_load() reads this line back (--reuse-index).
            log('load%s: %.1f records/s, peak RSS %s MB' % (' remote' if remote else '',
                                                           ld['records_per_s'], ld['rss_peak_mb']))
        if ld['imported'] != args.records or ld['rejected'] or ld['errors']:
            problem(where='load', problem='imported %d of %d records (%d rejected, %d failed requests)'
                    % (ld['imported'], args.records, ld['rejected'], ld['errors']))
        if ld.get('healthz_records') != args.records:
            problem(where='load', problem='/healthz says %s records after loading %d'
                    % (ld.get('healthz_records'), args.records))
        index_dirs = [datadir] + (servers.dirs if servers else [])
        run['index_bytes_loaded'] = sum(dir_size(d) for d in index_dirs)

        # ---- correctness
        log('check (%s): %d queries ...' % (MODE_LABEL[mode], len(queries)))
        t0 = time.time()
        chk = check_all(port, queries, truth, codes, args.small)
        log('check: %.1f s' % (time.time() - t0))
        for kind in KINDS:
            rep['kinds'][kind].setdefault(mode, {})['correct'] = dict(chk.by_kind[kind])
        for d in chk.details:
            problem(where='answer', **d)

        # ---- latency over HTTP
        log('latency (%s): %d rounds x %d queries, %d clients ...'
            % (MODE_LABEL[mode], args.rounds, len(queries), args.clients))
        lat, serve = time_http(port, queries, args.clients, args.rounds, args.seed, pid)
        serve['rss_hwm_mb'] = rnd((read_status(pid, 'VmHWM') or 0) / 1024.0, 1)
        run['serve'] = serve
        for kind in KINDS:
            rep['kinds'][kind][mode]['http'] = lat[kind]
            if lat[kind]['errors']:
                problem(where='latency', kind=kind, problem='%d requests failed' % lat[kind]['errors'])

        # ---- stop; in process
        rc, dt = daemon.stop()
        run['stop'] = {'exit': rc, 'seconds': rnd(dt, 2)}
        if rc != 0:
            problem(where='stop', problem='indexd exit status %s after SIGTERM; log tail: %s'
                    % (rc, daemon.log_tail(10)))
        daemon = None
        if servers:
            time.sleep(0.5)  # the servers reap their connections' children
            run['servers_cpu_s'] = rnd(servers.cpu_seconds(), 1)
            servers.stop()
        run['index_bytes'] = sum(dir_size(d) for d in index_dirs)
        if args.no_inproc:
            pass
        elif not os.access(args.inproc, os.X_OK):
            rep['notes'].append('in-process timing skipped: no helper at %s' % args.inproc)
        else:
            idir = servers.inproc_dir(args.workdir) if servers else datadir
            if servers:
                rep['notes'].append('in process, remote shards: bench-inproc opened the remote servers\' '
                                    'directories directly (%s links them), i.e. it times local reads '
                                    'of the index they held, not the remote protocol' % idir)
            log('in-process (%s): running the helper ...' % MODE_LABEL[mode])
            res, err = run_inproc(args.inproc, idir, qpath, nshards)
            if res is None:
                problem(where='inproc', problem=err)
            else:
                if err:
                    rep['notes'].append('in-process helper (%s) said: %s' % (MODE_LABEL[mode], err[-500:]))
                for kind in KINDS:
                    rep['kinds'][kind][mode]['inproc'] = res.get(kind)
                    if (res.get(kind) or {}).get('errors'):
                        problem(where='inproc', kind=kind, problem='%d queries failed' % res[kind]['errors'])
    finally:
        if daemon:
            daemon.kill()
        if servers:
            servers.stop()
        rep['problems'].extend(problems)


def run_groonga(args, corpus, queries, truth, codes, rep):
    exe = shutil.which(args.groonga) if os.sep not in args.groonga else args.groonga
    if not exe or not os.access(exe, os.X_OK):
        rep['notes'].append('Groonga skipped: no groonga at %s (Debian package groonga)' % args.groonga)
        return
    g = Groonga(exe, os.path.join(args.workdir, 'groonga'), free_port())
    try:
        status = g.start(new=True)
        log('groonga: loading ...')
        lp = []
        gl = groonga_load(g, corpus, args.records, args.batch, lp)
        grp = {'version': status.get('version'), 'load': gl, 'load_problems': lp[:10]}
        if lp or gl['records'] != args.records:
            rep['notes'].append('Groonga loaded %s of %d records: %s' % (gl['records'], args.records,
                                                                         '; '.join(lp[:3])))
        log('groonga: %.1f records/s; queries ...' % gl['records_per_s'])
        res, details, serve = groonga_queries(g, queries, truth, codes, args.small)
        grp.update(wrong=details, serve=serve)
        grp['floor'] = groonga_floor(g, max(50, args.queries))
        grp['probe'] = groonga_probe(g)
        grp['tokens'] = groonga_tokens(g)
        if args.records <= 50000:
            grp['one_char'] = groonga_one_char(g, corpus, queries)
        rep['groonga'] = grp
        for kind in KINDS:
            rep['kinds'][kind]['groonga'] = res[kind]
        bad = [p for p in grp['probe'] if not p['ok']]
        one = grp.get('one_char') or []
        nq = sum(res[k]['checked'] for k in KINDS if k != 'code')
        ndiff = sum(res[k]['count_diff'] for k in KINDS)
        rep['notes'].append(
            'Groonga %s: table hash-keyed by 档号, title and body (normalized as for the truth, pages '
            'joined by a blank line), lexicon TokenBigram + NormalizerAuto, one index WITH_POSITION '
            'over title and one over body, loaded in JSON batches of %d through /d/load; queries are '
            '/d/select --match_columns title||body (title for 题名) --query \'"…"\' (phrases ANDed; '
            '--filter on year for the year kinds; no match escalation) --sort_keys -_score --limit 20 '
            'with snippet_html(body); 档号: --filter \'_key == "…"\' (a key lookup); query cache off; '
            'the "run" kind is a plain phrase there. '
            'Totals (nhits) equal the truth for %d of %d queries; %s; 1-character queries (a prefix '
            'search of the bigram lexicon): %s.'
            % (grp['version'], args.batch, nq - ndiff, nq,
               'the probe texts behave as substring search (a phrase never crosses a space or the '
               'blank line between pages)' if not bad else 'the probe texts differ from substring '
               'search for ' + ', '.join('%s (%s: want %s got %s)' % (p['q'], p['what'], p['want'], p['got'])
                                         for p in bad),
               ', '.join('%s %d/%d' % (o['q'], o['nhits'], o['truth']) for o in one) + ' (nhits/truth)'
               if one else 'not compared on this corpus (over 50000 records)'))
        rep['notes'].append('TokenBigram (x* marks a prefix search): ' + '; '.join(
            '%s %s: %s' % (json.dumps(t['string'], ensure_ascii=False), t['mode'], ' '.join(t['tokens']))
            for t in grp['tokens']))
        rc = g.stop()
        if rc not in (0, None):
            rep['notes'].append('groonga exited with status %s' % rc)
    except (GroongaError, OSError, http.client.HTTPException) as e:
        rep['notes'].append('Groonga failed: %s (log in %s)' % (e, g.logpath))
        log('groonga: %s' % e)
    finally:
        g.kill()


def main():
    ap = argparse.ArgumentParser(description='Benchmark and correctness check of indexd.')
    ap.add_argument('--records', type=int, default=20000)
    ap.add_argument('--seed', type=int, default=1)
    ap.add_argument('--workdir', default=os.path.join(ROOT, 'var', 'bench'))
    ap.add_argument('--indexd', default=os.path.join(ROOT, 'build', 'indexd', 'indexd'))
    ap.add_argument('--inproc', default=os.path.join(ROOT, 'build', 'bench', 'bench-inproc'))
    ap.add_argument('--port', type=int, default=0, help='0: a free port')
    ap.add_argument('--clients', type=int, default=4, help='concurrent HTTP clients')
    ap.add_argument('--queries', type=int, default=200, help='queries per kind')
    ap.add_argument('--rounds', type=int, default=2, help='timed HTTP passes over the query mix')
    ap.add_argument('--shards', type=int, default=2)
    ap.add_argument('--remote-shards', type=int, default=0, metavar='N',
                    help='N shards, each served by an xapian-tcpsrv on a directory WORKDIR/remote-K, '
                    'instead of local ones')
    ap.add_argument('--both-shard-kinds', action='store_true',
                    help='run the daemon twice: local shards, then remote ones (--remote-shards N, '
                    'default --shards)')
    ap.add_argument('--xapian-tcpsrv', default='xapian-tcpsrv', help='the remote shards\' server')
    ap.add_argument('--threads', type=int, default=4)
    ap.add_argument('--batch', type=int, default=500, help='records per load request')
    ap.add_argument('--loaders', type=int, default=2, help='concurrent load connections')
    ap.add_argument('--small', type=int, default=300,
                    help='compare full hit lists (and require total_exact) up to this many matches')
    ap.add_argument('--fts5-like-max', type=int, default=None,
                    help='LIKE-scan queries per kind for FTS5, which are slow '
                    '(default 50, 10 above 100000 records)')
    ap.add_argument('--no-fts5', action='store_true')
    ap.add_argument('--no-groonga', action='store_true')
    ap.add_argument('--groonga', default='groonga', metavar='PATH', help='the groonga command')
    ap.add_argument('--no-inproc', action='store_true')
    ap.add_argument('--truth-only', action='store_true',
                    help='only draw the queries and compute their truth (kept in WORKDIR for the next run)')
    ap.add_argument('--fts5-load-only', action='store_true',
                    help='only load the FTS5 database (WORKDIR/fts5.db, figures in fts5-load.json), e.g. '
                    'at the same time as the daemon loads in another run')
    ap.add_argument('--fts5-prebuilt', action='store_true',
                    help='use the FTS5 database --fts5-load-only made for this corpus')
    ap.add_argument('--reuse-index', metavar='LOG',
                    help="use the index already in WORKDIR/data (and WORKDIR/remote-K), loaded by an "
                    "earlier run whose log (its 'load:' lines give the load figures) is LOG")
    args = ap.parse_args()
    if args.fts5_like_max is None:
        args.fts5_like_max = 50 if args.records <= 100000 else 10
    if args.both_shard_kinds and not args.remote_shards:
        args.remote_shards = args.shards
    if args.remote_shards and not 1 <= args.remote_shards <= 16:
        ap.error('--remote-shards must be 1 to 16')
    modes = (['local', 'remote'] if args.both_shard_kinds else
             ['remote'] if args.remote_shards else ['local'])

    os.makedirs(args.workdir, exist_ok=True)
    rep = {'version': BENCH_VERSION, 'config': {
        'records': args.records, 'seed': args.seed, 'queries': args.queries, 'clients': args.clients,
        'rounds': args.rounds, 'shards': args.shards, 'remote_shards': args.remote_shards,
        'threads': args.threads, 'batch': args.batch,
        'loaders': args.loaders, 'small': args.small, 'fts5_like_max': args.fts5_like_max},
        'modes': modes, 'daemon': {},
        'problems': [], 'notes': [], 'kinds': {k: {'doc': KIND_DOC[k]} for k in KINDS},
        'host': {'cpus': os.cpu_count(), 'loadavg_start': list(os.getloadavg())}}
    try:
        if not os.access(args.indexd, os.X_OK):
            raise SetupError('no indexd at %s (build it first, or pass --indexd)' % args.indexd)
        readers_ok = False
        if 'remote' in modes and not (args.truth_only or args.fts5_load_only):
            keys = daemon_keys(args.indexd)
            if 'remote_shards' not in keys:
                raise SetupError('%s has no remote_shards configuration key (see its --help): it cannot '
                                 'run on remote shards' % args.indexd)
            readers_ok = 'remote_readers' in keys
            if not shutil.which(args.xapian_tcpsrv):
                raise SetupError('no %s (Debian package xapian-tools)' % args.xapian_tcpsrv)
        corpus, meta = ensure_corpus(args.workdir, args.records, args.seed)
        rep['corpus'] = {'path': corpus, 'bytes': os.path.getsize(corpus), 'meta': meta}
        f5load_path = os.path.join(args.workdir, 'fts5-load.json')
        if args.fts5_load_only:
            log('fts5: loading only ...')
            rep['host']['loadavg_start'] = list(os.getloadavg())
            db, f5load = fts5_load(corpus, args.records, os.path.join(args.workdir, 'fts5.db'), args.batch)
            db.close()
            f5load.update(corpus=meta, records=args.records, loadavg_end=list(os.getloadavg()),
                          loadavg_start=rep['host']['loadavg_start'])
            with open(f5load_path, 'w', encoding='utf-8') as fh:
                json.dump(f5load, fh, indent=1)
            log('fts5: %.1f records/s, %s' % (f5load['records_per_s'], f5load_path))
            return 0

        log('queries: drawing %d per kind ...' % args.queries)
        queries, samples = build_queries(corpus, args.records, args.queries, args.seed)
        # The truth of a corpus and query mix is kept: a second run on the
        # same work directory (--reuse-index) need not scan the corpus again.
        tpath = os.path.join(args.workdir, 'truth-%d-s%d-q%d.pickle' % (args.records, args.seed, args.queries))
        cached = None
        if os.path.exists(tpath):
            with open(tpath, 'rb') as fh:
                cached = pickle.load(fh)
            if cached.get('meta') != meta or cached.get('queries') != queries:
                cached = None
        if cached:
            log('truth: reusing %s' % tpath)
            truth, codes, years, cstats = cached['truth'], cached['codes'], cached['years'], cached['cstats']
        else:
            truth, codes, years, cstats = compute_truth(corpus, queries, samples)
            with open(tpath + '.tmp', 'wb') as fh:
                pickle.dump({'meta': meta, 'queries': queries, 'truth': truth, 'codes': codes, 'years': years,
                             'cstats': cstats}, fh, protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(tpath + '.tmp', tpath)
        if args.truth_only:
            log('truth: kept in %s' % tpath)
            return 0
        rep['corpus'].update(cstats)
        del samples
        for kind in KINDS:
            counts = [len(truth[q['id']]) for q in queries if q['kind'] == kind and q['id'] in truth]
            rep['kinds'][kind]['queries'] = sum(1 for q in queries if q['kind'] == kind)
            rep['kinds'][kind]['truth_median'] = pct(counts, 50)
            rep['kinds'][kind]['truth_max'] = max(counts) if counts else None
        with open(os.path.join(args.workdir, 'queries.json'), 'w', encoding='utf-8') as fh:
            json.dump([dict(q, truth=len(truth.get(q['id'], ()))) for q in queries], fh,
                      ensure_ascii=False, indent=0)
        qpath = os.path.join(args.workdir, 'queries.jsonl')
        write_inproc_queries(qpath, queries)

        # ---- the daemon, on local shards and/or remote ones
        for mode in modes:
            run_daemon(args, mode, corpus, queries, truth, codes, qpath, rep, readers_ok)
            # The daemon's figures are safe on disk before FTS5 (a long part) starts.
            with open(os.path.join(args.workdir, 'report-partial.json'), 'w', encoding='utf-8') as fh:
                json.dump(rep, fh, ensure_ascii=False, indent=1)

        # ---- FTS5
        if not args.no_fts5:
            dbpath = os.path.join(args.workdir, 'fts5.db')
            if args.fts5_prebuilt:
                if not os.path.exists(f5load_path):
                    log('fts5: waiting for the --fts5-load-only run to finish ...')
                while not os.path.exists(f5load_path):
                    time.sleep(10)
                with open(f5load_path, encoding='utf-8') as fh:
                    f5load = json.load(fh)
                if f5load.get('corpus') != meta or f5load.get('records') != args.records:
                    raise SetupError('%s was made from another corpus' % f5load_path)
                db = sqlite3.connect(dbpath, isolation_level=None, check_same_thread=False)
                rep['notes'].append('the FTS5 database was loaded by bench.py --fts5-load-only, '
                                    'load average %s at its start' % f5load.get('loadavg_start'))
            else:
                log('fts5: loading ...')
                db, f5load = fts5_load(corpus, args.records, dbpath, args.batch)
            log('fts5: %.1f records/s; queries ...' % f5load['records_per_s'])
            f5, f5details = fts5_queries(db, queries, truth, codes, args.small, args.fts5_like_max,
                                         args.seed)
            probe = fts5_short_like_probe(db, queries, truth)
            db.close()
            rep['fts5'] = {'load': f5load, 'wrong': f5details, 'sqlite': sqlite3.sqlite_version,
                           'short_like_probe': probe}
            if probe and probe['body_via_fts5'] != probe['body_via_sqlite']:
                rep['notes'].append(
                    'SQLite %s: "body LIKE \'%s\'" finds %d rows when FTS5 handles it, %d when '
                    'SQLite evaluates it ("+body LIKE"); the benchmark uses the "+col" form.'
                    % (sqlite3.sqlite_version, probe['pattern'], probe['body_via_fts5'],
                       probe['body_via_sqlite']))
            for kind in KINDS:
                rep['kinds'][kind]['fts5'] = f5[kind]
            rep['notes'].append('FTS5 stores the text with white space between Chinese characters '
                                'removed (as the truth does), pages separated by a blank line; '
                                'its timings are count(*) plus the top 20 with a snippet (no facets, '
                                'no pages); the "run" kind is a plain phrase there (no near matches).')
            with open(os.path.join(args.workdir, 'report-partial.json'), 'w', encoding='utf-8') as fh:
                json.dump(rep, fh, ensure_ascii=False, indent=1)

        # ---- Groonga
        if not args.no_groonga:
            run_groonga(args, corpus, queries, truth, codes, rep)
    except SetupError as e:
        log('bench: %s' % e)
        return 2

    # Fail on wrong answers of the daemon (or records that did not load, or
    # failed requests), never on timings, nor on FTS5's or Groonga's answers.
    wrong = sum(((rep['kinds'][k].get(m) or {}).get('correct') or {}).get('wrong', 0)
                for k in KINDS for m in modes)
    load_bad = any(p['where'] in ('load', 'latency') for p in rep['problems'])
    rep['host']['loadavg_end'] = list(os.getloadavg())
    rep['ok'] = wrong == 0 and not load_bad
    rep['wrong_answers'] = wrong
    with open(os.path.join(args.workdir, 'report.json'), 'w', encoding='utf-8') as fh:
        json.dump(rep, fh, ensure_ascii=False, indent=1)
    print_report(rep)
    log('report: %s' % os.path.join(args.workdir, 'report.json'))
    return 0 if rep['ok'] else 1


if __name__ == '__main__':
    sys.exit(main())
