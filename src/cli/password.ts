// Where the password comes from (shared/CLI.md "Password"), in this order: --password-file
// (its first line, without the line ending), ASPERA_SCP_FILEPASS, then a prompt without echo
// when standard input is a terminal. Never from a flag's value; never printed or logged.

import { promises as fsp } from 'node:fs';
import { read } from 'read';
import { passwordFromBytes, PasswordError } from '../crypto/keys.js';

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
    const pw = await read({ prompt: 'Password: ', silent: true, replace: '', output: process.stderr });
    if (src.confirm) {
      const again = await read({ prompt: 'Password again: ', silent: true, replace: '', output: process.stderr });
      if (again !== pw) throw new UsageError('the two passwords differ');
    }
    return check(String(pw), 'the prompt');
  }
  return null;
}

function check(pw: string, where: string): string {
  if (pw.length === 0) throw new UsageError(`the password from ${where} is empty`, 'AENV/1 passwords are never empty');
  return pw;
}

export { PasswordError };
