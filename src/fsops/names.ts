// File names that are not valid UTF-8. Node reads folder entries as UTF-8 and turns invalid
// bytes into U+FFFD, so such a file cannot be opened again by the name it was listed under.
// aenv does not guess: walk.ts reports each such file (or folder) as a problem, never silently
// skipping it, and tells the user to rename it.

import { promises as fsp } from 'node:fs';
import * as path from 'node:path';

const strict = new TextDecoder('utf-8', { fatal: true });

export interface BadName {
  /** The entry's path with the invalid bytes shown as U+FFFD. */
  shown: string;
  /** The raw name as \xNN escapes for the bytes that are not printable ASCII. */
  escaped: string;
  isDir: boolean;
  isFile: boolean;
}

function escapeBytes(b: Buffer): string {
  let s = '';
  for (const c of b) s += c >= 0x20 && c < 0x7f && c !== 0x5c ? String.fromCharCode(c) : `\\x${c.toString(16).padStart(2, '0')}`;
  return s;
}

/**
 * Splits a folder's entries, read as raw bytes, into the names that are valid UTF-8 (with how
 * often each string occurs) and the ones that are not. Only worth calling when a listed name
 * holds U+FFFD.
 */
export async function splitNames(dir: string): Promise<{ valid: Map<string, number>; bad: BadName[] }> {
  const valid = new Map<string, number>();
  const bad: BadName[] = [];
  for (const ent of await fsp.readdir(dir, { withFileTypes: true, encoding: 'buffer' })) {
    const raw = ent.name as unknown as Buffer;
    try {
      const name = strict.decode(raw);
      valid.set(name, (valid.get(name) ?? 0) + 1);
    } catch {
      bad.push({ shown: path.join(dir, raw.toString('utf8')), escaped: escapeBytes(raw), isDir: ent.isDirectory(), isFile: ent.isFile() || ent.isSymbolicLink() });
    }
  }
  return { valid, bad };
}

export function badNameMessage(b: BadName): string {
  return `the name is not valid UTF-8 (bytes: "${b.escaped}"), so aenv cannot open ${b.isDir ? 'this folder or anything in it' : 'it'}; `
    + `rename it to a UTF-8 name (e.g. convmv -f latin1 -t utf8 --notest, or mv with a shell glob) and run again`;
}

/**
 * `entries` of `dir` as read by name, without the ones whose real name is not valid UTF-8;
 * each of those that matters (a folder, or a file `accept` takes) is added to `problems`.
 */
export async function dropBadNames<E extends { name: string }>(dir: string, entries: E[], accept: (name: string) => boolean,
  problems: { path: string; message: string }[]): Promise<E[]> {
  if (!entries.some((e) => e.name.includes('\ufffd'))) return entries;
  const { valid, bad } = await splitNames(dir);
  for (const b of bad) {
    if (b.isDir || (b.isFile && accept(path.basename(b.shown)))) problems.push({ path: b.shown, message: badNameMessage(b) });
  }
  return entries.filter((e) => {
    const n = valid.get(e.name) ?? 0;
    if (n > 0) valid.set(e.name, n - 1);
    return n > 0;
  });
}
