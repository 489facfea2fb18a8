// Constants of the AENV/1 envelope (docs/FORMAT.md "Layout", "Header"). Pure data, no I/O.

export const MAGIC = Uint8Array.of(0x41, 0x45, 0x4e, 0x56, 0x0d, 0x0a, 0x1a, 0x0a); // "AENV\r\n\x1a\n"
export const TRAILER_MAGIC = Uint8Array.of(0x41, 0x45, 0x4e, 0x56, 0x45, 0x4e, 0x44, 0x0a); // "AENVEND\n"
export const FORMAT_VERSION = 1;
export const HEADER_LEN = 128;
export const TRAILER_LEN = 40;
export const TAG_LEN = 16;
export const SALT_LEN = 32;
export const FILE_NONCE_LEN = 32;
export const KEY_LEN = 32;
/** Smallest whole envelope: header, one empty chunk (its tag), trailer. */
export const MIN_ENVELOPE_LEN = HEADER_LEN + TAG_LEN + TRAILER_LEN; // 184

// Header field offsets.
export const OFF_VERSION = 8;
export const OFF_SUITE = 9;
export const OFF_KDF = 10;
export const OFF_CHUNK_LOG2 = 11;
export const OFF_P1 = 12;
export const OFF_P2 = 16;
export const OFF_P3 = 20;
export const OFF_SALT = 24;
export const OFF_FILE_NONCE = 56;
export const OFF_HEADER_MAC = 88;
export const OFF_HEADER_CHECK = 120;

export const MIN_CHUNK_LOG2 = 12;
export const MAX_CHUNK_LOG2 = 24;
export const DEFAULT_CHUNK_LOG2 = 16;

export const SUITE_AES_256_GCM = 1;
export const SUITE_CHACHA20_POLY1305 = 2;
export type SuiteId = typeof SUITE_AES_256_GCM | typeof SUITE_CHACHA20_POLY1305;

export const KDF_SCRYPT = 1;
export const KDF_ARGON2ID = 2;
export const KDF_PBKDF2 = 3;
export type KdfId = typeof KDF_SCRYPT | typeof KDF_ARGON2ID | typeof KDF_PBKDF2;

export const SUITE_NAMES: Record<SuiteId, string> = {
  1: 'aes-256-gcm',
  2: 'chacha20-poly1305',
};
export const KDF_NAMES: Record<KdfId, string> = {
  1: 'scrypt',
  2: 'argon2id',
  3: 'pbkdf2',
};

export const INFO_HEADER = new TextEncoder().encode('AENV/1 header');
export const INFO_PAYLOAD = new TextEncoder().encode('AENV/1 payload');
