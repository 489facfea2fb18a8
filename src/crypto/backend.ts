// The small interface every crypto backend implements: the AEADs of AENV/1 (AES-256-GCM,
// NIST SP 800-38D; ChaCha20-Poly1305, RFC 8439), SHA-256 (FIPS 180-4), HMAC-SHA256 (RFC 2104),
// HKDF-SHA256 (RFC 5869) and the password KDFs (scrypt RFC 7914, Argon2id RFC 9106,
// PBKDF2-HMAC-SHA256 RFC 8018). Two implementations: node.ts (OpenSSL, fast) and noble.ts
// (pure JS, the independent cross-check). One test suite runs against both.

import type { SuiteId } from '../format/constants.js';
import type { KdfParams } from '../format/kdf-params.js';

export interface Aead {
  /**
   * Seals `plaintext` into `out` (plaintext.length + 16 bytes: ciphertext || tag). `out` may
   * start at the same byte as `plaintext` (sealing in place).
   */
  sealInto(nonce: Uint8Array, plaintext: Uint8Array, out: Uint8Array): void;
  /**
   * Opens `sealed` (ciphertext || 16-byte tag) into `out` (sealed.length - 16 bytes), which may
   * start at or before `sealed`'s first byte (opening in place). Returns false when the tag does
   * not verify; `out` then holds zeros, never unverified plaintext.
   */
  openInto(nonce: Uint8Array, sealed: Uint8Array, out: Uint8Array): boolean;
}

export interface Hash {
  update(data: Uint8Array): void;
  digest(): Uint8Array;
}

export interface Backend {
  readonly name: BackendName;
  /**
   * Whether blocks of chunks may be opened and sealed on worker threads that load this same
   * backend (node:crypto: yes, and it pays; the pure-JS cross-check stays on the calling thread).
   */
  readonly threads: boolean;
  aead(suite: SuiteId, key: Uint8Array): Aead;
  sha256(): Hash;
  hmacSha256(key: Uint8Array, data: Uint8Array): Uint8Array;
  hkdfSha256(ikm: Uint8Array, salt: Uint8Array, info: Uint8Array, length: number): Uint8Array;
  /** The 32-byte master key. Parameters must already be within the limits. */
  kdf(password: Uint8Array, salt: Uint8Array, params: KdfParams): Promise<Uint8Array>;
}

export type BackendName = 'node' | 'noble';
export const BACKEND_NAMES: readonly BackendName[] = ['node', 'noble'];
