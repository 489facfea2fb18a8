#!/usr/bin/env node
// `npm run demo`: installs dependencies if needed, builds, and decrypts samples/ (password in
// samples/password.txt) into a temporary folder, then shows what came out and checks the
// envelopes without the password. Works on a fresh clone.

import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';

function run(cmd, args, opts = {}) {
  process.stdout.write(`\n$ ${[cmd === process.execPath ? 'node' : cmd, ...args].join(' ')}\n`);
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit', ...opts });
  if (r.error) throw r.error;
  return r.status ?? 1;
}

function must(code, what) {
  if (code !== 0) {
    process.stderr.write(`demo: ${what} failed (exit ${code})\n`);
    process.exit(1);
  }
}

if (!existsSync(path.join(root, 'node_modules', 'yargs'))) must(run(npm, ['ci', '--no-audit', '--no-fund']), 'npm ci');
must(run(npm, ['run', '--silent', 'build']), 'build');

const out = mkdtempSync(path.join(tmpdir(), 'aenv-demo-'));
const aenv = [path.join('bin', 'aenv.js')];
try {
  must(run(process.execPath, [...aenv, 'inspect', 'samples/manifest.json.aspera-env']), 'inspect');
  must(run(process.execPath, [...aenv, 'verify', 'samples']), 'passwordless verify');
  must(run(process.execPath, [...aenv, 'decrypt', 'samples', '-o', out, '--password-file', 'samples/password.txt']), 'decrypt');
  process.stdout.write(`\nDecrypted into ${out}:\n`);
  const walk = (d) => {
    for (const name of readdirSync(d).sort()) {
      const p = path.join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else {
        process.stdout.write(`\n--- ${path.relative(out, p)} (${statSync(p).size} bytes)\n`);
        process.stdout.write(readFileSync(p, 'utf8').split('\n').slice(0, 6).join('\n') + '\n');
      }
    }
  };
  walk(out);
  process.stdout.write('\nThe same again skips nothing silently: outputs that exist are reported, not replaced:\n');
  const again = run(process.execPath, [...aenv, 'decrypt', 'samples', '-o', out, '--password-file', 'samples/password.txt', '--quiet']);
  process.stdout.write(`(exit status ${again}: 1 because every output already exists; --skip-existing or --force change that)\n`);
} finally {
  rmSync(out, { recursive: true, force: true });
}
