// `verify DIR --write-checksums FILE` (docs/checksum-lists.md): every envelope's SHA-256, named
// below the folder PATH, written as sha256sum writes them into a temporary file beside FILE as
// the rows come (in input order: the walk's, which is the byte order of the paths, see
// fsops/walk.ts inPathOrder), then committed in place of FILE once the run is done, as a shell's
// > would replace it, but atomically. Memory: one block of lines, not one entry per file. The
// temporary file is made before any file is read (a folder that cannot take it is a usage
// error); a run that ends without finish() (interrupted, a fatal error) removes it as the
// process exits.

import * as path from 'node:path';
import { formatChecksumLine } from '../../batch/checksums.js';
import { toSlashPath } from '../../batch/relpath.js';
import { AtomicOutput } from '../../fsops/atomic.js';
import { OutputDir } from '../../fsops/dirs.js';
import type { FileHash } from '../file-hash.js';
import type { InputItem } from '../inputs.js';
import { UsageError } from '../job.js';
import type { FileResult } from '../results.js';
import { showPath } from '../show.js';
import type { Check, CheckModule, SummaryPart } from './check.js';
import { oneFolder, unhashed } from './checksums.js';

/** Characters of lines gathered before one write to the list. */
const BLOCK_CHARS = 64 * 1024;

export const writeChecksums: CheckModule = {
  applies: (job) => job.command === 'verify' && job.writeChecksums !== undefined,
  async preflight(job) {
    await oneFolder(job, '--write-checksums');
    if (job.command === 'verify' && job.writeChecksums !== undefined) listFolder(job.writeChecksums); // before the password is asked for
    return null;
  },
  async start(setup) {
    const job = setup.job;
    if (job.command !== 'verify' || job.writeChecksums === undefined) throw new Error('write checksums: not a verify job with --write-checksums');
    return new ChecksumWriter(job.writeChecksums);
  },
};

/** The folder that takes FILE, resolved and checked; a usage error when it cannot. */
function listFolder(file: string): OutputDir {
  try {
    return OutputDir.resolve(path.dirname(path.resolve(file)), '');
  } catch (e) {
    throw cannotWrite(file, e);
  }
}

function cannotWrite(file: string, e: unknown): UsageError {
  return new UsageError(`cannot write the checksum list ${showPath(file)} (${(e as NodeJS.ErrnoException).code ?? String(e)})`,
    'give --write-checksums a file in a folder that exists and that you can write to');
}

class ChecksumWriter implements Check {
  private out: AtomicOutput | null;
  /** Digests from the lanes (in any order), until their rows come (in input order). */
  private readonly digests = new Map<InputItem, Uint8Array>();
  private block: string[] = [];
  private blockChars = 0;
  private entries = 0;
  /** What went wrong writing the list (reported by finish(): the run's rows still come). */
  private error: unknown = null;

  constructor(private readonly file: string) {
    const dir = listFolder(file);
    try {
      this.out = AtomicOutput.create(dir, path.basename(file));
    } catch (e) {
      throw cannotWrite(file, e);
    }
    process.once('exit', this.onExit);
  }

  async seen(item: InputItem, r: FileResult, sha256: () => Promise<FileHash>): Promise<FileResult> {
    if (item.kind === 'row' || item.file.root === null) return r;
    try {
      this.digests.set(item, (await sha256()).digest);
      return r;
    } catch (e) {
      return unhashed(r, e);
    }
  }

  /** The file's line, in the order of the rows. */
  row(r: FileResult, item: InputItem): FileResult {
    const digest = this.digests.get(item);
    if (digest === undefined || item.kind !== 'file') return r;
    this.digests.delete(item);
    const line = formatChecksumLine(toSlashPath(item.file.rel, path.sep), digest);
    this.block.push(line);
    this.blockChars += line.length;
    this.entries++;
    if (this.blockChars >= BLOCK_CHARS) this.flush();
    return r;
  }

  private flush(): void {
    const text = this.block.join('');
    this.block = [];
    this.blockChars = 0;
    if (this.error !== null || text === '' || this.out === null) return;
    try {
      this.out.writeSync([Buffer.from(text, 'utf8')]);
    } catch (e) {
      this.error = e;
    }
  }

  /** Writes what is left and gives the list its name; throws what went wrong (then FILE is as it was). */
  async finish(): Promise<void> {
    this.flush();
    const out = this.out;
    if (out === null) throw new Error('write checksums: the list was discarded');
    try {
      if (this.error !== null) throw this.error;
      await out.commit(true, true);
      this.out = null;
      process.off('exit', this.onExit);
    } catch (e) {
      this.discard();
      throw e;
    }
  }

  /** Removes the temporary file unless finish() committed it. Never throws. */
  private discard(): void {
    process.off('exit', this.onExit);
    this.out?.discard();
    this.out = null;
  }

  /** A run that ends before finish() (interrupted, a fatal error) leaves no temporary file. */
  private readonly onExit = (): void => this.discard();

  summary(): SummaryPart {
    return {
      fields: { write_checksums: { file: this.file, entries: this.entries } },
      lines: [`checksums: ${this.entries} written to ${showPath(this.file)}`],
    };
  }
}
