// KDF parameters of AENV/1 and their limits (docs/FORMAT.md "KDF parameters and limits").
// A decoder rejects parameters outside the limits before any KDF work, so a hostile header
// cannot make it allocate gigabytes or spin for hours.

import { KDF_ARGON2ID, KDF_PBKDF2, KDF_SCRYPT, type KdfId } from './constants.js';

export interface KdfParams {
  kdf: KdfId;
  p1: number;
  p2: number;
  p3: number;
}

export const DEFAULT_PARAMS: Record<KdfId, KdfParams> = {
  [KDF_SCRYPT]: { kdf: KDF_SCRYPT, p1: 17, p2: 8, p3: 1 }, // log2 N, r, p
  [KDF_ARGON2ID]: { kdf: KDF_ARGON2ID, p1: 65536, p2: 3, p3: 1 }, // m KiB, t, p
  [KDF_PBKDF2]: { kdf: KDF_PBKDF2, p1: 600000, p2: 0, p3: 0 }, // iterations
};

/** Returns null when the parameters are within the limits, else why not. */
export function checkKdfParams(p: KdfParams): string | null {
  const { p1, p2, p3 } = p;
  switch (p.kdf) {
    case KDF_SCRYPT: {
      if (p1 < 14 || p1 > 20) return `scrypt log2 N = ${p1} is outside 14..20`;
      if (p2 < 8 || p2 > 32) return `scrypt r = ${p2} is outside 8..32`;
      if (p3 < 1 || p3 > 16) return `scrypt p = ${p3} is outside 1..16`;
      // 128·r·N·p <= 2^30, computed in floating point: exact for these ranges (< 2^53).
      if (128 * p2 * 2 ** p1 * p3 > 2 ** 30) return `scrypt 128·r·N·p = ${128 * p2 * 2 ** p1 * p3} exceeds 2^30`;
      return null;
    }
    case KDF_ARGON2ID: {
      if (p1 < 19456 || p1 > 1048576) return `argon2id m = ${p1} KiB is outside 19456..1048576`;
      if (p2 < 2 || p2 > 16) return `argon2id t = ${p2} is outside 2..16`;
      if (p3 < 1 || p3 > 16) return `argon2id p = ${p3} is outside 1..16`;
      if (p1 * p2 > 4194304) return `argon2id m·t = ${p1 * p2} exceeds 4194304`;
      return null;
    }
    case KDF_PBKDF2: {
      if (p1 < 100000 || p1 > 10000000) return `pbkdf2 iterations ${p1} outside 100000..10000000`;
      if (p2 !== 0 || p3 !== 0) return `pbkdf2 kdf_p2 and kdf_p3 must be 0 (got ${p2}, ${p3})`;
      return null;
    }
    default:
      return `unknown kdf ${String((p as { kdf: number }).kdf)}`;
  }
}

/** The parameters under the KDF's own names (inspect --json), as describeKdf says them: scrypt log2n, r, p; Argon2id m_kib, t, p; PBKDF2 iterations. */
export function namedKdfParams(p: KdfParams): Record<string, number> {
  switch (p.kdf) {
    case KDF_SCRYPT: return { log2n: p.p1, r: p.p2, p: p.p3 };
    case KDF_ARGON2ID: return { m_kib: p.p1, t: p.p2, p: p.p3 };
    case KDF_PBKDF2: return { iterations: p.p1 };
  }
}

export function describeKdf(p: KdfParams): string {
  switch (p.kdf) {
    case KDF_SCRYPT: return `scrypt(log2N=${p.p1}, r=${p.p2}, p=${p.p3})`;
    case KDF_ARGON2ID: return `argon2id(m=${p.p1} KiB, t=${p.p2}, p=${p.p3})`;
    case KDF_PBKDF2: return `pbkdf2-sha256(iterations=${p.p1})`;
  }
}
