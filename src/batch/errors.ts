// The one error type of src/batch: a one-line message and a hint, as every aenv usage error
// carries (docs/CLI.md "Exit status" 2). The CLI turns it into its own UsageError; src/batch
// stays below src/cli and imports nothing from it.

export class BatchError extends Error {
  /**
   * @param message one line, what is wrong (names quoted with JSON.stringify when odd)
   * @param hint one line, what the user can do about it
   */
  constructor(message: string, readonly hint: string) {
    super(message);
    this.name = 'BatchError';
  }
}
