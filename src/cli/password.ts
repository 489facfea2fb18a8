// Where the password comes from (shared/CLI.md "Password"), in this order: --password-file
// (its first line, without the line ending), ASPERA_SCP_FILEPASS, then a prompt without echo
// when standard input is a terminal. Never from a flag's value; never printed or logged.

import { promises as fsp } from 'node:fs';
import { passwordFromBytes, PasswordError } from '../crypto/keys.js';
import { Interrupted } from '../engine/context.js';

export const PASSWORD_ENV = 'ASPERA_SCP_FILEPASS';

export interface PasswordSources {
  passwordFile?: string | undefined;
  /** Prompt when no other source and stdin is a terminal. */
  prompt: boolean;
  /** Ask twice (encrypt). */
  confirm: boolean;
  /** Whether standard input is free for a prompt (not the data of `-`). */
  stdinFree: boolean;
}

export class UsageError extends Error {
  constructor(message: string, readonly hint?: string) {
    super(message);
  }
}

/** The first line of a password file, without its line ending. */
export function firstLine(bytes: Uint8Array): Uint8Array {
  let end = bytes.indexOf(0x0a);
  if (end < 0) end = bytes.length;
  if (end > 0 && bytes[end - 1] === 0x0d) end--;
  return bytes.subarray(0, end);
}

export async function getPassword(src: PasswordSources): Promise<string | null> {
  if (src.passwordFile !== undefined) {
    let bytes: Uint8Array;
    try {
      bytes = await fsp.readFile(src.passwordFile);
    } catch (e) {
      throw new UsageError(`cannot read the password file ${src.passwordFile} (${(e as NodeJS.ErrnoException).code ?? e})`,
        'check the path given to --password-file');
    }
    return check(passwordFromBytes(firstLine(bytes)), `the password file ${src.passwordFile}`);
  }
  const env = process.env[PASSWORD_ENV];
  if (env !== undefined) return check(env, PASSWORD_ENV);
  if (src.prompt && src.stdinFree && process.stdin.isTTY) {
    const pw = await ask('Password: ');
    if (src.confirm) {
      const again = await ask('Password again: ');
      if (again !== pw) throw new UsageError('the two passwords differ', 'run again and type the same password twice');
    }
    return check(pw, 'the prompt');
  }
  return null;
}

/**
 * One line from the terminal without echo. `terminal: true` always: `read` otherwise decides by
 * the output stream, and with standard error redirected (2>log) it left the terminal in cooked
 * mode, so the terminal itself echoed the password. The prompt goes to whichever of standard
 * error and standard output is a terminal. Ctrl-C at the prompt is an interruption (exit 130).
 */
async function ask(prompt: string): Promise<string> {
  const output = process.stderr.isTTY || !process.stdout.isTTY ? process.stderr : process.stdout;
  try {
    const { read } = await import('read'); // only when a prompt is shown
    const line = String(await read({ prompt, silent: true, replace: '', terminal: true, input: process.stdin, output }));
    output.write('\n'); // the Enter was not echoed either
    return line;
  } catch (e) {
    if ((e as Error)?.message === 'canceled') {
      output.write('\n');
      throw new Interrupted();
    }
    throw e;
  }
}

function check(pw: string, where: string): string {
  if (pw.length === 0) throw new UsageError(`the password from ${where} is empty`, 'AENV/1 passwords are never empty');
  return pw;
}

export { PasswordError };
