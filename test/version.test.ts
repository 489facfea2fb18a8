// The version aenv prints is package.json's, with the commit, the Node.js runtime and the target:
// run from a checkout, the commit is the checkout's HEAD (read from .git without git itself).
// The IBM tools aenv would run follow, one line each.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { expect, it } from 'vitest';
import { hostTarget, VERSION } from '../src/version.js';
import { aenv, ROOT } from './helpers/cli.js';

it('--version names the package version, the checkout commit, Node.js and the target', () => {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
  expect(VERSION).toBe(pkg.version);
  const head = spawnSync('git', ['rev-parse', 'HEAD'], { cwd: ROOT, encoding: 'utf8' });
  const commit = head.status === 0 ? head.stdout.trim() : 'unknown';
  const r = aenv(['--version']);
  expect(r.code).toBe(0);
  const lines = r.stdout.trim().split('\n');
  expect(lines[0]).toBe(`aenv ${pkg.version} (commit ${commit}; Node.js ${process.version}; ${hostTarget()}; run from a checkout)`);
  // then one line per IBM tool (which one aenv would run, or why none)
  expect(lines.slice(1).map((l) => l.split(':')[0])).toEqual(['asunprotect', 'asprotect']);
});
