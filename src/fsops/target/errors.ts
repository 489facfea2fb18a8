// Why an output cannot be written to its drive, found before any byte of it is (guard.ts): a
// name the file system cannot hold (bad-name), two names it holds as one (name-conflict), a file
// larger than it holds (too-large). An output that cannot be placed, like any PlanError (the file
// fails, the run goes on), but each with its own status, detail and hint (engine/results.ts
// failure(), engine/statuses.ts).

import { PlanError } from '../errors.js';

export type TargetStatus = 'bad-name' | 'name-conflict' | 'too-large';

export class TargetError extends PlanError {
  constructor(readonly status: TargetStatus, message: string, override readonly hint: string) {
    super(message, hint);
  }
}
