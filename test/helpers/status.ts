// The status a format function's verdict gives, for tests of src/format.
import { EnvelopeError } from '../../src/format/status.js';

/** 'ok' when `f` returns, else the status of the EnvelopeError it throws (any other error is rethrown). */
export function statusOf(f: () => unknown): string {
  try {
    f();
    return 'ok';
  } catch (e) {
    if (e instanceof EnvelopeError) return e.status;
    throw e;
  }
}
