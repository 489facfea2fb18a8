// The 128-byte AENV/1 header (docs/FORMAT.md "Header" and "Decoding a file" steps 1-5).
// Pure: bytes in, fields or a status out. The keyed step (6, header_mac) is in crypto/keys.ts.

import { sha256 } from '@noble/hashes/sha2.js';
import {
  HEADER_LEN, MAGIC, MAX_CHUNK_LOG2, MIN_CHUNK_LOG2, MIN_ENVELOPE_LEN, OFF_CHUNK_LOG2, OFF_FILE_NONCE,
  OFF_HEADER_CHECK, OFF_HEADER_MAC, OFF_KDF, OFF_P1, OFF_P2, OFF_P3, OFF_SALT, OFF_SUITE, OFF_VERSION,
  KDF_NAMES, SUITE_NAMES, FORMAT_VERSION, type KdfId, type SuiteId,
} from './constants.js';
import { checkKdfParams, type KdfParams } from './kdf-params.js';
import { EnvelopeError } from './status.js';

export interface Header {
  suite: SuiteId;
  chunkLog2: number;
  params: KdfParams;
  salt: Uint8Array; // 32 bytes
  fileNonce: Uint8Array; // 32 bytes
  headerMac: Uint8Array; // 32 bytes
  /** The first 88 bytes, the input of header_mac. */
  macInput: Uint8Array;
  /** All 128 bytes as read. */
  raw: Uint8Array;
}

export function chunkSize(h: Pick<Header, 'chunkLog2'>): number {
  return 2 ** h.chunkLog2;
}

function equal(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let d = 0;
  // Stryker disable next-line EqualityOperator: equivalent (a[a.length] ^ b[b.length] is 0), see test/mutation-equivalents.md
  for (let i = 0; i < a.length; i++) d |= a[i]! ^ b[i]!;
  return d === 0;
}

export function hasMagic(prefix: Uint8Array): boolean {
  return equal(prefix.subarray(0, MAGIC.length), MAGIC); // a shorter prefix is a shorter array: not equal
}

function u32(b: Uint8Array, off: number): number {
  return (b[off]! | (b[off + 1]! << 8) | (b[off + 2]! << 16) | (b[off + 3]! << 24)) >>> 0;
}

function putU32(b: Uint8Array, off: number, v: number): void {
  b[off] = v & 0xff;
  b[off + 1] = (v >>> 8) & 0xff;
  b[off + 2] = (v >>> 16) & 0xff;
  b[off + 3] = (v >>> 24) & 0xff;
}

/** header_check: the first 8 bytes of SHA-256 over the first 120 header bytes. */
export function headerCheck(first120: Uint8Array): Uint8Array {
  return sha256(first120.subarray(0, OFF_HEADER_CHECK)).subarray(0, 8);
}

/**
 * Decoding steps 1-5. `prefix` holds the first min(128, size) bytes; `size` is the file's size,
 * or for a stream the number of bytes seen so far once at least 184 are buffered or the stream
 * ended (the steps only compare the size with 8, 9 and 184). Throws EnvelopeError.
 */
export function parseHeader(prefix: Uint8Array, size: number): Header {
  if (!hasMagic(prefix)) { // size < 8 means a prefix shorter than the magic
    throw new EnvelopeError('not-envelope', size === 0 ? 'empty file, no AENV magic' : 'no AENV magic at the start');
  }
  if (size < OFF_VERSION + 1) throw new EnvelopeError('corrupt', `truncated: ${size} bytes, cut right after the magic`);
  const version = prefix[OFF_VERSION]!;
  if (version !== FORMAT_VERSION) {
    throw new EnvelopeError('unsupported', `envelope version ${version}; this aenv reads version ${FORMAT_VERSION}`);
  }
  if (size < MIN_ENVELOPE_LEN) {
    throw new EnvelopeError('corrupt', `truncated: ${size} bytes, shorter than the smallest envelope (${MIN_ENVELOPE_LEN})`);
  }
  const raw = prefix.slice(0, HEADER_LEN);
  if (!equal(headerCheck(raw), raw.subarray(OFF_HEADER_CHECK, HEADER_LEN))) {
    throw new EnvelopeError('corrupt', 'damaged header (header_check mismatch)');
  }
  const suite = raw[OFF_SUITE]!;
  const kdf = raw[OFF_KDF]!;
  const chunkLog2 = raw[OFF_CHUNK_LOG2]!;
  if (!(suite in SUITE_NAMES)) throw new EnvelopeError('unsupported', `unknown cipher suite ${suite}`);
  if (!(kdf in KDF_NAMES)) throw new EnvelopeError('unsupported', `unknown kdf ${kdf}`);
  if (chunkLog2 < MIN_CHUNK_LOG2 || chunkLog2 > MAX_CHUNK_LOG2) {
    throw new EnvelopeError('unsupported', `chunk size 2^${chunkLog2} is outside 2^${MIN_CHUNK_LOG2}..2^${MAX_CHUNK_LOG2}`);
  }
  const params: KdfParams = { kdf: kdf as KdfId, p1: u32(raw, OFF_P1), p2: u32(raw, OFF_P2), p3: u32(raw, OFF_P3) };
  const why = checkKdfParams(params);
  if (why !== null) throw new EnvelopeError('unsupported', `KDF parameters beyond the limits: ${why}`);
  return {
    suite: suite as SuiteId,
    chunkLog2,
    params,
    salt: raw.slice(OFF_SALT, OFF_SALT + 32),
    fileNonce: raw.slice(OFF_FILE_NONCE, OFF_FILE_NONCE + 32),
    headerMac: raw.slice(OFF_HEADER_MAC, OFF_HEADER_MAC + 32),
    macInput: raw.slice(0, OFF_HEADER_MAC),
    raw,
  };
}

export interface HeaderFields {
  suite: SuiteId;
  chunkLog2: number;
  params: KdfParams;
  salt: Uint8Array;
  fileNonce: Uint8Array;
}

/** The first 88 header bytes (everything header_mac covers). */
export function encodeMacInput(f: HeaderFields): Uint8Array {
  if (f.salt.length !== 32 || f.fileNonce.length !== 32) throw new RangeError('salt and file_nonce are 32 bytes');
  const why = checkKdfParams(f.params);
  if (why !== null) throw new RangeError(`refusing to write KDF parameters beyond the limits: ${why}`);
  if (f.chunkLog2 < MIN_CHUNK_LOG2 || f.chunkLog2 > MAX_CHUNK_LOG2) throw new RangeError('chunk size outside 4 KiB..16 MiB');
  const b = new Uint8Array(OFF_HEADER_MAC);
  b.set(MAGIC, 0);
  b[OFF_VERSION] = FORMAT_VERSION;
  b[OFF_SUITE] = f.suite;
  b[OFF_KDF] = f.params.kdf;
  b[OFF_CHUNK_LOG2] = f.chunkLog2;
  putU32(b, OFF_P1, f.params.p1);
  putU32(b, OFF_P2, f.params.p2);
  putU32(b, OFF_P3, f.params.p3);
  b.set(f.salt, OFF_SALT);
  b.set(f.fileNonce, OFF_FILE_NONCE);
  return b;
}

/** The whole 128-byte header from its first 88 bytes and header_mac. */
export function finishHeader(macInput: Uint8Array, mac: Uint8Array): Uint8Array {
  const h = new Uint8Array(HEADER_LEN);
  h.set(macInput, 0);
  h.set(mac, OFF_HEADER_MAC);
  h.set(headerCheck(h), OFF_HEADER_CHECK);
  return h;
}

export { equal as constantTimeEqual };
