// lstat that answers null for a name that is not there: the one way fsops asks what a name
// points to now, without following a final symbolic link.

import * as fs from 'node:fs';

/** The name's lstat, or null when it does not exist (with `strict`, other errors are thrown; else they read as null). */
export function lstatOrNull(p: string, strict = false): fs.Stats | null {
  try {
    return fs.lstatSync(p);
  } catch (e) {
    if (strict && (e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    return null;
  }
}
