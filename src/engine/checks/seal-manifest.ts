// `encrypt --manifest` (docs/MANIFEST.md): once every envelope is sealed, one more envelope is
// written at the root of -o DIR: the batch manifest, sealed with the same password and salt,
// listing each envelope's path, plaintext size, file nonce and content digest. A run in which a
// file was not sealed writes none (a manifest lists a whole batch) and exits 1. No envelope of
// the run may take the manifest's name.

import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { MANIFEST_STEM, manifestName, type ManifestEntry } from '../../batch/manifest.js';
import { toSlashPath } from '../../batch/relpath.js';
import { PlanError } from '../../fsops/errors.js';
import type { Planned } from '../../fsops/plan.js';
import type { FoundFile } from '../../fsops/walk.js';
import { UsageError } from '../job.js';
import { sealManifest } from '../manifest-file.js';
import { describeIoError, type FileResult } from '../results.js';
import { showPath } from '../show.js';
import { BATCH_HINTS } from '../statuses.js';
import type { Check, CheckModule, CheckSetup, SummaryPart } from './check.js';

export const batchManifest: CheckModule = {
  applies: (job) => job.command === 'encrypt' && job.manifest,

  /** An -o DIR that holds a manifest already (without --force), or a file that would be sealed under its name: usage errors. */
  async preflight(job) {
    if (job.command !== 'encrypt' || job.output.dir === null) throw new UsageError('--manifest needs -o DIR (the manifest sits at the root of the tree it lists)', 'e.g. aenv encrypt cases/0815 -o outgoing --manifest');
    const name = manifestName(job.inputs.extension);
    const where = path.join(job.output.dir, name);
    if (job.output.existing !== 'replace' && (await fsp.lstat(where).catch(() => null))) {
      throw new UsageError(`${showPath(where)} exists already: -o DIR holds a batch manifest`, 'seal the batch into an empty -o folder, or pass --force to replace it (and the envelopes)');
    }
    for (const p of job.inputs.paths) {
      const st = await fsp.stat(p).catch(() => null);
      const clash = st?.isDirectory() ? (await fsp.lstat(path.join(p, MANIFEST_STEM)).catch(() => null)) !== null : path.basename(p) === MANIFEST_STEM;
      if (clash) {
        throw new UsageError(`${showPath(st?.isDirectory() ? path.join(p, MANIFEST_STEM) : p)} would be sealed as ${name}, the batch manifest's name`, 'rename that file, or seal without --manifest');
      }
    }
    return null;
  },

  start: async (setup) => new ManifestWriter(setup),
};

class ManifestWriter implements Check {
  private readonly name: string;
  private readonly entries: ManifestEntry[] = [];
  private unsealed = 0;
  private result: Record<string, unknown> = {};
  private failed = false;

  constructor(private readonly o: CheckSetup) {
    this.name = manifestName(o.inputs.extension);
  }

  private get dir(): string {
    const dir = this.o.out?.dir;
    if (!dir) throw new Error('encrypt --manifest without -o DIR');
    return dir;
  }

  plan(_f: FoundFile, p: Planned): Planned {
    if (p.relDir === '' && path.basename(p.output) === this.name) {
      throw new PlanError(`its envelope would be named ${this.name}, the batch manifest's name`, 'rename the file, or seal without --manifest');
    }
    return p;
  }

  row(r: FileResult): FileResult {
    if (r.status !== 'ok' || !r.envelope || r.output === undefined) this.unsealed++;
    else this.entries.push({ path: toSlashPath(path.relative(this.dir, r.output), path.sep), size: r.envelope.size ?? 0, nonce: r.envelope.nonce, digest: r.envelope.digest! });
    return r;
  }

  async finish(): Promise<void> {
    const where = path.join(this.dir, this.name);
    if (this.unsealed > 0) {
      const n = this.unsealed;
      this.failed = true;
      this.result = { path: where, written: false, error: `${n} file${n === 1 ? ' was' : 's were'} not sealed in this run` };
      this.o.note({ level: 'error', text: `the batch manifest was not written: ${n} file${n === 1 ? ' was' : 's were'} not sealed in this run, and a manifest lists a whole batch` });
      this.o.note({ level: 'hint', text: BATCH_HINTS.manifestNotWritten });
      return;
    }
    try {
      const m = await sealManifest(this.dir, this.o.out!.baseId, this.name, this.entries, this.o.sealing!, this.o.ctx, this.o.job.command === 'encrypt' && this.o.job.output.existing === 'replace');
      this.result = { path: m.path, written: true, entries: m.entries };
      this.o.note({ level: 'result', text: `${'manifest'.padEnd(14)} ${showPath(m.path)}: ${m.entries} envelope${m.entries === 1 ? '' : 's'} listed, sealed with the run's password and salt` });
    } catch (e) {
      this.failed = true;
      const detail = e instanceof Error && e.name === 'ManifestError' ? e.message : describeIoError(e);
      this.result = { path: where, written: false, error: detail };
      this.o.note({ level: 'error', text: `the batch manifest ${showPath(where)} was not written: ${detail}` });
    }
  }

  summary(): SummaryPart {
    return { fields: { manifest: this.result }, mismatch: this.failed };
  }
}
