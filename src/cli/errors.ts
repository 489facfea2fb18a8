// The command line's own error: a usage error (bad flags, no inputs, no password where one is
// needed) ends the run with exit status 2, one `aenv: error:` line and one `aenv: hint:` line.

export class UsageError extends Error {
  constructor(message: string, readonly hint?: string) {
    super(message);
  }
}
