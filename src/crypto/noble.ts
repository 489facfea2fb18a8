// Pure-JS crypto backend on @noble/ciphers and @noble/hashes: AES-256-GCM (NIST SP 800-38D),
// ChaCha20-Poly1305 (RFC 8439), SHA-256 (FIPS 180-4), HMAC (RFC 2104), HKDF (RFC 5869),
// scrypt (RFC 7914), Argon2id v1.3 (RFC 9106), PBKDF2-HMAC-SHA256 (RFC 8018).
// Slower than node.ts; the independent implementation the tests cross-check against, and
// selectable with --backend noble. It runs on the calling thread only.

import { gcm } from '@noble/ciphers/aes.js';
import { chacha20poly1305 } from '@noble/ciphers/chacha.js';
import { argon2idAsync } from '@noble/hashes/argon2.js';
import { hkdf } from '@noble/hashes/hkdf.js';
import { hmac } from '@noble/hashes/hmac.js';
import { pbkdf2Async } from '@noble/hashes/pbkdf2.js';
import { scryptAsync } from '@noble/hashes/scrypt.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { KDF_ARGON2ID, KDF_PBKDF2, KDF_SCRYPT, SUITE_AES_256_GCM, TAG_LEN } from '../format/constants.js';
import type { Backend } from './backend.js';

export const nobleBackend: Backend = {
  name: 'noble',
  threads: false,
  aead(suite, key) {
    const make = suite === SUITE_AES_256_GCM ? gcm : chacha20poly1305;
    const k = Uint8Array.from(key);
    return {
      sealInto(nonce, plaintext, out) {
        out.set(make(k, nonce).encrypt(plaintext));
      },
      openInto(nonce, sealed, out) {
        let pt: Uint8Array;
        try {
          pt = make(k, nonce).decrypt(sealed);
        } catch {
          out.fill(0, 0, Math.max(0, sealed.length - TAG_LEN));
          return false;
        }
        out.set(pt);
        return true;
      },
    };
  },
  sha256() {
    const h = sha256.create();
    return { update: (d) => void h.update(d), digest: () => h.digest() };
  },
  hmacSha256: (key, data) => hmac(sha256, key, data),
  hkdfSha256: (ikm, salt, info, length) => hkdf(sha256, ikm, salt, info, length),
  kdf(password, salt, p) {
    switch (p.kdf) {
      case KDF_SCRYPT:
        return scryptAsync(password, salt, { N: 2 ** p.p1, r: p.p2, p: p.p3, dkLen: 32, maxmem: 2 ** 31 });
      case KDF_ARGON2ID:
        return argon2idAsync(password, salt, { m: p.p1, t: p.p2, p: p.p3, dkLen: 32, version: 0x13 });
      case KDF_PBKDF2:
        return pbkdf2Async(sha256, password, salt, { c: p.p1, dkLen: 32 });
    }
  },
};
