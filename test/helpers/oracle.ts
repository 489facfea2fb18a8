// The status each decoding mode must give a damaged or forged envelope, worked out from
// docs/FORMAT.md "Decoding a file" alone (no aenv code): steps 1-5 and 7-8 are run on the bytes
// here; the keyed steps (6, 10, 11) and the digest (9) are judged by comparing the bytes with the
// original envelope, relying on what they promise: any change to the bytes a check covers is
// caught by the first check that covers them (a forger without the password cannot do better).
// Used by the property and fuzz tests to expect one exact status per mutant.

import { createHash } from 'node:crypto';

const MAGIC_BYTES = Buffer.from('AENV\r\n\x1a\n', 'latin1');
const TRAILER_MAGIC_BYTES = Buffer.from('AENVEND\n', 'latin1');

/** The KDF limits table of docs/FORMAT.md ("KDF parameters and limits"), written out again (not aenv's checkKdfParams). */
function withinLimits(kdf: number, p1: number, p2: number, p3: number): boolean {
  if (kdf === 1) return p1 >= 14 && p1 <= 20 && p2 >= 8 && p2 <= 32 && p3 >= 1 && p3 <= 16 && 128 * p2 * 2 ** p1 * p3 <= 2 ** 30;
  if (kdf === 2) return p1 >= 19456 && p1 <= 1048576 && p2 >= 2 && p2 <= 16 && p3 >= 1 && p3 <= 16 && p1 * p2 <= 4194304;
  return p1 >= 100000 && p1 <= 10000000 && p2 === 0 && p3 === 0;
}

/** Steps 1-5 (no password): the status they give, or null when the header passes. */
export function headerSteps(b: Buffer): string | null {
  const S = b.length;
  if (S < 8 || !b.subarray(0, 8).equals(MAGIC_BYTES)) return 'not-envelope';
  if (S < 9) return 'corrupt';
  if (b[8] !== 1) return 'unsupported';
  if (S < 184) return 'corrupt';
  if (!createHash('sha256').update(b.subarray(0, 120)).digest().subarray(0, 8).equals(b.subarray(120, 128))) return 'corrupt';
  const [suite, kdf, log2] = [b[9]!, b[10]!, b[11]!];
  if (suite < 1 || suite > 2 || kdf < 1 || kdf > 3 || log2 < 12 || log2 > 24) return 'unsupported';
  return withinLimits(kdf, b.readUInt32LE(12), b.readUInt32LE(16), b.readUInt32LE(20)) ? null : 'unsupported';
}

/** Steps 7-8: an impossible payload length or a missing trailer magic. */
export function layoutSteps(b: Buffer): string | null {
  const L = b.length - 168;
  const B = 2 ** b[11]! + 16;
  if (L < 16 || (L > 16 && L % B >= 1 && L % B <= 16)) return 'corrupt';
  return b.subarray(b.length - 40, b.length - 32).equals(TRAILER_MAGIC_BYTES) ? null : 'corrupt';
}

export interface Expected { inspect: string; nopw: string; keyed: string; decrypt: string; warning: boolean }

/**
 * What each mode must say about `b`, a mutant of the envelope `orig`, with the right password.
 * Beyond steps 1-5 and 7-8, which the oracle runs itself, it relies on what the keyed checks
 * promise: header_mac covers bytes 0..87 and is itself bytes 88..119 (a change there is
 * wrong-password, step 6, before any look at the payload), the chunk tags with their nonces and
 * final flag cover the payload (a change there is corrupt, step 10), and the unkeyed digest covers
 * everything before the trailer (passwordless: any change is corrupt, step 9; keyed: only the
 * trailer's digest changed is a warning for decrypt and corrupt for verify, step 11).
 */
export function expectedFor(orig: Buffer, b: Buffer): Expected {
  const h = headerSteps(b);
  if (h !== null) return { inspect: h, nopw: h, keyed: h, decrypt: h, warning: false };
  const l = layoutSteps(b);
  const inspect = l ?? 'ok';
  const nopw = l ?? (b.equals(orig) ? 'ok' : 'corrupt');
  if (!b.subarray(0, 120).equals(orig.subarray(0, 120))) return { inspect, nopw, keyed: 'wrong-password', decrypt: 'wrong-password', warning: false };
  if (l !== null) return { inspect, nopw, keyed: l, decrypt: l, warning: false };
  if (!b.subarray(0, b.length - 40).equals(orig.subarray(0, orig.length - 40))) return { inspect, nopw, keyed: 'corrupt', decrypt: 'corrupt', warning: false };
  const digestSame = b.subarray(b.length - 32).equals(orig.subarray(orig.length - 32));
  return { inspect, nopw, keyed: digestSame ? 'ok' : 'corrupt', decrypt: 'ok', warning: !digestSame };
}
