// The small interface every crypto backend implements: the AEADs of AENV/1 (AES-256-GCM,
// NIST SP 800-38D; ChaCha20-Poly1305, RFC 8439), SHA-256 (FIPS 180-4), HMAC-SHA256 (RFC 2104),
// HKDF-SHA256 (RFC 5869) and the password KDFs (scrypt RFC 7914, Argon2id RFC 9106,
// PBKDF2-HMAC-SHA256 RFC 8018). Two implementations: node.ts (OpenSSL, fast) and noble.ts
// (pure JS). One test suite runs against both.

import type { SuiteId } from '../format/constants.js';
import type { KdfParams } from '../format/kdf-params.js';

export interface Aead {
  /** ciphertext || 16-byte tag. */
  seal(nonce: Uint8Array, plaintext: Uint8Array): Uint8Array;
  /** The plaintext, or null when the tag does not verify. Never returns unverified bytes. */
  open(nonce: Uint8Array, sealed: Uint8Array): Uint8Array | null;
}

export interface Hash {
  update(data: Uint8Array): void;
  digest(): Uint8Array;
}

export interface Backend {
  readonly name: BackendName;
  aead(suite: SuiteId, key: Uint8Array): Aead;
  sha256(): Hash;
  hmacSha256(key: Uint8Array, data: Uint8Array): Uint8Array;
  hkdfSha256(ikm: Uint8Array, salt: Uint8Array, info: Uint8Array, length: number): Uint8Array;
  /** The 32-byte master key. Parameters must already be within the limits. */
  kdf(password: Uint8Array, salt: Uint8Array, params: KdfParams): Promise<Uint8Array>;
}

export type BackendName = 'node' | 'noble';
export const BACKEND_NAMES: readonly BackendName[] = ['node', 'noble'];
