// No socket is opened by aenv's foreign-envelope path: runTool (bundled from src/foreign with
// esbuild, as the single binary bundles it) drives the stand-in asunprotect under
// `strace -f -e trace=socket,connect,socketpair`, which follows aenv into the tool and its
// helpers: no socket() or connect() at all; the only socketpair() calls are libuv's AF_UNIX
// pairs that carry the tool's standard output and error. The CLI-level strace proof (binary.test.ts) takes
// over once the feature is wired into the engine.

import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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
});
