// No socket is opened by aenv's foreign-envelope path: runTool (bundled from src/foreign with
// esbuild, as the single binary bundles it) drives the stand-in asunprotect under
// `strace -f -e trace=socket,connect,socketpair`, which follows aenv into the tool and its
// helpers: no socket() or connect() at all; the only socketpair() calls are libuv's AF_UNIX
// pairs that carry the tool's standard output and error. The same holds for aenv itself
// (node bin/aenv.js, built by `npm run build`) decrypting a folder that mixes an AENV/1 envelope
// and foreign envelopes, verifying it, and sealing with `encrypt --format ibm`, all through the
// stand-in: the tool is a separate program aenv starts, and nothing in the run opens a socket.

import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, PASSWORD } from './helpers/cli.js';
import { sealForeign } from './helpers/foreign.js';
import { installStandin, type Standin } from './helpers/standin.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const HAVE_STRACE = spawnSync('strace', ['-V']).status === 0;
let s: Standin;
let dir: string;

beforeAll(() => {
  s = installStandin();
  dir = mkdtempSync(path.join(tmpdir(), 'aenv-nonet-'));
});
afterAll(() => {
  s.cleanup();
  rmSync(dir, { recursive: true, force: true });
});

describe.skipIf(!HAVE_STRACE)('no network (strace; skipped without strace)', { timeout: 60_000 }, () => {
  it('runTool and the tool it drives make no socket or connect call', async () => {
    await build({
      entryPoints: [path.join(ROOT, 'src', 'foreign', 'run-tool.ts')], bundle: true, platform: 'node',
      format: 'esm', outfile: path.join(dir, 'run-tool.mjs'), logLevel: 'silent',
    });
    const plain = path.join(dir, 'data.bin');
    writeFileSync(plain, Buffer.alloc(100_000, 7));
    const env = path.join(dir, 'data.bin.aspera-env');
    expect(s.run('asprotect', env, plain, 'pw').code).toBe(0);
    const driver = path.join(dir, 'driver.mjs');
    const out = path.join(dir, 'out.bin');
    writeFileSync(driver, [
      "import { runTool } from './run-tool.mjs';",
      `const r = await runTool({ tool: ${JSON.stringify(s.asunprotect)}, args: ['-o', ${JSON.stringify(out)}, ${JSON.stringify(env)}],`,
      `  password: 'pw', output: ${JSON.stringify(out)}, inputBytes: 100000 });`,
      'process.stdout.write(JSON.stringify(r));',
    ].join('\n'));
    const log = path.join(dir, 'strace.log');
    const r = spawnSync('strace', ['-f', '-qq', '-e', 'trace=socket,connect,socketpair', '-o', log, process.execPath, driver], { encoding: 'utf8', env: {} });
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ ok: true, code: 0, outputBytes: 100_000 });
    expect(readFileSync(out).equals(Buffer.alloc(100_000, 7))).toBe(true);
    const lines = readFileSync(log, 'utf8').split('\n');
    expect(lines.filter((l) => /\b(socket|connect)\(/.test(l))).toEqual([]);
    // libuv makes the child's stdout/stderr pipes as anonymous AF_UNIX socket pairs: local only.
    const pairs = lines.filter((l) => /\bsocketpair\(/.test(l));
    expect(pairs.length).toBeGreaterThan(0);
    for (const l of pairs) expect(l).toMatch(/socketpair\(AF_UNIX, /);
  });

  it('aenv decrypt, verify and encrypt --format ibm driving the stand-in make no socket or connect call', () => {
    const src = path.join(dir, 'mixed');
    const pw = path.join(dir, 'pw.txt');
    writeFileSync(pw, `${PASSWORD}\n`);
    const plain = path.join(dir, 'plain');
    spawnSync('mkdir', ['-p', src, plain]);
    writeFileSync(path.join(plain, 'p.bin'), Buffer.alloc(50_000, 3));
    writeFileSync(path.join(src, 'a.txt'), 'aenv\n');
    const seal = spawnSync(process.execPath, [BIN, 'encrypt', src, '--kdf', 'pbkdf2', '--password-file', pw, '--remove-source', '-q'], { encoding: 'utf8' });
    expect(seal.status, seal.stderr).toBe(0);
    sealForeign(s, Buffer.alloc(100_000, 7), path.join(src, 'f.bin.aspera-env'), PASSWORD);
    const log = path.join(dir, 'strace-aenv.log');
    const traced = (args: string[]) => {
      const r = spawnSync('strace', ['-f', '-qq', '-e', 'trace=socket,connect,socketpair', '-o', log, process.execPath, BIN, ...args, '--json', '--password-file', pw],
        { encoding: 'utf8', env: { PATH: '/usr/bin:/bin' } });
      const lines = readFileSync(log, 'utf8').split('\n');
      expect(lines.filter((l) => /\b(socket|connect)\(/.test(l)), args.join(' ')).toEqual([]);
      for (const l of lines.filter((x) => /\bsocketpair\(/.test(x))) expect(l).toMatch(/socketpair\(AF_UNIX, /);
      return r;
    };
    const out = path.join(dir, 'mixed-out');
    const d = traced(['decrypt', src, '-o', out, '--asunprotect', s.asunprotect]);
    expect(d.status, d.stderr).toBe(0);
    expect(d.stdout).toMatch(/"path":"[^"]*f\.bin\.aspera-env"[^\n]*"status":"ok"[^\n]*"via":"asunprotect"/);
    expect(readFileSync(path.join(out, 'f.bin')).equals(Buffer.alloc(100_000, 7))).toBe(true);
    expect(readFileSync(path.join(out, 'a.txt'), 'utf8')).toBe('aenv\n');
    const v = traced(['verify', src, '--asunprotect', s.asunprotect]);
    expect(v.status, v.stderr).toBe(0);
    const e = traced(['encrypt', plain, '-o', path.join(dir, 'ibm'), '--format', 'ibm', '--asprotect', s.asprotect]);
    expect(e.status, e.stderr).toBe(0);
    expect(e.stdout).toMatch(/"via":"asprotect"/);
  });
});
