// One input of a run in its lane, by command: a file's output planned by name (the run's checks
// see the plan and may refuse it), then the file opened, written and committed, or checked
// (verify) (engine/files.ts); then the checks that look at each file (a checksum list hashes
// it). A problem of the walk or of the list is passed on as
// it is. The file's own context counts its progress, so that when it ends (ok or not) the
// display is topped up to the file's whole size: it reaches 100 % when the last file is done.

import { randomBytes } from 'node:crypto';
import * as path from 'node:path';
import type { KeyCache } from '../crypto/keys.js';
import { KDF_ARGON2ID, KDF_PBKDF2, KDF_SCRYPT, SUITE_AES_256_GCM, SUITE_CHACHA20_POLY1305, type KdfId, type SuiteId } from '../format/constants.js';
import { DEFAULT_PARAMS } from '../format/kdf-params.js';
import { PlanError } from '../fsops/errors.js';
import { planOutput, type Direction, type Planned } from '../fsops/plan.js';
import type { FoundFile } from '../fsops/walk.js';
import type { Check, FilesJob, Placement } from './checks/check.js';
import type { RunContext } from './context.js';
import { hashFile, type FileHash } from './file-hash.js';
import type { Sealing } from './aenv.js';
import { decryptFile, encryptFile, protectFile, verifyFile, type Judge, type Placer, type WriteOptions } from './files.js';
import type { ForeignTool } from './ibm.js';
import type { InputItem } from './inputs.js';
import type { OutputPolicy, SealingParams } from './job.js';
import type { OutFolder } from './out-folder.js';
import { progressSize } from './prepass.js';
import { failure, type FileResult } from './results.js';

/** A file item of the run's inputs. */
type FileItem = InputItem & { kind: 'file' };

/** One input in its lane, start to end: its row. */
export type Step = (it: InputItem) => Promise<{ it: InputItem; r: FileResult }>;

export interface StepSetup {
  out: OutFolder | null;
  checks: readonly Check[];
  /** encrypt: the run's salt and key (null: IBM's asprotect seals). */
  sealing: Sealing | null;
  /** How IBM's tool is used (null: encrypt with AENV/1). */
  foreign: ForeignTool | null;
  /** Bytes of the run done (`quiet`: no redraw, the row follows). */
  progress: (bytes: number, quiet: boolean) => void;
  /** A progress display counts: each file ends having counted what precount gave it (prepass.ts progressSize). */
  counting: boolean;
}

const SUITES: Record<Extract<SealingParams, { format: 'aenv' }>['suite'], SuiteId> = { 'aes-256-gcm': SUITE_AES_256_GCM, 'chacha20-poly1305': SUITE_CHACHA20_POLY1305 };
const KDFS: Record<Extract<SealingParams, { format: 'aenv' }>['kdf'], KdfId> = { scrypt: KDF_SCRYPT, argon2id: KDF_ARGON2ID, pbkdf2: KDF_PBKDF2 };

/** One encrypt run's sealing: one salt and one master key (one key derivation) for every file. */
export async function sealingFor(p: Extract<SealingParams, { format: 'aenv' }>, keys: KeyCache): Promise<Sealing> {
  const params = DEFAULT_PARAMS[KDFS[p.kdf]];
  const salt = randomBytes(32);
  return { suite: SUITES[p.suite], chunkLog2: Math.log2(p.chunkSize), params, salt, master: await keys.master(params, salt) };
}

function writeOptions(o: OutputPolicy): WriteOptions {
  return { force: o.existing === 'replace', skipExisting: o.existing === 'skip', removeSource: o.removeSource };
}

export function stepFor(job: FilesJob, ctx: RunContext, s: StepSetup): Step {
  const file = fileStep(job, s);
  const checks = s.checks.filter((c) => c.seen);
  return async (it) => {
    if (it.kind === 'row') {
      let r = it.result;
      for (const c of checks) r = await c.seen!(it, r, () => Promise.reject(new Error('not a file')));
      return { it, r };
    }
    let counted = 0;
    // Object.create: the file's context reads `interrupted` (and the rest) from the run's.
    const fctx = Object.create(ctx, {
      progress: { value: (n: number) => { counted += n; s.progress(n, false); } },
    }) as RunContext;
    const f = it.file;
    let r = await file(it, fctx);
    let hash: Promise<FileHash> | null = null;
    const sha256 = (): Promise<FileHash> => (hash ??= hashFile(f.path, fctx, { dev: f.dev, ino: f.ino }, f.followLink));
    for (const c of checks) r = await c.seen!(it, r, sha256);
    if (s.counting) {
      const total = job.command === 'decrypt' && r.status === 'ok' && r.via === undefined ? r.bytes : await progressSize(job.command, f.path, f.size);
      if (total > counted) s.progress(total - counted, true);
    }
    return { it, r };
  };
}

/** One file, start to end, with the file's own context. */
function fileStep(job: FilesJob, s: StepSetup): (it: FileItem, run: RunContext) => Promise<FileResult> {
  const ext = job.inputs.extension;
  /** The output of `f` by its name, as every check allows it; or the row of a file whose output cannot be planned. */
  const plan = (f: FoundFile, direction: Direction): { planned: Planned } | { refused: FileResult } => {
    try {
      let p = planOutput(f, direction, ext, s.out?.dir ?? null, s.out?.baseId ?? null);
      for (const c of s.checks) if (c.plan) p = c.plan(f, p);
      return { planned: p };
    } catch (e) {
      if (!(e instanceof PlanError)) throw e;
      return { refused: failure(f.path, undefined, e) };
    }
  };
  switch (job.command) {
    case 'decrypt': {
      const opt: WriteOptions = { ...writeOptions(job.output), foreign: s.foreign ?? undefined };
      return async ({ file: f }, run) => {
        const p = plan(f, 'decrypt');
        if ('refused' in p) return p.refused;
        const judgeOf = (g: FoundFile): Judge | undefined => {
          let judge;
          for (const c of s.checks) judge ??= c.plaintext?.(g);
          return judge;
        };
        const judge = judgeOf(f);
        let limit;
        for (const c of s.checks) limit ??= c.limit?.(f);
        let placement: Placement | undefined;
        for (const c of s.checks) placement ??= c.place?.(f);
        const placer: Placer | undefined = placement && {
          // the output of the file the envelope was sealed as, planned and judged as that file's
          place: (seen) => {
            const to = placement.place(seen);
            if ('row' in to) return to;
            if (to.file === f) return { planned: p.planned, judge };
            const q = plan(to.file, 'decrypt');
            if ('refused' in q) return { row: q.refused };
            return { planned: q.planned, judge: judgeOf(to.file), warning: to.warning };
          },
          confirm: (seen) => placement.confirm(seen),
        };
        return decryptFile(f, p.planned, { ...opt, ...(judge ? { judge } : {}), ...(limit ? { limit } : {}), ...(placer ? { placer } : {}) }, run);
      };
    }
    case 'verify':
      return async ({ file: f, manifest }, run) => {
        const r = await verifyFile(f, run, s.foreign ?? undefined);
        return manifest ? { ...r, detail: `batch manifest; ${r.detail}` } : r;
      };
    case 'encrypt': {
      const opt = writeOptions(job.output);
      const foreign = s.foreign;
      return async ({ file: f }, run) => {
        if ((f.root === null || f.listed) && path.basename(f.path).endsWith(ext)) {
          return { path: f.path, status: 'skipped', bytes: 0, detail: `already ends in ${ext}` };
        }
        const p = plan(f, 'encrypt');
        if ('refused' in p) return p.refused;
        if (foreign?.tool) return protectFile(f, p.planned, opt, { ...foreign, tool: foreign.tool }, run);
        return encryptFile(f, p.planned, opt, run, s.sealing!);
      };
    }
  }
}
