// A realistic tree of envelopes for the CLI scenario tests, built with the real `aenv encrypt`
// (one run, one salt, one PBKDF2 derivation) plus copies of the bad test vectors, a plaintext
// named like an envelope, a file sealed under another password, nested folders, unicode and
// odd names, names that would decrypt to `.`, `..` or nothing, and symbolic links pointing
// into the tree, out of it, nowhere, and back up (a loop).
//
//   BASE/pw.txt, BASE/other-pw.txt
//   BASE/outside/o.txt.aspera-env              (sealed in the same run; reached only by links)
//   BASE/src/...                               (the tree; see PLAIN, BAD and buildTree)

import { copyFileSync, mkdirSync, readdirSync, lstatSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { aenv, passwordFile, VECTORS } from './cli.js';

/** Plaintexts sealed with the right password: path under src/ (without extension) -> content. */
export const PLAIN: Record<string, string | Buffer> = {
  'a.txt': 'alpha\n',
  'empty.txt': '',
  'sub/b.csv': 'id,name\n1,bravo\n',
  'sub/deep/deeper/c.bin': Buffer.alloc(70_000, 7), // two chunks at the default 64 KiB
  'ünï/ñ 日本.txt': 'unicode\n',
  'ünï/cafe\u0301.txt': 'NFD name, kept as it is\n',
  "odd/with space 'single' \"double\".txt": 'quotes\n',
  'odd/-dash.txt': 'leading dash\n',
  'odd/--force.txt': 'looks like a flag\n',
  'odd/#hash;semi&amp$dollar.txt': 'shell characters\n',
  'odd/new\nline\ttab.txt': 'control characters in the name\n',
};

/** Files under src/ that are not good envelopes of the right password, and what decrypt says. */
export const BAD: Record<string, { decrypt: string; verify: string; nopw: string }> = {
  'sub/other.txt.aspera-env': { decrypt: 'wrong-password', verify: 'wrong-password', nopw: 'ok' },
  'sub/bad-chunk-bitflip.aspera-env': { decrypt: 'corrupt', verify: 'corrupt', nopw: 'corrupt' },
  'sub/deep/bad-truncated-no-trailer.aspera-env': { decrypt: 'corrupt', verify: 'corrupt', nopw: 'corrupt' },
  'bad-chunk-bitflip-digest-fixed.aspera-env': { decrypt: 'corrupt', verify: 'corrupt', nopw: 'ok' },
  'bad-version-2.aspera-env': { decrypt: 'unsupported', verify: 'unsupported', nopw: 'unsupported' },
  'sub/bad-kdf-too-costly.aspera-env': { decrypt: 'unsupported', verify: 'unsupported', nopw: 'unsupported' },
  'x.aspera-env': { decrypt: 'not-envelope', verify: 'not-envelope', nopw: 'not-envelope' },
  // good envelopes whose names leave no usable output name: `.`, `..`, nothing
  '..aspera-env': { decrypt: 'io-error', verify: 'ok', nopw: 'ok' },
  '...aspera-env': { decrypt: 'io-error', verify: 'ok', nopw: 'ok' },
  'odd/.aspera-env': { decrypt: 'io-error', verify: 'ok', nopw: 'ok' },
};

/** ok with a warning on decrypt (damaged trailer only), corrupt for verify. */
export const WARN = 'warn-trailer-digest.aspera-env';
export const WARN_PLAIN = readFileSync(path.join(VECTORS, 'warn-trailer-digest.plain'));

export interface Tree {
  base: string;
  src: string;
  pw: string;
  otherPw: string;
}

export function buildTree(base: string): Tree {
  const src = path.join(base, 'src');
  const outside = path.join(base, 'outside');
  mkdirSync(base, { recursive: true });
  const pw = passwordFile(base);
  const otherPw = path.join(base, 'other-pw.txt');
  writeFileSync(otherPw, 'a different password\n');
  for (const [rel, body] of Object.entries(PLAIN)) {
    mkdirSync(path.dirname(path.join(src, rel)), { recursive: true });
    writeFileSync(path.join(src, rel), body);
  }
  mkdirSync(outside, { recursive: true });
  writeFileSync(path.join(outside, 'o.txt'), 'outside the tree\n');
  // One run over both folders: one salt, one KDF.
  const r = aenv(['encrypt', src, outside, '--kdf', 'pbkdf2', '--password-file', pw, '--remove-source', '--quiet']);
  if (r.code !== 0) throw new Error(`encrypt failed: ${r.stderr}`);
  // Sealed under another password (a separate run, so also another salt).
  writeFileSync(path.join(base, 'other.txt'), 'other password\n');
  const o = aenv(['encrypt', path.join(base, 'other.txt'), '-o', path.join(src, 'sub'), '--kdf', 'pbkdf2', '--password-file', otherPw, '--quiet']);
  if (o.code !== 0) throw new Error(`encrypt (other) failed: ${o.stderr}`);
  for (const rel of Object.keys(BAD)) {
    const dest = path.join(src, rel);
    const name = path.basename(rel);
    if (rel === 'sub/other.txt.aspera-env') continue;
    if (rel === 'x.aspera-env') writeFileSync(dest, 'plaintext left by an HTTP fallback upload\n');
    else if (name.startsWith('.')) copyFileSync(path.join(src, 'a.txt.aspera-env'), dest);
    else copyFileSync(path.join(VECTORS, name), dest);
  }
  copyFileSync(path.join(VECTORS, WARN), path.join(src, WARN));
  writeFileSync(path.join(src, 'notes.txt'), 'not an envelope name: never picked\n');
  // a named pipe with an envelope's name: opening it would block for ever, so it is never taken
  if (spawnSync('mkfifo', [path.join(src, 'sub', 'fifo.aspera-env')]).status !== 0) throw new Error('mkfifo failed');
  symlinkSync('a.txt.aspera-env', path.join(src, 'link-in.aspera-env')); // into the tree
  symlinkSync('../outside/o.txt.aspera-env', path.join(src, 'link-out.aspera-env')); // out of it
  symlinkSync('nowhere.aspera-env', path.join(src, 'dangling.aspera-env'));
  symlinkSync('../../outside', path.join(src, 'sub', 'dirlink')); // a folder out of the tree
  symlinkSync('..', path.join(src, 'sub', 'deep', 'loop')); // back up: a loop when followed
  return { base, src, pw, otherPw };
}

/** Every entry under dir as relative paths (links not followed), folders with a trailing /. */
export function listTree(dir: string): string[] {
  const out: string[] = [];
  const rec = (rel: string): void => {
    for (const name of readdirSync(path.join(dir, rel)).sort()) {
      const r = rel ? `${rel}/${name}` : name;
      const st = lstatSync(path.join(dir, r));
      if (st.isDirectory()) {
        out.push(`${r}/`);
        rec(r);
      } else {
        out.push(st.isSymbolicLink() ? `${r}@` : r);
      }
    }
  };
  rec('');
  return out;
}

/** Files (not folders) of a listing, without links. */
export function filesOf(listing: string[]): string[] {
  return listing.filter((p) => !p.endsWith('/') && !p.endsWith('@'));
}
