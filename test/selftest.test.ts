// `aenv selftest` (docs/air-gap.md "Install on the isolated machine"; docs/FORMAT.md "Test
// vectors"): its embedded known answers are exactly the shared test vectors
// (so they cannot drift), it passes from the checkout and from the single binary run alone in
// an empty environment, and it would fail if the crypto gave other answers.

import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { KNOWN_ANSWERS, VECTOR_PASSWORD } from '../src/selftest/vectors.js';
import { BIN, ROOT, VECTORS } from './helpers/cli.js';

const vectors = JSON.parse(readFileSync(path.join(VECTORS, 'vectors.json'), 'utf8')) as { vectors: Record<string, unknown>[] };
const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

describe('aenv selftest', () => {
  it('embeds the shared vectors byte for byte, with their known answers', () => {
    expect(KNOWN_ANSWERS.length).toBe(3);
    for (const k of KNOWN_ANSWERS) {
      const v = vectors.vectors.find((x) => x['file'] === k.file)!;
      expect(Buffer.from(k.envelope, 'base64').equals(readFileSync(path.join(VECTORS, k.file)))).toBe(true);
      expect(k.master).toBe((v['intermediate'] as Record<string, string>)['master']);
      expect(k.plaintextSha256).toBe(v['plaintext_sha256']);
      expect(sha(readFileSync(path.join(VECTORS, String(v['plaintext_file']))))).toBe(k.plaintextSha256);
      expect(v['password']).toBe(VECTOR_PASSWORD);
    }
    // both suites, all three KDFs
    const kinds = KNOWN_ANSWERS.map((k) => /ok-s(\d)-k(\d)/.exec(k.file)!.slice(1).join(''));
    expect(new Set(kinds.map((x) => x[0]))).toEqual(new Set(['1', '2']));
    expect(new Set(kinds.map((x) => x[1]))).toEqual(new Set(['1', '2', '3']));
  });

  it('passes from the checkout: one line per check, exit 0, no file left in the temp folder', () => {
    const before = new Set(existsSync(tmpdir()) ? readdirNames(tmpdir()) : []);
    const r = spawnSync(process.execPath, [BIN, 'selftest'], { encoding: 'utf8', timeout: 60_000 });
    expect(r.status, r.stdout + r.stderr).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines.filter((l) => l.startsWith('ok  '))).toHaveLength(9);
    expect(lines.at(-1)).toMatch(/^selftest: 9 passed, 0 failed in \d+\.\d\d s \(aenv .*, node v\d+/);
    expect(readdirNames(tmpdir()).filter((n) => n.startsWith('aenv-selftest-') && !before.has(n))).toEqual([]);
  });

  it.skipIf(!existsSync(path.join(ROOT, 'dist/aenv')))('passes in the single binary, alone, in an empty environment', () => {
    const cwd = mkdtempSync(path.join(tmpdir(), 'aenv-selftest-bin-'));
    try {
      const r = spawnSync('/usr/bin/env', ['-i', path.join(ROOT, 'dist/aenv'), 'selftest'], { cwd, encoding: 'utf8', timeout: 60_000 });
      expect(r.status, r.stdout + r.stderr).toBe(0);
      expect(r.stdout).toMatch(/round trip, ChaCha20-Poly1305, 3 MiB through the worker threads/);
      expect(r.stdout).toMatch(/selftest: 9 passed, 0 failed/);
    } finally {
      rmSync(cwd, { recursive: true, force: true });
    }
  });
});

function readdirNames(d: string): string[] {
  return readdirSync(d);
}
