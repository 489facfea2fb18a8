// Crypto backend on node:crypto (OpenSSL): AES-256-GCM (NIST SP 800-38D) and
// ChaCha20-Poly1305 (RFC 8439) with 16-byte tags, SHA-256, HMAC, HKDF (RFC 5869),
// scrypt (RFC 7914) and PBKDF2 (RFC 8018). Node 20 has no Argon2: that one comes from
// @noble/hashes (RFC 9106), as in the noble backend.

import * as nc from 'node:crypto';
import { KDF_ARGON2ID, KDF_PBKDF2, KDF_SCRYPT, SUITE_AES_256_GCM, TAG_LEN, type SuiteId } from '../format/constants.js';
import type { KdfParams } from '../format/kdf-params.js';
import type { Aead, Backend, Hash } from './backend.js';

function cipherName(suite: SuiteId): nc.CipherGCMTypes | nc.CipherChaCha20Poly1305Types {
  return suite === SUITE_AES_256_GCM ? 'aes-256-gcm' : 'chacha20-poly1305';
}

class NodeAead implements Aead {
  private readonly name: nc.CipherGCMTypes | nc.CipherChaCha20Poly1305Types;
  private readonly key: nc.KeyObject;
  constructor(suite: SuiteId, key: Uint8Array) {
    this.name = cipherName(suite);
    this.key = nc.createSecretKey(key);
  }
  seal(nonce: Uint8Array, plaintext: Uint8Array): Uint8Array {
    const c = nc.createCipheriv(this.name as nc.CipherGCMTypes, this.key, nonce, { authTagLength: TAG_LEN });
    const out = Buffer.allocUnsafe(plaintext.length + TAG_LEN);
    let n = plaintext.length ? c.update(plaintext).copy(out, 0) : 0;
    n += c.final().copy(out, n);
    c.getAuthTag().copy(out, n);
    return out;
  }
  open(nonce: Uint8Array, sealed: Uint8Array): Uint8Array | null {
    if (sealed.length < TAG_LEN) return null;
    const ctLen = sealed.length - TAG_LEN;
    const d = nc.createDecipheriv(this.name as nc.CipherGCMTypes, this.key, nonce, { authTagLength: TAG_LEN });
    d.setAuthTag(sealed.subarray(ctLen));
    const pt = ctLen ? d.update(sealed.subarray(0, ctLen)) : Buffer.alloc(0);
    try {
      d.final();
    } catch {
      pt.fill(0);
      return null;
    }
    return pt;
  }
}

export const nodeBackend: Backend = {
  name: 'node',
  aead: (suite, key) => new NodeAead(suite, key),
  sha256(): Hash {
    const h = nc.createHash('sha256');
    return { update: (d) => void h.update(d), digest: () => new Uint8Array(h.digest()) };
  },
  hmacSha256: (key, data) => new Uint8Array(nc.createHmac('sha256', key).update(data).digest()),
  hkdfSha256: (ikm, salt, info, length) => new Uint8Array(nc.hkdfSync('sha256', ikm, salt, info, length)),
  kdf(password: Uint8Array, salt: Uint8Array, p: KdfParams): Promise<Uint8Array> {
    switch (p.kdf) {
      case KDF_SCRYPT: {
        const N = 2 ** p.p1;
        const maxmem = 128 * p.p2 * N * p.p3 + 128 * p.p2 * (N + 2) + 64 * 1024 * 1024;
        return new Promise((resolve, reject) =>
          nc.scrypt(password, salt, 32, { N, r: p.p2, p: p.p3, maxmem }, (err, key) =>
            err ? reject(err) : resolve(new Uint8Array(key))));
      }
      case KDF_ARGON2ID: // imported when needed: it is start-up time every other run would pay
        return import('@noble/hashes/argon2.js').then(({ argon2idAsync }) =>
          argon2idAsync(password, salt, { m: p.p1, t: p.p2, p: p.p3, dkLen: 32, version: 0x13 }));
      case KDF_PBKDF2:
        return new Promise((resolve, reject) =>
          nc.pbkdf2(password, salt, p.p1, 32, 'sha256', (err, key) =>
            err ? reject(err) : resolve(new Uint8Array(key))));
    }
  },
};
