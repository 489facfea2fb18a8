// The output drive's rules (docs/removable-drives.md), a check of decrypt and encrypt runs. Every
// planned output is admitted by its drive before anything of it is opened or written
// (fsops/target/guard.ts): a name the drive's file system cannot hold fails as bad-name (or, with
// --portable-names, is written under a name it can hold, and its row says from what and why), two
// names the drive holds as one fail as name-conflict, naming each other, and an output larger
// than the drive holds fails as too-large (encrypt: the envelope's size, known from the file's;
// decrypt: the plaintext's, once the envelope's header says it, before the output's folder is
// made). When an output may land on a drive that folds names (FAT, exFAT, NTFS, SMB, macOS,
// Windows) and the inputs can be read twice, one pass over every planned output before the run
// finds every pair, so that both files of a pair fail and neither is written. The summary names
// the drives with rules of their own and counts the renamed outputs.

import * as path from 'node:path';
import { envelopeSize } from '../../format/layout.js';
import { PlanError } from '../../fsops/errors.js';
import { planOutput, type Planned } from '../../fsops/plan.js';
import { NameGuard, type Admitted } from '../../fsops/target/guard.js';
import { FAT_MAX_FILE, mayFold } from '../../fsops/target/target.js';
import type { FoundFile } from '../../fsops/walk.js';
import { Inputs, type InputItem } from '../inputs.js';
import type { FileResult } from '../results.js';
import { showPath } from '../show.js';
import type { Check, CheckModule, CheckSetup, SummaryPart } from './check.js';

export const outputDrives: CheckModule = {
  applies: (job) => job.command === 'decrypt' || job.command === 'encrypt',
  start: async (setup) => {
    const guard = new NameGuard(setup.job.command !== 'verify' && setup.job.output.portableNames);
    await prepass(guard, setup);
    return new OutputDrives(guard, setup);
  },
};

/**
 * Every planned output of the run, before it, when the inputs can be read twice and an output may
 * land on a drive that folds names; a file whose output cannot be planned fails on its own in the run.
 */
async function prepass(guard: NameGuard, o: CheckSetup): Promise<void> {
  const spec = o.stream.spec;
  const outDir = o.out?.dir ?? null;
  const bases = spec.filesFrom ? null : outDir !== null ? [outDir] : spec.paths;
  if (!o.stream.rereadable || !mayFold(bases)) return;
  const direction = spec.command === 'encrypt' ? 'encrypt' : 'decrypt';
  const ext = spec.extension;
  await guard.prepass((async function* (): AsyncGenerator<Planned> {
    for await (const it of new Inputs(spec).stream()) {
      if (it.kind !== 'file') continue;
      const f = it.file;
      if (direction === 'encrypt' && (f.root === null || f.listed) && path.basename(f.path).endsWith(ext)) continue; // skipped by the run
      try {
        yield planOutput(f, direction, ext, outDir, o.out?.baseId ?? null);
      } catch (e) {
        if (!(e instanceof PlanError)) throw e;
      }
    }
  })());
}

class OutputDrives implements Check {
  /** Each file's output as its drive admitted it, until its row is done. */
  private readonly admitted = new WeakMap<FoundFile, Admitted>();
  /** encrypt with AENV/1: the chunk size, which with a file's size gives its envelope's. */
  private readonly chunkSize: number | null;
  private renamed = 0;

  constructor(private readonly guard: NameGuard, o: CheckSetup) {
    const job = o.job;
    this.chunkSize = job.command === 'encrypt' && job.sealing.format === 'aenv' ? job.sealing.chunkSize : null;
  }

  /** The output as its drive can hold it; throws TargetError (bad-name, name-conflict; too-large for encrypt's envelope). */
  plan(f: FoundFile, p: Planned): Planned {
    const a = this.guard.admit(p);
    if (this.chunkSize !== null) NameGuard.checkSize(a, envelopeSize(f.size, this.chunkSize), 'envelope');
    this.admitted.set(f, a);
    return a.planned;
  }

  /** decrypt: a plaintext larger than the drive holds fails as too-large before anything is written. */
  limit(f: FoundFile): ((bytes: number) => void) | undefined {
    const a = this.admitted.get(f);
    return a && a.target.maxFileSize !== null ? (bytes) => NameGuard.checkSize(a, bytes, 'plaintext') : undefined;
  }

  /** The row with the renaming said (and counted); a driver's odd error explained. */
  async seen(it: InputItem, r: FileResult): Promise<FileResult> {
    if (it.kind !== 'file') return r;
    const a = this.admitted.get(it.file);
    if (!a) return r;
    this.admitted.delete(it.file);
    if (r.status === 'io-error' && a.target.label.includes('fusefat') && r.detail.endsWith('(EPERM in write)')) {
      // fusefat answers a write to a full drive with EPERM (and tells no free space at all)
      r = { ...r, detail: `${r.detail}: ${a.target.label} says so when the drive is full`, hint: 'make room on the drive (fusefat cannot tell its free space), then run again' };
    }
    if (!a.renamed || r.output === undefined) return r;
    if (r.status === 'ok') this.renamed++;
    const { from, fromRel, toRel, reason } = a.renamed;
    return { ...r, renamed: { from, fromRel, toRel, reason } };
  }

  /** The drives with rules of their own (JSON and a line each), and the outputs renamed. */
  summary(): SummaryPart {
    const drives = this.guard.targets.seen().filter((t) => t.kind !== 'posix');
    const fields = {
      ...(this.guard.portable ? { renamed: this.renamed } : {}),
      ...(drives.length ? {
        drives: drives.map((t) => ({
          mount: t.mountPoint, file_system: t.label, windows_names: t.rules.windows, case_insensitive: t.rules.caseInsensitive,
          max_file_size: t.maxFileSize, hard_links: t.hardLinks, modes: t.modes,
        })),
      } : {}),
    };
    const lines = drives.map((t) => {
      const facts = [
        t.rules.windows ? 'Windows names' : null, t.rules.caseInsensitive ? 'case-insensitive' : null,
        t.rules.normalizationInsensitive ? 'Unicode-normalising' : null,
        t.maxFileSize !== null ? `files up to ${t.maxFileSize === FAT_MAX_FILE ? '4 GiB - 1 byte' : `${t.maxFileSize} bytes`}` : null,
      ].filter(Boolean);
      return `output drive: ${t.label}${t.mountPoint ? ` at ${showPath(t.mountPoint)}` : ''}${facts.length ? ` (${facts.join(', ')})` : ''}`;
    });
    if (this.renamed) lines.push(`renamed: ${this.renamed} output${this.renamed === 1 ? '' : 's'} by --portable-names (each row says from what)`);
    return { fields, lines };
  }
}
