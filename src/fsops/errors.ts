// The errors of fsops: aenv's own error codes (engine/results.ts shows their message as the row's
// detail), an output folder changed under aenv's feet, and an output that cannot be placed where
// it was planned.

/** An error with a code that results.ts turns into a one-line io-error detail. */
export function ioError(code: string, message: string): NodeJS.ErrnoException {
  return Object.assign(new Error(message), { code });
}

/** The output folder or a name in it was changed by someone else: nothing was committed. */
export function tampered(what: string): NodeJS.ErrnoException {
  return ioError('ETAMPERED', `${what}; nothing was committed`);
}

/** An output that cannot be placed (a name that leaves its folder, a link in the way): the file fails, the run goes on. */
export class PlanError extends Error {
  /** What the user can do about it (the report's hint line). */
  constructor(message: string, readonly hint?: string) {
    super(message);
  }
}
