// Crypto backend on node:crypto (OpenSSL): AES-256-GCM (NIST SP 800-38D) and
// ChaCha20-Poly1305 (RFC 8439) with 16-byte tags, SHA-256 (FIPS 180-4), HMAC (RFC 2104),
// HKDF (RFC 5869), scrypt (RFC 7914), PBKDF2 (RFC 8018) and, where the runtime has it
// (Node.js >= 24.7: crypto.argon2), Argon2id v1.3 (RFC 9106); older runtimes take Argon2id
// from @noble/hashes.

import * as nc from 'node:crypto';
import { KDF_ARGON2ID, KDF_PBKDF2, KDF_SCRYPT, SUITE_AES_256_GCM, TAG_LEN, type SuiteId } from '../format/constants.js';
import type { KdfParams } from '../format/kdf-params.js';
import type { Aead, Backend, Hash } from './backend.js';

type CipherName = 'aes-256-gcm' | 'chacha20-poly1305';

/**
 * Node's update() allocates a new buffer for every call; over a whole chunk (up to 16 MiB) that
 * allocation costs as much as the cipher. Pieces of this size come from malloc's reused arenas
 * and are copied into place.
 */
const PIECE = 64 * 1024;

/** Copies `piece` to out[o...] (never past what the caller sized), returns the next offset. */
function put(out: Uint8Array, o: number, piece: Uint8Array): number {
  out.set(piece, o);
  return o + piece.length;
}

class NodeAead implements Aead {
  private readonly name: CipherName;
  private readonly key: nc.KeyObject;
  constructor(suite: SuiteId, key: Uint8Array) {
    this.name = suite === SUITE_AES_256_GCM ? 'aes-256-gcm' : 'chacha20-poly1305';
    this.key = nc.createSecretKey(key);
  }

  sealInto(nonce: Uint8Array, plaintext: Uint8Array, out: Uint8Array): void {
    // Stryker disable next-line ObjectLiteral: equivalent (16 is the default; pinned anyway), see test/mutation-equivalents.md
    const c = nc.createCipheriv(this.name as nc.CipherGCMTypes, this.key, nonce, { authTagLength: TAG_LEN });
    const n = plaintext.length;
    let o = 0;
    // Stryker disable next-line EqualityOperator: equivalent (one more update of nothing), see test/mutation-equivalents.md
    for (let p = 0; p < n; p += PIECE) o = put(out, o, c.update(plaintext.subarray(p, Math.min(p + PIECE, n))));
    o = put(out, o, c.final());
    out.set(c.getAuthTag(), o);
  }

  openInto(nonce: Uint8Array, sealed: Uint8Array, out: Uint8Array): boolean {
    const n = sealed.length - TAG_LEN;
    if (n < 0) return false;
    // Stryker disable next-line ObjectLiteral: equivalent (the tag is always sliced to 16 bytes), see test/mutation-equivalents.md
    const d = nc.createDecipheriv(this.name as nc.CipherGCMTypes, this.key, nonce, { authTagLength: TAG_LEN });
    // The tag is read before any plaintext is written: opening in place may overwrite it.
    d.setAuthTag(sealed.slice(n));
    let o = 0;
    // Stryker disable next-line EqualityOperator: equivalent (one more update of nothing), see test/mutation-equivalents.md
    for (let p = 0; p < n; p += PIECE) o = put(out, o, d.update(sealed.subarray(p, Math.min(p + PIECE, n))));
    try {
      put(out, o, d.final());
      return true;
    } catch {
      out.fill(0, 0, n);
      return false;
    }
  }
}

type Argon2 = (algorithm: 'argon2id', params: {
  message: Uint8Array; nonce: Uint8Array; parallelism: number; tagLength: number; memory: number; passes: number;
}, callback: (err: Error | null, key: Buffer) => void) => void;
const nativeArgon2 = (nc as unknown as { argon2?: Argon2 }).argon2;

/**
 * Argon2id where node:crypto has none (Node.js before 24): @noble's, imported only when needed
 * (it is start-up time every other run would pay).
 */
// Stryker disable all: not reachable on the pinned Node.js 24 (crypto.argon2 exists), see test/mutation-equivalents.md
function argon2Fallback(password: Uint8Array, salt: Uint8Array, p: KdfParams): Promise<Uint8Array> {
  return import('@noble/hashes/argon2.js').then(({ argon2idAsync }) => argon2idAsync(password, salt, { m: p.p1, t: p.p2, p: p.p3, dkLen: 32, version: 0x13 }));
}
// Stryker restore all

export const nodeBackend: Backend = {
  name: 'node',
  threads: true,
  aead: (suite, key) => new NodeAead(suite, key),
  sha256(): Hash {
    const h = nc.createHash('sha256');
    return { update: (d) => void h.update(d), digest: () => new Uint8Array(h.digest()) };
  },
  hmacSha256: (key, data) => new Uint8Array(nc.createHmac('sha256', key).update(data).digest()),
  hkdfSha256: (ikm, salt, info, length) => new Uint8Array(nc.hkdfSync('sha256', ikm, salt, info, length)),
  kdf(password: Uint8Array, salt: Uint8Array, p: KdfParams): Promise<Uint8Array> {
    return new Promise((resolve, reject) => {
      const done = (err: Error | null, key: Buffer): void => (err ? reject(err) : resolve(new Uint8Array(key)));
      switch (p.kdf) {
        case KDF_SCRYPT: {
          const N = 2 ** p.p1;
          // OpenSSL's own bound, exactly (EVP_PBE_scrypt: B = 128·r·p bytes, V = 128·r·(N + 2)
          // bytes); the format's KDF limits already keep it under about 1 GiB.
          const maxmem = 128 * p.p2 * (N + 2) + 128 * p.p2 * p.p3;
          nc.scrypt(password, salt, 32, { N, r: p.p2, p: p.p3, maxmem }, done);
          return;
        }
        case KDF_ARGON2ID:
          // Stryker disable next-line all: equivalent or not reachable on the pinned Node.js 24 (crypto.argon2 exists), see test/mutation-equivalents.md
          if (!nativeArgon2) return void argon2Fallback(password, salt, p).then(resolve, reject);
          nativeArgon2('argon2id', { message: password, nonce: salt, parallelism: p.p3, tagLength: 32, memory: p.p1, passes: p.p2 }, done);
          return;
        case KDF_PBKDF2:
          nc.pbkdf2(password, salt, p.p1, 32, 'sha256', done);
      }
    });
  },
};
