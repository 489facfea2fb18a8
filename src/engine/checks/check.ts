// A check of a run over files: an observer the run tells what happens, in this order, and that
// may decide about outputs and rows (the batch manifest, the checksum list, writing a checksum
// list, sealing a manifest, outputs that would land in a walked folder). Adding a check is one
// new module with a CheckModule, listed in engine/run.ts; every method is optional.
//
//   preflight  before any work: a usage error (thrown), or a refusal to run at all
//   begin      a folder PATH begins, before any of its files
//   plan       an output is planned for a file, before anything is opened or written: the check
//              keeps it, or refuses it (PlanError: the file fails with the reason and a hint)
//   place      decrypt: once the file's header is read, the file its plaintext is named after
//              (a batch manifest names it by the envelope), or a row without an output
//   plaintext  decrypt: the judge of the file's plaintext, asked with its SHA-256 before the
//              commit (a mismatch is not committed)
//   limit      decrypt: the check of the plaintext's size, asked once the envelope says it,
//              before the output's folder is made (throws to refuse it: the file fails)
//   seen       a file (or a problem of the walk or the list) is done, in its lane: the check may
//              work on it (hash it) and amend its row
//   row        the row as it is reported, in input order: annotated, or held back (null) until
//   finish     every input is reported: the check emits what it held and what is missing, and
//              does its own work (write the list, seal the manifest)
//   summary    its part of the summary: JSON fields, lines under the table, whether the batch
//              does not match

import type { FileHash } from '../file-hash.js';
import type { Planned } from '../../fsops/plan.js';
import type { FoundFile } from '../../fsops/walk.js';
import type { RunContext } from '../context.js';
import type { Sealing, Seen } from '../aenv.js';
import type { Judge, Placed } from '../files.js';
import type { InputItem, Inputs } from '../inputs.js';
import type { FileInputs, Job, Note } from '../job.js';
import type { OutFolder } from '../out-folder.js';
import type { FileResult } from '../results.js';

/** A job over files and folders (not a stream). */
export type FilesJob = Job & { inputs: FileInputs };

/** The run stops before any work, with exit status 1: notes, and the summary's fields. */
export interface Refusal {
  notes: Note[];
  fields: Record<string, unknown>;
}

/** What a check contributes to the summary. */
export interface SummaryPart {
  /** JSON fields, in order. */
  fields?: Record<string, unknown>;
  /** Lines under the people's summary table. */
  lines?: string[];
  /** The batch does not match (exit status 1 though no file failed). */
  mismatch?: boolean;
}

/** What a check gets of the run. */
export interface CheckSetup {
  job: FilesJob;
  inputs: FileInputs;
  /** The run's inputs (whether they can be read twice; what they found). */
  stream: Inputs;
  ctx: RunContext;
  /** The run has keys (decrypt, encrypt, keyed verify). */
  keyed: boolean;
  /** The -o folder (decrypt, encrypt). */
  out: OutFolder | null;
  /** encrypt: the run's salt and key. */
  sealing: Sealing | null;
  note(n: Note): void;
  /** Reports a row of the check's own (held back, missing); resolves when the view can take the next (RunView.drained). */
  emit(r: FileResult): Promise<void>;
}

/** decrypt: where one file's plaintext goes, by what its header says. */
export interface Placement {
  /** The file whose output it takes (itself, or the file it was sealed as), or a row without an output. */
  place(seen: Seen | null): { file: FoundFile; warning?: string } | Extract<Placed, { row: unknown }>;
  /** Written, before the commit: why it is not the envelope sealed under that name, or null. */
  confirm(seen: Seen): string | null;
}

export interface Check {
  begin?(root: string): Promise<void>;
  place?(file: FoundFile): Placement | undefined;
  plan?(file: FoundFile, planned: Planned): Planned;
  plaintext?(file: FoundFile): Judge | undefined;
  limit?(file: FoundFile): ((bytes: number) => void) | undefined;
  seen?(item: InputItem, row: FileResult, sha256: () => Promise<FileHash>): Promise<FileResult>;
  row?(row: FileResult, item: InputItem): FileResult | null;
  finish?(): Promise<void>;
  summary?(): SummaryPart;
}

export interface CheckModule {
  applies(job: FilesJob): boolean;
  preflight?(job: FilesJob): Promise<Refusal | null>;
  start(setup: CheckSetup): Promise<Check>;
}
