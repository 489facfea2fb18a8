// The version aenv prints is package.json's.
import { readFileSync } from 'node:fs';
import { expect, it } from 'vitest';
import { VERSION } from '../src/version.js';
import { aenv } from './helpers/cli.js';

it('--version prints the package version', () => {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
  expect(VERSION).toBe(pkg.version);
  const r = aenv(['--version']);
  expect(r.code).toBe(0);
  expect(r.stdout.trim()).toBe(pkg.version);
});
