// Statuses of AENV/1 (shared/ENVELOPE.md "Statuses, as a decoder reports them") and of the
// CLI contract (shared/CLI.md "Results"), and the one error type that carries a status.

export type EnvelopeStatus = 'ok' | 'not-envelope' | 'unsupported' | 'corrupt' | 'wrong-password';
export type Status = EnvelopeStatus | 'exists' | 'skipped' | 'io-error';

export const STATUSES: readonly Status[] = [
  'ok', 'not-envelope', 'unsupported', 'corrupt', 'wrong-password', 'exists', 'skipped', 'io-error',
];

/** What a user does about each status: the `hint:` line of a message. */
export const HINTS: Record<Status, string> = {
  ok: '',
  'not-envelope': 'the file has no AENV magic: it is plaintext (e.g. left by an HTTP fallback upload) or another tool\'s envelope; open it as it is or with that tool',
  unsupported: 'the envelope uses a newer version or parameters beyond this decoder\'s limits; use a newer aenv (the file is untouched)',
  corrupt: 'the envelope is damaged, truncated or tampered with; fetch it again',
  'wrong-password': 'the header is intact but the key does not match: try another password (or the header was forged)',
  exists: 'the output already exists; use --skip-existing to leave it or --force to replace it',
  skipped: '',
  'io-error': 'reading or writing failed; check free space, permissions and the medium, then run again',
};

/** A decoder's verdict on an envelope (or an I/O failure), with a one-line detail. */
export class EnvelopeError extends Error {
  readonly status: Status;
  /** Chunk index and byte offset in the envelope, when the failure is in one chunk. */
  readonly chunk: number | undefined;
  readonly offset: number | undefined;
  constructor(status: Status, detail: string, where?: { chunk: number; offset: number }) {
    super(detail);
    this.name = 'EnvelopeError';
    this.status = status;
    this.chunk = where?.chunk;
    this.offset = where?.offset;
  }
}

export function isFailure(s: Status): boolean {
  return s !== 'ok' && s !== 'skipped';
}
