// The version aenv prints is package.json's (first line of --version; the IBM tools follow).
import { readFileSync } from 'node:fs';
import { expect, it } from 'vitest';
import { VERSION } from '../src/version.js';
import { aenv } from './helpers/cli.js';

it('--version prints the package version', () => {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
  expect(VERSION).toBe(pkg.version);
  const r = aenv(['--version']);
  expect(r.code).toBe(0);
  // the version on the first line; then one line per IBM tool (which one aenv would run, or why none)
  const lines = r.stdout.trim().split('\n');
  expect(lines[0]).toBe(pkg.version);
  expect(lines.slice(1).map((l) => l.split(':')[0])).toEqual(['asunprotect', 'asprotect']);
});
