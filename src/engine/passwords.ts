// Where the password comes from (docs/CLI.md "Passwords"), in this order: --password-file
// (its first line, without the line ending), ASPERA_SCP_FILEPASS, then the command line's prompt
// without echo when standard input is a terminal and not the run's data; or, for decrypt and
// verify, a whole list of them (--password-list), which combines with no other source. Never
// from a flag's value; never printed or logged: reports name a list's passwords by their line
// numbers only. A password AENV/1 cannot use is a usage error.

import { promises as fsp, readFileSync } from 'node:fs';
import type { Backend } from '../crypto/backend.js';
import { KeyCache, passwordBytes, passwordFromBytes, PasswordError } from '../crypto/keys.js';
import { PASSWORD_ENV } from '../foreign/ibm-cli.js';
import { UsageError, type Ask, type Job, type PasswordSource } from './job.js';

/** The passwords of a run: one, or a list's (then with the list's line number of each). */
export interface Passwords {
  /** As AENV/1 uses them: UTF-8 after NFC normalization. */
  bytes: Uint8Array[];
  /** As given (IBM's tool gets them unchanged). */
  texts: string[];
  lines: number[] | null;
  /** Typed at the prompt (then a wrong one is asked again: engine/retry.ts). */
  prompted?: boolean;
}

/** Whether the run will have a password (or fail trying): a list, a file, the variable, or a prompt it requires. */
export function hasPasswordSource(src: PasswordSource): boolean {
  return src.list !== undefined || src.file !== undefined || process.env[PASSWORD_ENV] !== undefined || src.prompt === 'required';
}

/**
 * The run's passwords, or null when there is none and the command needs none (verify without a
 * password checks what it can). `stdinIsData`: standard input carries the data or the list, so
 * no prompt may read it.
 */
export async function passwordsFor(src: PasswordSource, job: Pick<Job, 'command' | 'inputs'>, stdinIsData: boolean): Promise<Passwords | null> {
  try {
    if (src.list !== undefined) {
      const clash = src.file !== undefined ? '--password-file' : process.env[PASSWORD_ENV] !== undefined ? PASSWORD_ENV : src.prompt === 'required' ? '--password-prompt' : null;
      if (clash) {
        throw new UsageError(`--password-list combines with no other password source, and ${clash} is given too`,
          clash === PASSWORD_ENV ? `unset ${PASSWORD_ENV} for this run, or put its password into the list` : `drop ${clash}, or put its password into the list`);
      }
      return await readPasswordList(src.list);
    }
    const one = await onePassword(src, stdinIsData);
    if (one !== null) return { bytes: [passwordBytes(one.text)], texts: [one.text], lines: null, ...(one.prompted ? { prompted: true } : {}) };
    if (src.prompt === 'required') throw new UsageError('--password-prompt needs a terminal on standard input', 'use --password-file FILE or ASPERA_SCP_FILEPASS in scripts');
    if (job.command === 'verify') return null;
    if (job.inputs.kind === 'stream') {
      throw new UsageError(`${job.command} - needs a password`, 'standard input carries the data: use --password-file FILE or ASPERA_SCP_FILEPASS');
    }
    throw new UsageError(`${job.command} needs a password`, 'use --password-file FILE or set ASPERA_SCP_FILEPASS (or run on a terminal to be asked)');
  } catch (e) {
    if (e instanceof PasswordError) throw new UsageError(e.message, 'check the password source');
    throw e;
  }
}

/** The run's key cache for `pws`, within `budgetSeconds` of key derivations. */
export function keyCacheFor(backend: Backend, pws: Passwords, budgetSeconds = Infinity): KeyCache {
  return new KeyCache(backend, pws.bytes, budgetSeconds * 1000);
}

/**
 * The passwords of --password-list FILE: one per line (LF or CRLF), blank lines ignored, each
 * line strictly UTF-8 and NFC-normalized like every password; a password listed twice is
 * tried once, under its first line.
 */
export async function readPasswordList(file: string): Promise<Passwords> {
  let all: Buffer;
  try {
    all = await fsp.readFile(file);
  } catch (e) {
    throw new UsageError(`cannot read the password list ${file} (${(e as NodeJS.ErrnoException).code ?? e})`, 'check the path given to --password-list');
  }
  const out: Passwords = { bytes: [], texts: [], lines: [] };
  const seen = new Set<string>();
  let line = 0;
  for (let start = 0; start < all.length; line++) {
    let end = all.indexOf(0x0a, start);
    if (end < 0) end = all.length;
    const raw = firstLine(all.subarray(start, end === all.length ? end : end + 1));
    start = end + 1;
    if (raw.length === 0) continue;
    let pw: Uint8Array;
    let text: string;
    try {
      text = passwordFromBytes(raw);
      pw = passwordBytes(text);
    } catch (e) {
      throw new UsageError(`line ${line + 1} of the password list ${file}: ${(e as Error).message}`, 'save the list as UTF-8 text, one password per line');
    }
    const id = Buffer.from(pw).toString('base64');
    if (seen.has(id)) continue;
    seen.add(id);
    out.bytes.push(pw);
    out.texts.push(text);
    out.lines!.push(line + 1);
  }
  if (out.bytes.length === 0) throw new UsageError(`the password list ${file} holds no password`, 'one password per line; blank lines are ignored');
  return out;
}

/** The first line of a password file, without its line ending. */
export function firstLine(bytes: Uint8Array): Uint8Array {
  let end = bytes.indexOf(0x0a);
  if (end < 0) end = bytes.length;
  if (end > 0 && bytes[end - 1] === 0x0d) end--;
  return bytes.subarray(0, end);
}

/** The one password of the usual sources (and whether it was typed at the prompt), or null. */
async function onePassword(src: PasswordSource, stdinIsData: boolean): Promise<{ text: string; prompted: boolean } | null> {
  if (src.file !== undefined) {
    let bytes: Uint8Array;
    try {
      bytes = await fsp.readFile(src.file);
    } catch (e) {
      throw new UsageError(`cannot read the password file ${src.file} (${(e as NodeJS.ErrnoException).code ?? e})`,
        'check the path given to --password-file');
    }
    return { text: check(passwordFromBytes(firstLine(bytes)), `the password file ${src.file}`), prompted: false };
  }
  const env = process.env[PASSWORD_ENV];
  if (env !== undefined) return { text: check(envPassword(env), PASSWORD_ENV), prompted: false };
  if (src.prompt !== 'never' && !stdinIsData && src.ask) {
    return { text: await askPassword(src.ask, src.confirm), prompted: true };
  }
  return null;
}

/** Answers at the prompt before aenv gives up: an empty one, two that differ, or one that opens nothing are asked again (as sudo does). */
export const PROMPT_TRIES = 3;

/**
 * The password from the prompt: an empty answer, or (encrypt) a second answer that differs, is
 * said in one line and asked again, PROMPT_TRIES times in all. A line before the prompt goes
 * into the Ask's text, before its last line break (cli/prompt.ts prints it as it is).
 */
export async function askPassword(ask: Ask, confirm: boolean, first = ''): Promise<string> {
  let why = first;
  for (let i = 0; i < PROMPT_TRIES; i++) {
    const pw = lenient(await ask(`${why}Password: `), 'the prompt');
    if (pw.length === 0) {
      why = 'aenv: the password is empty (AENV/1 passwords never are); type it again\n';
      continue;
    }
    if (confirm && (await ask('Password again: ')) !== pw) {
      why = 'aenv: the two passwords differ; type it twice again\n';
      continue;
    }
    return pw;
  }
  throw new UsageError(`no password after ${PROMPT_TRIES} tries at the prompt (${why.includes('differ') ? 'the two answers differed' : 'an empty answer'})`,
    confirm ? 'type the same password twice, or use --password-file FILE' : 'type the password, or use --password-file FILE');
}

/**
 * The environment variable's value, decoded strictly. Node decodes the environment leniently
 * (bytes that are not UTF-8 become U+FFFD, so every Latin-1 password would collapse into one
 * guessable key); on Linux the bytes the process was started with are in /proc/self/environ.
 */
function envPassword(value: string): string {
  let environ: Buffer | null = null;
  try {
    environ = readFileSync('/proc/self/environ');
  } catch {
    /* not Linux: only the decoded string is available */
  }
  if (environ) {
    const key = Buffer.from(`${PASSWORD_ENV}=`);
    for (let start = 0; start < environ.length;) {
      let end = environ.indexOf(0, start);
      if (end < 0) end = environ.length;
      const entry = environ.subarray(start, end);
      if (entry.subarray(0, key.length).equals(key)) {
        const raw = entry.subarray(key.length);
        // The value may have been changed in this process since it started; then use that one.
        if (raw.toString('utf8') === value) return passwordFromBytes(raw);
        break;
      }
      start = end + 1;
    }
  }
  return lenient(value, PASSWORD_ENV);
}

/** A password only available as leniently decoded text: U+FFFD marks bytes that were not UTF-8. */
function lenient(pw: string, where: string): string {
  if (pw.includes('\ufffd')) throw new PasswordError(`the password from ${where} is not valid UTF-8 (it holds U+FFFD, the mark of bytes that are not UTF-8)`);
  return pw;
}

function check(pw: string, where: string): string {
  if (pw.length === 0) throw new UsageError(`the password from ${where} is empty`, 'AENV/1 passwords are never empty');
  return pw;
}
