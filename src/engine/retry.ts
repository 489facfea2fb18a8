// A wrong password typed at the prompt (docs/passwords.md "A wrong password"): before any file is
// worked on, the password is tried on the header of the run's first AENV/1 envelope (its key is
// derived once and kept in the run's key cache, so the run derives it no second time); when the
// header MAC does not match, aenv says so in one line and asks again, PROMPT_TRIES times in all,
// as sudo does. Only a password typed at the prompt is asked again: one from a file, the
// environment or a list is what the user meant, and the run reports its rows (engine/aenv.ts
// unlock then stops trying a batch whose first files it did not open).

import { constants as fsc, promises as fsp } from 'node:fs';
import type { Backend } from '../crypto/backend.js';
import { fileKeys, headerMacMatches, type KeyCache } from '../crypto/keys.js';
import { HEADER_LEN } from '../format/constants.js';
import { parseHeader, type Header } from '../format/header.js';
import { hex } from './aenv.js';
import { Inputs, type InputSpec } from './inputs.js';
import type { Ask } from './job.js';
import { askPassword, PROMPT_TRIES, type Passwords } from './passwords.js';
import { showPath } from './show.js';

/** Files looked at for an AENV/1 envelope to try the password on (IBM's envelopes cannot be tried without running the tool). */
const LOOK_AT = 64;

interface Probe {
  path: string;
  header: Header;
}

/** The first AENV/1 envelope among the run's first LOOK_AT files, with its header; null when there is none. */
async function firstEnvelope(spec: InputSpec): Promise<Probe | null> {
  let n = 0;
  for await (const it of new Inputs(spec).stream()) {
    if (it.kind !== 'file') continue;
    if (++n > LOOK_AT) return null;
    // read-only, no link followed, never blocking on a FIFO put there since the walk
    const fh = await fsp.open(it.file.path, fsc.O_RDONLY | fsc.O_NOFOLLOW | fsc.O_NONBLOCK).catch(() => null);
    if (!fh) continue;
    try {
      const st = await fh.stat();
      if (!st.isFile()) continue;
      const b = new Uint8Array(HEADER_LEN);
      const { bytesRead } = await fh.read(b, 0, HEADER_LEN, 0);
      return { path: it.file.path, header: parseHeader(b.subarray(0, bytesRead), st.size) };
    } catch {
      continue; // not an envelope, or one that fails on its own: its row will say so
    } finally {
      await fh.close();
    }
  }
  return null;
}

/** Whether the run's (first) password matches the header's MAC; null when that cannot be told (the --kdf-budget is spent). */
async function opens(keys: KeyCache, backend: Backend, h: Header): Promise<boolean | null> {
  let master: Uint8Array;
  try {
    master = await keys.master(h.params, h.salt, 0);
  } catch {
    return null;
  }
  return headerMacMatches(backend, fileKeys(backend, master, h.fileNonce).headerKey, h);
}

export interface Retried {
  pws: Passwords;
  keys: KeyCache;
  /** The password failed PROMPT_TRIES times: the one line that says so (the run does no work). */
  refused: string | null;
}

/**
 * A password typed at the prompt, tried on the run's first envelope and asked again while it
 * does not open it. `keysOf` makes the run's key cache for a password.
 */
export async function retryWrongPassword(o: {
  spec: InputSpec; ask: Ask; confirm: boolean; pws: Passwords; backend: Backend; keysOf: (p: Passwords) => KeyCache;
  bytesOf: (text: string) => Uint8Array;
}): Promise<Retried> {
  let pws = o.pws;
  let keys = o.keysOf(pws);
  const probe = await firstEnvelope(o.spec);
  if (!probe) return { pws, keys, refused: null };
  const where = `${showPath(probe.path)} (batch ${hex(probe.header.salt.subarray(0, 8))})`;
  for (let tries = 1; ; tries++) {
    const ok = await opens(keys, o.backend, probe.header);
    if (ok !== false) return { pws, keys, refused: null };
    if (tries >= PROMPT_TRIES) return { pws, keys, refused: `wrong password, ${tries} tries: none opened ${where}` };
    const text = await askPassword(o.ask, o.confirm, `aenv: wrong password: it does not open ${where}; try again (${tries + 1} of ${PROMPT_TRIES})\n`);
    pws = { bytes: [o.bytesOf(text)], texts: [text], lines: null, prompted: true };
    keys = o.keysOf(pws);
  }
}
