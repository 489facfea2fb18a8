// What a user does about each status (shared/CLI.md "Results", shared/ENVELOPE.md's table):
// the `hint:` line printed under a failure, and the colour of its tag on a terminal.

import type { Status } from '../engine/results.js';

export const HINTS: Record<Status, string> = {
  ok: '',
  'not-envelope': 'the file has no AENV magic: it is plaintext (e.g. left by an HTTP fallback upload) or another tool\'s envelope; open it as it is or with that tool',
  unsupported: 'the envelope uses a newer version or parameters beyond this decoder\'s limits; use a newer aenv (the file is untouched)',
  corrupt: 'the envelope is damaged, truncated or tampered with; fetch it again',
  'wrong-password': 'the header is intact but the key does not match: try another password (or the header was forged)',
  exists: 'the output already exists; use --skip-existing to leave it or --force to replace it',
  skipped: '',
  'io-error': 'reading or writing failed; check free space, permissions and the medium, then run again',
  'tool-error': 'IBM\'s tool (asunprotect or asprotect) failed on this file; its exit status and last message are in the detail, and what it wrote was removed',
  missing: 'the batch manifest or the checksum list names this file, but it is not there: it was deleted, renamed or lost in transfer; fetch it again',
};

export const COLORS: Partial<Record<Status, string>> = {
  ok: '\x1b[32m', skipped: '\x1b[2m', exists: '\x1b[33m', corrupt: '\x1b[31m', 'wrong-password': '\x1b[35m',
  'not-envelope': '\x1b[33m', unsupported: '\x1b[33m', 'io-error': '\x1b[31m', 'tool-error': '\x1b[31m', missing: '\x1b[31m',
};
