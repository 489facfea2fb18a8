// Tests the single executable dist/aenv (made by `npm run build:bin`): copied
// alone into an empty temp folder and run with an empty environment, it prints
// its version and round-trips a file through encrypt -> verify -> decrypt; the
// same commands under `strace -f -e trace=socket,connect` open no socket.
// Skipped (with the reason in its name) when dist/aenv has not been built.
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { copyFileSync, chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const BINARY = join(ROOT, 'dist', 'aenv');
const STRACE = '/usr/bin/strace';
const VERSION: string = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).version;
const built = existsSync(BINARY);

/** strace present and allowed to trace here (ptrace may be forbidden in a sandbox). */
function straceUsable(): boolean {
  if (!existsSync(STRACE)) return false;
  return spawnSync(STRACE, ['-f', '-o', '/dev/null', '/bin/true']).status === 0;
}
const canStrace = built && straceUsable();

describe.skipIf(!built)(`single executable dist/aenv${built ? '' : ' (SKIPPED: dist/aenv not built; run `npm run build:bin`)'}`, () => {
  let dir = '';
  let bin = '';

  /** Runs `env -i [prefix...] ./aenv args` in the temp folder. */
  function run(args: string[], prefix: string[] = []): SpawnSyncReturns<string> {
    return spawnSync('/usr/bin/env', ['-i', ...prefix, bin, ...args], { cwd: dir, encoding: 'utf8', timeout: 120_000 });
  }

  function ok(r: SpawnSyncReturns<string>, what: string): void {
    expect(r.error, `${what}: ${r.error?.message}`).toBeUndefined();
    expect(r.status, `${what} exited ${r.status ?? r.signal}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`).toBe(0);
  }

  /** encrypt -> verify -> decrypt of a fresh random file in `sub`; returns the commands' results. */
  function roundTrip(sub: string, prefix: string[] = []): void {
    const base = join(dir, sub);
    for (const d of ['in', 'enc', 'out']) mkdirSync(join(base, d), { recursive: true });
    const data = randomBytes(200_000 + Math.floor(Math.random() * 1000));
    writeFileSync(join(base, 'in', 'data.bin'), data);
    writeFileSync(join(base, 'pw'), 'binary test password\n');
    const pw = ['--password-file', `${sub}/pw`];
    ok(run(['encrypt', `${sub}/in/data.bin`, '-o', `${sub}/enc`, ...pw], prefix), 'encrypt');
    const envelope = `${sub}/enc/data.bin.aspera-env`;
    expect(existsSync(join(dir, envelope)), 'encrypt wrote the envelope').toBe(true);
    ok(run(['verify', envelope, ...pw], prefix), 'verify');
    ok(run(['decrypt', envelope, '-o', `${sub}/out`, ...pw], prefix), 'decrypt');
    const back = readFileSync(join(base, 'out', 'data.bin'));
    expect(back.equals(data), 'decrypted bytes equal the original').toBe(true);
  }

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'aenv-binary-test-'));
    bin = join(dir, 'aenv');
    copyFileSync(BINARY, bin);
    chmodSync(bin, 0o755);
  });

  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('prints its version with an empty environment, away from the checkout', () => {
    const r = run(['--version']);
    ok(r, '--version');
    expect(r.stdout.trim()).toContain(VERSION);
  });

  it('ignores NODE_OPTIONS: nothing in the environment can load code into it (--require)', () => {
    const evil = join(dir, 'evil.cjs');
    writeFileSync(evil, "require('node:fs').writeFileSync(process.env.MARK, 'loaded'); process.exit(42);\n");
    const mark = join(dir, 'mark');
    const r = run(['--version'], [`NODE_OPTIONS=--require ${evil}`, `MARK=${mark}`]);
    ok(r, '--version with NODE_OPTIONS set');
    expect(existsSync(mark)).toBe(false);
    // the same variable does load code into a plain node: the test would notice if it stopped working
    const n = spawnSync(process.execPath, ['-e', '0'], { env: { NODE_OPTIONS: `--require ${evil}`, MARK: mark }, encoding: 'utf8' });
    expect(n.status).toBe(42);
  });

  it('encrypts, verifies and decrypts a file back to the same bytes', { timeout: 180_000 }, () => {
    roundTrip('plain');
  });

  it('a wrong password fails decrypt with a non-zero status and writes no output', { timeout: 120_000 }, () => {
    roundTrip('wp');
    writeFileSync(join(dir, 'wp', 'bad'), 'not the password\n');
    mkdirSync(join(dir, 'wp', 'out2'));
    const r = run(['decrypt', 'wp/enc/data.bin.aspera-env', '-o', 'wp/out2', '--password-file', 'wp/bad']);
    expect(r.status).toBe(1);
    expect(existsSync(join(dir, 'wp', 'out2', 'data.bin'))).toBe(false);
  });

  it.skipIf(!canStrace)(
    `opens no socket: --version, encrypt, verify, decrypt under strace${canStrace ? '' : ` (SKIPPED: ${STRACE} missing or ptrace not allowed)`}`,
    { timeout: 300_000 },
    () => {
      const log = join(dir, 'strace.log');
      const prefix = [STRACE, '-f', '-e', 'trace=socket,connect', '-o', log, '-A'];
      ok(run(['--version'], prefix), '--version under strace');
      roundTrip('traced', prefix);
      const text = readFileSync(log, 'utf8');
      const calls = text.split('\n').filter((l) => /\b(socket|connect)\(/.test(l));
      expect(calls, `socket/connect calls seen by strace:\n${calls.join('\n')}`).toEqual([]);
      // the log is not empty by accident: strace did trace the processes
      expect(text).toMatch(/\+\+\+ exited with 0 \+\+\+/);
    },
  );
});
