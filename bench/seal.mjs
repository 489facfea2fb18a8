// Envelopes with KDF costs the CLI does not offer (it seals with the spec's defaults only),
// sealed in the bench process with the built checkout's own encoder, streamed in pieces so a
// 1 GiB plaintext is never held in memory; and in-process KDF timings (node backend).

import { randomBytes } from 'node:crypto';
import { closeSync, openSync, readSync, writeSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { join } from 'node:path';
import { MiB, median } from './lib.mjs';

/** The KDF settings the bench uses. The first three are the format's floors (ENVELOPE.md's limits). */
export const KDFS = {
  'pbkdf2-100k': { params: { kdf: 3, p1: 100000, p2: 0, p3: 0 }, label: 'PBKDF2-SHA256 c=100,000 (floor)' },
  'scrypt-14': { params: { kdf: 1, p1: 14, p2: 8, p3: 1 }, label: 'scrypt log2N=14 r=8 p=1 (floor)' },
  'argon2id-min': { params: { kdf: 2, p1: 19456, p2: 2, p3: 1 }, label: 'Argon2id m=19456 KiB t=2 p=1 (floor)' },
  'scrypt-17': { params: { kdf: 1, p1: 17, p2: 8, p3: 1 }, label: 'scrypt log2N=17 r=8 p=1 (default)' },
  'argon2id-64m': { params: { kdf: 2, p1: 65536, p2: 3, p3: 1 }, label: 'Argon2id m=65536 KiB t=3 p=1 (its default)' },
};
export const FLOORS = ['pbkdf2-100k', 'scrypt-14', 'argon2id-min'];

const writeAll = (fd, b) => { for (let off = 0; off < b.length;) off += writeSync(fd, b, off, b.length - off); };

/** Loads the checkout's modules (dist/js); throws with a hint when it is not built. */
export async function sealer(repoRoot, password) {
  const mod = (p) => import(pathToFileURL(join(repoRoot, 'dist/js', p)).href);
  const [{ loadBackend }, { KeyCache, passwordBytes }, { newContext }, { newEncoder }] = await Promise.all([
    mod('crypto/load.js'), mod('crypto/keys.js'), mod('engine/context.js'), mod('engine/aenv.js'),
  ]);
  const node = await loadBackend('node');
  const pw = passwordBytes(password);

  /** Seal `plainPath` (or the bytes `data`) into `outPath` with `params`; suite 1 = AES-256-GCM, 64 KiB chunks. */
  async function seal(outPath, params, { plainPath, data, suite = 1, chunkLog2 = 16 } = {}) {
    const keys = new KeyCache(node, pw);
    const salt = randomBytes(32);
    const ctx = newContext(node, null);
    try {
      const { header, encoder } = newEncoder(ctx, { suite, chunkLog2, params, salt, master: await keys.master(params, salt) });
      const out = openSync(outPath, 'w');
      try {
        writeAll(out, header);
        if (data) for (const b of encoder.push(data)) writeAll(out, b);
        else {
          const fd = openSync(plainPath, 'r');
          try {
            for (;;) {
              const buf = Buffer.allocUnsafe(4 * MiB); // a fresh piece each time: the encoder holds on to what it keeps back
              const n = readSync(fd, buf, 0, buf.length, null);
              if (n === 0) break;
              for (const b of encoder.push(buf.subarray(0, n))) writeAll(out, b);
            }
          } finally { closeSync(fd); }
        }
        for (const b of encoder.end()) writeAll(out, b);
      } finally { closeSync(out); }
    } finally {
      await ctx.pool?.close();
    }
  }

  /** Median wall ms of `n` derivations of `params` in this process (node backend), and the 32-byte key. */
  async function kdfMs(params, n = 3, salt = randomBytes(32)) {
    const ms = [];
    let key;
    for (let i = 0; i < n; i++) {
      const t0 = performance.now();
      key = await node.kdf(pw, salt, params);
      ms.push(performance.now() - t0);
    }
    return { ms: median(ms), samples: ms, key: Buffer.from(key) };
  }

  return { seal, kdfMs };
}
