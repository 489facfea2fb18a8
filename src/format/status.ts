// A decoder's verdicts on an envelope (docs/FORMAT.md "Statuses") and the one error type that
// carries one. What a run adds to these (exists, skipped, io-error, tool-error, missing), and what
// a user does about each, is in engine/statuses.ts.

export type EnvelopeStatus = 'ok' | 'not-envelope' | 'unsupported' | 'corrupt' | 'wrong-password';

/** A decoder's verdict on an envelope, with a one-line detail. */
export class EnvelopeError extends Error {
  readonly status: Exclude<EnvelopeStatus, 'ok'>;
  /** Chunk index and byte offset in the envelope, when the failure is in one chunk. */
  readonly chunk: number | undefined;
  readonly offset: number | undefined;
  constructor(status: Exclude<EnvelopeStatus, 'ok'>, detail: string, where?: { chunk: number; offset: number }) {
    super(detail);
    this.name = 'EnvelopeError';
    this.status = status;
    this.chunk = where?.chunk;
    this.offset = where?.offset;
  }
}

/** A wrong-password verdict, with its batch: the salt's first 8 bytes in hex, as `aenv inspect` shows it (files sealed in one run share it). */
export class WrongPassword extends EnvelopeError {
  constructor(detail: string, readonly batchId: string) {
    super('wrong-password', detail);
  }
}
