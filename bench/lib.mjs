// Helpers for bench/bench.mjs: temp-folder choice and cleanup, random data
// generation, SHA-256 of files, and running a child process under
// `/usr/bin/time` to get its wall time, CPU time and peak RSS; medians; text tables.

import { spawn } from 'node:child_process';
import { createHash, randomFillSync, randomInt } from 'node:crypto';
import {
  closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync,
  rmSync, statfsSync, writeSync, createReadStream,
} from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';

export const KiB = 1024;
export const MiB = 1024 * KiB;
export const GiB = 1024 * MiB;

/** GNU time, for the child's peak RSS (ru_maxrss of the waited-for child, in KiB). */
export const TIME_BIN = existsSync('/usr/bin/time') ? '/usr/bin/time' : null;

/**
 * Pick a temp root: /dev/shm (tmpfs) when it has room for `needBytes` (and the
 * RAM to back it), else os.tmpdir() when that has room. Returns null if neither does.
 */
export function pickTmpRoot(needBytes) {
  const free = (dir) => {
    try { const s = statfsSync(dir); return s.bavail * s.bsize; } catch { return -1; }
  };
  const headroom = 1 * GiB; // for the processes themselves
  if (existsSync('/dev/shm') && free('/dev/shm') >= needBytes + 64 * MiB && os.freemem() >= needBytes + headroom) {
    return { root: '/dev/shm', tmpfs: true };
  }
  const t = os.tmpdir();
  if (free(t) >= needBytes + 64 * MiB) return { root: t, tmpfs: false };
  return null;
}

// ---- temp folder and child-process bookkeeping, so SIGINT cleans up ----

let tmpDir = null;
const children = new Set();
const hooks = [];

/** Run `fn` (synchronous, best effort) at cleanup, before the temp folder goes (e.g. stop a gpg-agent). */
export function onCleanup(fn) {
  hooks.push(fn);
}

export function makeTmpDir(root) {
  tmpDir = mkdtempSync(join(root, 'aenv-bench-'));
  return tmpDir;
}

/** Stop children and run the cleanup hooks; remove the temp folder unless keepTmp. */
export function cleanup({ keepTmp = false } = {}) {
  for (const c of children) killGroup(c);
  children.clear();
  for (const fn of hooks.splice(0)) {
    try { fn(); } catch { /* best effort */ }
  }
  if (tmpDir && !keepTmp) {
    try { rmSync(tmpDir, { recursive: true, force: true }); } catch { /* best effort */ }
    tmpDir = null;
  }
}

function killGroup(child) {
  // children are spawned detached, so each is the leader of its own process group:
  // killing -pid also stops a shell loop's current `age`.
  try { process.kill(-child.pid, 'SIGKILL'); } catch { /* already gone */ }
}

export function installSignalCleanup(log) {
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
    process.on(sig, () => {
      log(`\n${sig}: stopping, removing temp data`);
      cleanup();
      process.exit(sig === 'SIGINT' ? 130 : 143);
    });
  }
  process.on('exit', cleanup);
}

// ---- data ----

/** Write `bytes` random bytes to `path`; returns the SHA-256 hex of what was written. */
export function writeRandomFile(path, bytes) {
  const h = createHash('sha256');
  const buf = Buffer.allocUnsafe(Math.min(bytes, 4 * MiB) || 1);
  const fd = openSync(path, 'w');
  try {
    let left = bytes;
    while (left > 0) {
      const n = Math.min(left, buf.length);
      const part = n === buf.length ? buf : buf.subarray(0, n);
      randomFillSync(part);
      h.update(part);
      let off = 0;
      while (off < n) off += writeSync(fd, part, off, n - off);
      left -= n;
    }
  } finally {
    closeSync(fd);
  }
  return h.digest('hex');
}

/** `count` files of random size in [minBytes, maxBytes] in `dir`; returns Map name -> sha256. */
export function writeSmallFiles(dir, count, minBytes, maxBytes) {
  mkdirSync(dir, { recursive: true });
  const sums = new Map();
  let total = 0;
  const width = String(count).length;
  for (let i = 0; i < count; i++) {
    const size = randomInt(minBytes, maxBytes + 1);
    const name = `f${String(i).padStart(width, '0')}.bin`;
    sums.set(name, writeRandomFile(join(dir, name), size));
    total += size;
  }
  return { sums, total };
}

export function sha256File(path) {
  return new Promise((resolve, reject) => {
    const h = createHash('sha256');
    createReadStream(path, { highWaterMark: 1 * MiB })
      .on('data', (d) => h.update(d))
      .on('error', reject)
      .on('end', () => resolve(h.digest('hex')));
  });
}

/** Every regular file below `dir` (recursive), as absolute paths. */
export function walkFiles(dir) {
  const out = [];
  if (!existsSync(dir)) return out;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...walkFiles(p));
    else if (e.isFile()) out.push(p);
  }
  return out;
}

/**
 * Compare decrypted files in `outDir` (found by base name, anywhere below it)
 * with the expected Map name -> sha256. Returns null if all match, else a message.
 */
export async function checkTree(outDir, expected) {
  const found = new Map();
  for (const p of walkFiles(outDir)) found.set(p.slice(p.lastIndexOf('/') + 1), p);
  let missing = 0, bad = 0, firstBad = null;
  for (const [name, sum] of expected) {
    const p = found.get(name);
    if (!p) { missing++; firstBad ??= `${name} missing`; continue; }
    if ((await sha256File(p)) !== sum) { bad++; firstBad ??= `${name} differs`; }
  }
  if (missing || bad) return `${missing} missing, ${bad} differ (first: ${firstBad})`;
  return null;
}

// ---- running a child ----

/** CPU seconds spent by the whole machine so far (all cores, /proc/stat), or null off Linux. */
export function machineCpuSeconds() {
  try {
    const f = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0].trim().split(/\s+/).slice(1).map(Number);
    // user nice system idle iowait irq softirq steal: count everything but idle and iowait
    return (f[0] + f[1] + f[2] + f[5] + f[6] + (f[7] || 0)) / 100; // USER_HZ is 100 on Linux
  } catch { return null; }
}

/**
 * Run argv[0] with argv[1..] under /usr/bin/time (when present). Resolves to
 * { code, signal, timedOut, wall (s, from hrtime), rssKiB, cpu (user+sys s), othersCpu (CPU s the
 * rest of the machine used meanwhile), stdout, stderr }.
 * The child gets its own process group so a timeout or SIGINT can kill all of it.
 */
export function run(argv, { timeoutS = 300, env = process.env, cwd, captureStdout = false, statDir, nice = null, stdinFile = null } = {}) {
  const statFile = TIME_BIN && statDir ? join(statDir, `.time-${process.pid}-${Math.random().toString(36).slice(2)}`) : null;
  const timed = statFile ? [TIME_BIN, '-f', '%e %M %U %S', '-o', statFile, ...argv] : argv;
  // Linux autogroups: each detached child is a new session with its own scheduling group, where a
  // plain `nice` changes nothing against other sessions; so the child sets its autogroup's nice first.
  const full = nice != null
    ? ['sh', '-c', 'echo "$0" > /proc/self/autogroup 2>/dev/null; exec nice -n "$0" "$@"', String(nice), ...timed]
    : timed;
  return new Promise((resolve) => {
    const cpu0 = machineCpuSeconds();
    const t0 = process.hrtime.bigint();
    let child, stdin = 'ignore';
    try {
      if (stdinFile) stdin = openSync(stdinFile, 'r');
      child = spawn(full[0], full.slice(1), {
        cwd, env, detached: true, stdio: [stdin, captureStdout ? 'pipe' : 'ignore', 'pipe'],
      });
    } catch (e) {
      if (typeof stdin === 'number') closeSync(stdin);
      resolve({ code: -1, signal: null, timedOut: false, wall: 0, rssKiB: null, cpu: null, stdout: '', stderr: String(e) });
      return;
    }
    if (typeof stdin === 'number') closeSync(stdin); // the child has its own copy
    children.add(child);
    let stdout = '', stderr = '', timedOut = false;
    child.stdout?.on('data', (d) => { if (stdout.length < 1 * MiB) stdout += d; });
    child.stderr.on('data', (d) => { stderr = (stderr + d).slice(-8192); });
    const timer = setTimeout(() => { timedOut = true; killGroup(child); }, timeoutS * 1000);
    child.on('error', (e) => { stderr += String(e); });
    child.on('close', (code, signal) => {
      const wall = Number(process.hrtime.bigint() - t0) / 1e9;
      clearTimeout(timer);
      children.delete(child);
      let rssKiB = null, cpu = null;
      if (statFile && existsSync(statFile)) {
        // GNU time may put "Command exited with non-zero status N" first; the format line is last.
        const lines = readFileSync(statFile, 'utf8').trim().split('\n');
        const m = /^([\d.]+) (\d+) ([\d.]+) ([\d.]+)$/.exec(lines[lines.length - 1] ?? '');
        if (m) { rssKiB = Number(m[2]); cpu = Number(m[3]) + Number(m[4]); }
        rmSync(statFile, { force: true });
      }
      // CPU time the rest of the machine used meanwhile: other work running makes the figure noisy
      const cpu1 = machineCpuSeconds();
      const othersCpu = cpu0 != null && cpu1 != null && cpu != null ? Math.max(0, cpu1 - cpu0 - cpu) : null;
      resolve({ code, signal, timedOut, wall, rssKiB, cpu, othersCpu, stdout, stderr });
    });
  });
}

/** Is `name` an executable on PATH? */
export function onPath(name) {
  for (const d of (process.env.PATH ?? '').split(':')) {
    if (d && existsSync(join(d, name))) return join(d, name);
  }
  return null;
}

/** Median of numbers (mean of the middle two for an even count); null for none. */
export function median(xs) {
  const v = xs.filter((x) => x != null).sort((a, b) => a - b);
  if (!v.length) return null;
  const m = v.length >> 1;
  return v.length % 2 ? v[m] : (v[m - 1] + v[m]) / 2;
}

// ---- formatting ----

export const fmtS = (s) => (s == null ? '-' : s < 10 ? s.toFixed(3) : s.toFixed(2));
export const fmtRate = (bytes, s) => (s > 0 && bytes ? (bytes / s / 1e9).toFixed(3) : '-');
export const fmtMiB = (kib) => (kib == null ? 'n/a' : (kib / 1024).toFixed(1));
export const fmtSize = (b) => (b >= GiB && b % GiB === 0 ? `${b / GiB} GiB` : b >= MiB ? `${+(b / MiB).toFixed(1)} MiB` : b >= KiB ? `${+(b / KiB).toFixed(1)} KiB` : `${b} B`);

/** Render rows (arrays of strings) as a left/right-aligned text table; a one-cell row is a heading, printed as is. */
export function table(header, rows, rightAlign = []) {
  const all = [header, ...rows.filter((r) => r.length > 1)];
  const w = header.map((_, i) => Math.max(...all.map((r) => String(r[i] ?? '').length)));
  const line = (r) => (r.length === 1 ? String(r[0])
    : r.map((c, i) => (rightAlign.includes(i) ? String(c ?? '').padStart(w[i]) : String(c ?? '').padEnd(w[i]))).join('  ').trimEnd());
  return [line(header), w.map((n) => '-'.repeat(n)).join('  '), ...rows.map(line)].join('\n');
}

// ---- output folders and checks the rows share ----

/** A before() that gives a fresh, empty folder `path`. */
export const freshDir = (path) => () => { rmSync(path, { recursive: true, force: true }); mkdirSync(path, { recursive: true }); return path; };
export const dropDir = (d) => rmSync(d, { recursive: true, force: true });

/** The one envelope `aenv encrypt FILE -o DIR` wrote (DIR/FILE.aspera-env per CLI.md). */
export function envelopeIn(dir, base) {
  const exact = join(dir, `${base}.aspera-env`);
  if (existsSync(exact)) return exact;
  const found = walkFiles(dir).filter((p) => p.endsWith('.aspera-env'));
  return found.length === 1 ? found[0] : null;
}
export const expectEnvelope = (dir, base) => () => (envelopeIn(dir, base) ? null : `no ${base}.aspera-env in ${dir}`);
export const expectTree = (sums) => async (out) => checkTree(out, sums);
/** A verify() for a folder run: `n` envelopes below `dir`. */
export const expectEnvelopes = (dir, n) => () => {
  const k = walkFiles(dir).filter((p) => p.endsWith('.aspera-env')).length;
  return k === n ? null : `${k} envelopes, expected ${n}`;
};
