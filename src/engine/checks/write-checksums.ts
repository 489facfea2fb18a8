// `verify DIR --write-checksums FILE` (docs/batches.md "Checksum lists"): every envelope's SHA-256,
// named below the folder PATH, written once the run is done in the sha256sum format (in the
// byte order of the names), replacing FILE as a shell's > would, but atomically.

import * as path from 'node:path';
import { formatChecksumList } from '../../batch/checksums.js';
import { toSlashPath } from '../../batch/relpath.js';
import { AtomicOutput } from '../../fsops/atomic.js';
import { OutputDir } from '../../fsops/dirs.js';
import type { FileHash } from '../file-hash.js';
import type { InputItem } from '../inputs.js';
import type { FileResult } from '../results.js';
import { showPath } from '../show.js';
import type { Check, CheckModule, SummaryPart } from './check.js';
import { oneFolder, unhashed } from './checksums.js';

export const writeChecksums: CheckModule = {
  applies: (job) => job.command === 'verify' && job.writeChecksums !== undefined,
  async preflight(job) {
    await oneFolder(job, '--write-checksums');
    return null;
  },
  async start(setup) {
    const job = setup.job;
    if (job.command !== 'verify' || job.writeChecksums === undefined) throw new Error('write checksums: not a verify job with --write-checksums');
    return new ChecksumWriter(job.writeChecksums);
  },
};

class ChecksumWriter implements Check {
  private readonly items: { path: string; digest: Uint8Array }[] = [];

  constructor(private readonly file: string) {}

  async seen(item: InputItem, r: FileResult, sha256: () => Promise<FileHash>): Promise<FileResult> {
    if (item.kind === 'row' || item.file.root === null) return r;
    try {
      this.items.push({ path: toSlashPath(item.file.rel, path.sep), digest: (await sha256()).digest });
      return r;
    } catch (e) {
      return unhashed(r, e);
    }
  }

  async finish(): Promise<void> {
    const text = formatChecksumList(this.items);
    const dir = OutputDir.resolve(path.dirname(path.resolve(this.file)), '');
    const out = AtomicOutput.create(dir, path.basename(this.file));
    try {
      out.writeSync([Buffer.from(text, 'utf8')]);
      await out.commit(true, true);
    } catch (e) {
      out.discard();
      throw e;
    }
  }

  summary(): SummaryPart {
    return {
      fields: { write_checksums: { file: this.file, entries: this.items.length } },
      lines: [`checksums: ${this.items.length} written to ${showPath(this.file)}`],
    };
  }
}
