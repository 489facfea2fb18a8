// `aenv verify` and `aenv inspect` from the outside (docs/CLI.md "Commands"; docs/FORMAT.md
// "Decoding a file", steps 1-11): keyed verify runs every step (the content digest included, so a damaged trailer is
// corrupt here though decrypt calls it ok), passwordless verify checks structure and digest,
// the summary says which kind ran, verify writes nothing and never prompts unless asked;
// inspect shows header fields, sizes, chunk count and the batch id (salt prefix), the same for
// files sealed in one run and different across runs, as text and JSON.

import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { aenv, jsonLines, PASSWORD, tempDir } from './helpers/cli.js';
import { BAD, buildTree, listTree, PLAIN, WARN, type Tree } from './helpers/tree.js';

vi.setConfig({ testTimeout: 30_000 });

const tmp = tempDir('aenv-verify-');
let t: Tree;

beforeAll(() => {
  t = buildTree(path.join(tmp.dir, 'tree'));
}, 60_000);
afterAll(() => tmp.cleanup());

const statuses = (out: string, src: string) =>
  Object.fromEntries(jsonLines(out).filter((r) => 'path' in r).map((r) => [path.relative(src, r['path'] as string), r['status']]));

function expected(kind: 'verify' | 'nopw'): Record<string, string> {
  const want: Record<string, string> = {};
  for (const g of Object.keys(PLAIN)) want[`${g}.aspera-env`] = 'ok';
  for (const [b, s] of Object.entries(BAD)) want[b] = s[kind];
  want[WARN] = 'corrupt'; // verify checks the digest: a damaged trailer is damage (step 11)
  return want;
}

describe('verify', () => {
  it('keyed: every step of FORMAT.md, digest included; summary says keyed; nothing written', () => {
    const before = listTree(t.base);
    const r = aenv(['verify', t.src, '--json', '--password-file', t.pw]);
    expect(r.code).toBe(1);
    expect(statuses(r.stdout, t.src)).toEqual(expected('verify'));
    const rows = jsonLines(r.stdout);
    expect(rows[rows.length - 1]).toMatchObject({ summary: { verify: 'keyed', ok: Object.keys(PLAIN).length + 3, failed: 8 } });
    // bad-chunk-bitflip-digest-fixed passes the passwordless check; only the keys catch it
    expect(rows.find((x) => String(x['path']).endsWith('digest-fixed.aspera-env'))).toMatchObject({ status: 'corrupt', chunk: 1 });
    expect(listTree(t.base)).toEqual(before);
  });

  it('passwordless: structure and content digest only; summary says passwordless and what that proves', () => {
    const before = listTree(t.base);
    const r = aenv(['verify', t.src, '--json']);
    expect(r.code).toBe(1);
    expect(statuses(r.stdout, t.src)).toEqual(expected('nopw'));
    const rows = jsonLines(r.stdout);
    expect(rows[rows.length - 1]).toMatchObject({ summary: { verify: 'passwordless' } });
    expect(String(rows.find((x) => String(x['path']).endsWith('a.txt.aspera-env'))!['detail'])).toMatch(/not authenticated/);
    const h = aenv(['verify', t.src]);
    expect(h.stderr).toMatch(/^verify \(passwordless\): \d+ files/m);
    expect(h.stderr).toMatch(/passwordless check: structure and content digest only/);
    expect(h.stderr).toMatch(/give a password for the full check/);
    expect(listTree(t.base)).toEqual(before);
  });

  it('the human summary of a keyed run says keyed; all ok gives exit 0', () => {
    const r = aenv(['verify', path.join(t.src, 'ünï'), path.join(t.src, 'sub', 'deep', 'deeper')], { env: { ASPERA_SCP_FILEPASS: PASSWORD } });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.trim().split('\n').length).toBe(3);
    expect(r.stdout).toMatch(/^ok +\S*c\.bin\.aspera-env: all 2 chunks authenticated and content digest matches$/m);
    expect(r.stderr).toMatch(/^verify: 3 files/m);
    expect(r.stderr).toMatch(/all ok; keyed check/);
    expect(r.stdout + r.stderr).not.toContain(PASSWORD);
  });

  it('files sealed in one run cost one key derivation, even with --jobs 4 (the run\'s KDF cache)', () => {
    // Bug guarded: parallel jobs each deriving the same master key (N KDFs instead of one).
    const dirs = ['odd', 'ünï', 'sub/deep/deeper'].map((d) => path.join(t.src, d));
    const r = aenv(['verify', ...dirs, path.join(t.src, 'a.txt.aspera-env'), path.join(t.src, 'empty.txt.aspera-env'), '--jobs', '4', '--json', '--password-file', t.pw]);
    expect(r.code, r.stderr).toBe(0);
    const rows = jsonLines(r.stdout);
    const n = Object.keys(PLAIN).filter((p) => /^(odd\/|ünï\/|sub\/deep\/deeper\/|a\.txt$|empty)/.test(p)).length + 1; // + odd/.aspera-env
    expect(rows.length).toBe(n + 1);
    expect(rows[rows.length - 1]).toMatchObject({ summary: { ok: n, key_derivations: 1 } });
    // a second salt (another run) costs a second one, and no more
    const two = aenv(['decrypt', path.join(t.src, 'a.txt.aspera-env'), path.join(t.src, 'sub', 'other.txt.aspera-env'), path.join(t.src, 'sub', 'b.csv.aspera-env'),
      '-o', path.join(tmp.dir, 'kdf-out'), '--jobs', '3', '--json', '--password-file', t.pw]);
    expect(jsonLines(two.stdout).pop()).toMatchObject({ summary: { ok: 2, failed: 1, key_derivations: 2 } });
  });

  it('a wrong password makes every good file wrong-password and the others keep their verdicts', () => {
    const r = aenv(['verify', t.src, '--json', '--password-file', t.otherPw]);
    expect(r.code).toBe(1);
    const st = statuses(r.stdout, t.src);
    expect(st['a.txt.aspera-env']).toBe('wrong-password');
    expect(st['sub/other.txt.aspera-env']).toBe('ok');
    expect(st['x.aspera-env']).toBe('not-envelope');
    expect(st['bad-version-2.aspera-env']).toBe('unsupported');
  });

  it('never prompts unless asked; --password-prompt without a terminal is a usage error', () => {
    // stdin is a pipe here; the run must not wait for it (spawnSync would time out).
    const r = aenv(['verify', path.join(t.src, 'a.txt.aspera-env')]);
    expect(r.code).toBe(0);
    const p = aenv(['verify', path.join(t.src, 'a.txt.aspera-env'), '--password-prompt']);
    expect(p.code).toBe(2);
    expect(p.stderr).toMatch(/--password-prompt needs a terminal/);
  });

  it('--quiet prints only failures and one summary line (issue 22: it was none)', () => {
    const r = aenv(['verify', t.src, '--quiet', '--password-file', t.pw]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).not.toMatch(/^ok /m);
    expect(r.stderr).toMatch(/^corrupt /m);
    expect(r.stderr).not.toMatch(/^ +\d+ failed|all ok/m);
    expect(r.stderr.match(/^verify: /gm)).toHaveLength(1);
    expect(r.stderr).toMatch(/\nverify: \d+ files, [^\n]*: \d+ ok, [^\n]*corrupt[^\n]*\n$/);
  });
});

describe('inspect', () => {
  it('--json: kdf_params under the KDF\'s own names, as the human form says them (issue 22: p1, p2, p3)', () => {
    const d = path.join(t.base, 'kdfs');
    mkdirSync(d, { recursive: true });
    const names: Record<string, string> = {};
    for (const kdf of ['scrypt', 'argon2id', 'pbkdf2']) {
      writeFileSync(path.join(d, `${kdf}.txt`), kdf);
      expect(aenv(['encrypt', path.join(d, `${kdf}.txt`), '--kdf', kdf, '--password-file', t.pw, '-q']).code).toBe(0);
      const j = JSON.parse(aenv(['inspect', path.join(d, `${kdf}.txt.aspera-env`), '--json']).stdout) as Record<string, unknown>;
      names[kdf] = JSON.stringify(j['kdf_params']) + ' ' + String(j['kdf_text']);
    }
    expect(names['scrypt']).toBe('{"log2n":17,"r":8,"p":1} scrypt(log2N=17, r=8, p=1)');
    expect(names['argon2id']).toMatch(/^\{"m_kib":65536,"t":3,"p":1\} argon2id\(m=65536 KiB, t=3, p=1\)$/);
    expect(names['pbkdf2']).toBe('{"iterations":600000} pbkdf2-sha256(iterations=600000)');
  });

  it('report prints its counts as the other commands do, 1234 not 1,234 (issue 22)', () => {
    const rows = Array.from({ length: 1234 }, (_, i) => JSON.stringify({ path: `f${i}.aspera-env`, output: `f${i}`, status: 'ok', bytes: 1, detail: 'decrypted' }));
    rows.push(JSON.stringify({ summary: { ok: 1234, failed: 0, skipped: 0, bytes: 1234, seconds: 1, finished: '2026-12-05T00:00:00Z', by_status: { ok: 1234 }, exit_status: 0 } }));
    const f = path.join(t.base, 'report.jsonl');
    writeFileSync(f, rows.join('\n') + '\n');
    const r = aenv(['report', f]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^report: 1 report, 1234 files, /);
    expect(r.stdout).toMatch(/^ +ok +1234$/m);
    expect(r.stdout).not.toMatch(/\d,\d{3}/);
  });

  it('human: header fields, sizes, chunk count, batch id; no password needed', () => {
    const f = path.join(t.src, 'sub', 'deep', 'deeper', 'c.bin.aspera-env');
    const r = aenv(['inspect', f]);
    expect(r.code, r.stderr).toBe(0);
    const size = readFileSync(f).length;
    expect(r.stdout).toContain(`${f}: ok`);
    expect(r.stdout).toMatch(new RegExp(`^ +size +${size} bytes$`, 'm'));
    expect(r.stdout).toMatch(/^ +format +AENV\/1$/m);
    expect(r.stdout).toMatch(/^ +suite +aes-256-gcm$/m);
    expect(r.stdout).toMatch(/^ +kdf +pbkdf2\S*600000/m);
    expect(r.stdout).toMatch(/^ +chunk size +65536$/m);
    expect(r.stdout).toMatch(/^ +chunks +2$/m);
    expect(r.stdout).toMatch(/^ +plaintext +70000 bytes$/m);
    expect(r.stdout).toMatch(/^ +batch id +[0-9a-f]{16} .*sealed in one run/m);
  });

  it('--json: one object per file; batch id equal within a run, different across runs', () => {
    const other = path.join(tmp.dir, 'run2');
    mkdirSync(other);
    writeFileSync(path.join(other, 'z.txt'), 'sealed in another run\n');
    const e = aenv(['encrypt', other, '--kdf', 'pbkdf2', '--suite', 'chacha20-poly1305', '--chunk-size', '4K', '--password-file', t.pw]);
    expect(e.code, e.stderr).toBe(0);
    const files = [path.join(t.src, 'a.txt.aspera-env'), path.join(t.src, 'sub', 'b.csv.aspera-env'), path.join(t.base, 'outside', 'o.txt.aspera-env'), path.join(other, 'z.txt.aspera-env')];
    const r = aenv(['inspect', '--json', ...files]);
    expect(r.code, r.stderr).toBe(0);
    const rows = jsonLines(r.stdout);
    expect(rows.length).toBe(4);
    const ids = rows.map((x) => x['batch_id']);
    expect(ids[0]).toMatch(/^[0-9a-f]{16}$/);
    expect(ids[1]).toBe(ids[0]);
    expect(ids[2]).toBe(ids[0]); // two PATHs of one encrypt run: one salt
    expect(ids[3]).not.toBe(ids[0]);
    // the batch id is the salt's first 8 bytes (header offset 24)
    expect(ids[0]).toBe(readFileSync(files[0]!).subarray(24, 32).toString('hex'));
    expect(rows[3]).toMatchObject({ status: 'ok', version: 1, suite: 'chacha20-poly1305', kdf: 'pbkdf2', chunk_size: 4096, chunks: 1, plaintext_bytes: 22 });
    // the content digest shown is the trailer's, i.e. SHA-256 of all but the last 40 bytes
    const bytes = readFileSync(files[3]!);
    expect(rows[3]!['content_digest']).toBe(createHash('sha256').update(bytes.subarray(0, bytes.length - 40)).digest('hex'));
  });

  it('bad files get their status (exit 1), and the rest are still shown', () => {
    const r = aenv(['inspect', '--json', path.join(t.src, 'x.aspera-env'), path.join(t.src, 'bad-version-2.aspera-env'), path.join(t.src, 'a.txt.aspera-env'), path.join(t.src, 'missing.aspera-env')]);
    expect(r.code).toBe(1);
    expect(jsonLines(r.stdout).map((x) => x['status'])).toEqual(['not-envelope', 'unsupported', 'ok', 'io-error']);
    const h = aenv(['inspect', path.join(t.src, 'x.aspera-env')]);
    expect(h.code).toBe(1);
    expect(h.stdout).toMatch(/x\.aspera-env: not-envelope \(no AENV magic/);
  });
});
