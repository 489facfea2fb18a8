// One file, start to end (docs/FORMAT.md "Decoding a file"; docs/CLI.md "Whole outputs only",
// "Outputs that already exist", "Removing the source"): decrypt and encrypt into an output
// committed atomically, verify writing nothing. The input is opened once, bound to the file the
// walk saw (device, inode); its first bytes are read once and make the one choice of how it is
// opened: an AENV/1 envelope by aenv's own decoder (engine/aenv.ts), anything else by IBM's
// asunprotect when the run has it (engine/ibm.ts). Either writes a new output in the planned
// folder, which is committed here, the one way (fsops/atomic.ts: only while its folder and
// names are still aenv's); then --remove-source deletes the input only while its name still
// points to the file that was read. A failure leaves no plaintext and no temporary file behind.
// decrypt can check a plaintext's SHA-256 against a checksum list before the commit
// (WriteOptions.judge).

import { unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { hasMagic } from '../format/header.js';
import { EnvelopeError } from '../format/status.js';
import { ExistsError, removeStaleTemps } from '../fsops/atomic.js';
import { fsyncDir, OutputDir } from '../fsops/dirs.js';
import { InputFile, type FileId } from '../fsops/input.js';
import type { Planned } from '../fsops/plan.js';
import { lstatOrNull } from '../fsops/stat.js';
import { EnvelopeOpener, EnvelopeSealer, type Sealing, type Seen } from './aenv.js';
import { checkInterrupted, Interrupted, type RunContext } from './context.js';
import { hashFile } from './file-hash.js';
import { ToolFailure, ToolWriter, verifyByTool, type ForeignTool } from './ibm.js';
import { giveStart, readStart, type Start } from './start.js';
import { describeIoError, failure, type FileResult } from './results.js';
import { ROW_HINTS } from './statuses.js';
import type { Output, Writer, Written } from './writer.js';

export interface WriteOptions {
  force: boolean;
  skipExisting: boolean;
  removeSource: boolean;
  /** Files without the AENV magic go to IBM's tool (engine/ibm.ts); unset: they stay not-envelope. */
  foreign?: ForeignTool | undefined;
  /** decrypt --checksums: the verdict on the plaintext's SHA-256, asked before the commit; a mismatch is not committed. */
  judge?: Judge | undefined;
  /** Throws when the output's drive cannot hold a plaintext of this many bytes (engine/checks/drives.ts), asked once the envelope says it, before anything is written. */
  limit?: ((bytes: number) => void) | undefined;
  /** decrypt of a tree with a batch manifest: the output named by the envelope, not by the file's name (engine/checks/manifest.ts). */
  placer?: Placer | undefined;
}

/** Where an envelope's plaintext goes, once its header is read: its output (and judge), or a row without any output. */
export type Placed =
  | { planned: Planned; judge?: Judge | undefined; warning?: string }
  | { row: Pick<FileResult, 'status' | 'detail'> & { output?: string } };

/** A batch manifest's say on one file of decrypt (engine/checks/manifest.ts). */
export interface Placer {
  /** Once the header is read (null: not an AENV/1 envelope), before the output's folder is made. */
  place(seen: Seen | null): Placed;
  /** Once written (its content digest computed), before the commit: why it is not the sealed envelope, or null. */
  confirm(seen: Seen): string | null;
}

/** The plaintext is not committed: the envelope is not the one the batch manifest seals under that name. */
class BatchRefusal extends Error {}

/** A checksum list's verdict on a plaintext (src/batch/checksum-check.ts); `peek` says it without counting it. */
export interface Judge {
  (sha256: Uint8Array): { kind: 'ok' | 'mismatch' | 'extra'; detail: string };
  peek?(sha256: Uint8Array): 'ok' | 'mismatch' | 'extra';
}

/** An input: a path the walk found (with the identity it saw), or a bare path. */
export type InputPath = string | { path: string; dev: number; ino: number; followLink: boolean };

export function open(input: InputPath): InputFile {
  return typeof input === 'string' ? InputFile.open(input) : InputFile.open(input.path, input as FileId, input.followLink);
}

/**
 * decrypt: the one choice by the file's first bytes, then the output written and committed; the
 * first bytes go back to the run once the writer is released.
 */
export async function decryptFile(input: InputPath, p: Planned, opt: WriteOptions, run: RunContext): Promise<FileResult> {
  let start: Start | undefined;
  try {
    return await writeFile(input, p, opt, run, 'decrypted', async (src) => {
      start = await readStart(src, run);
      const tool = hasMagic(start.bytes) ? null : opt.foreign?.tool ?? null;
      return tool ? new ToolWriter(tool, opt.foreign!, src, run) : new EnvelopeOpener(start, run, opt.limit);
    });
  } finally {
    if (start) giveStart(start, run);
  }
}

/** encrypt: the file sealed as an AENV/1 envelope with the run's salt and key. */
export async function encryptFile(input: InputPath, p: Planned, opt: WriteOptions, run: RunContext, s: Sealing): Promise<FileResult> {
  return writeFile(input, p, opt, run, 'encrypted', async (src) => new EnvelopeSealer(s, src, run));
}

/** `encrypt --format ibm`: the file sealed by IBM's asprotect (`f.tool`). */
export async function protectFile(input: InputPath, p: Planned, opt: WriteOptions, f: ForeignTool & { tool: NonNullable<ForeignTool['tool']> }, run: RunContext): Promise<FileResult> {
  return writeFile(input, p, opt, run, 'encrypted', async (src) => new ToolWriter(f.tool, f, src, run));
}

/**
 * The way every output goes: exists/skipped before any work, the input opened, its writer
 * chosen and ready, the output's folder made, the output written, judged (--checksums), and
 * committed; the source removed when asked. Whatever happens, nothing of an unfinished output
 * stays, and what the file holds is let go.
 */
async function writeFile(input: InputPath, p: Planned, opt: WriteOptions, run: RunContext, verb: 'decrypted' | 'encrypted',
  choose: (src: InputFile) => Promise<Writer>): Promise<FileResult> {
  const name = typeof input === 'string' ? input : input.path;
  // With a batch manifest, an output that exists may not be this envelope's, and --skip-existing
  // skips only a whole output: both are decided once the header is read.
  const late = opt.placer !== undefined || (opt.skipExisting && verb === 'decrypted');
  let early = precheck(name, p, opt, run);
  if (early && !late) return early;
  let judge = opt.judge;
  let placedWarning: string | undefined;
  let replace = opt.force;
  let redone = '';
  let src: InputFile | undefined;
  let writer: Writer | undefined;
  let out: Output | undefined;
  let shared: string | undefined;
  let written: Written | undefined;
  let verdict: FileResult['checksum'];
  try {
    src = open(input);
    writer = await choose(src);
    await writer.ready();
    // The writer now knows what it opens (an envelope's header and file nonce): a batch manifest
    // names the output by the envelope rather than by the file's name, here, before its folder
    // is made and before any byte is written.
    if (opt.placer) {
      const seen = writer.envelope?.() ?? null;
      const placed = opt.placer.place(seen);
      if ('row' in placed) return { path: name, bytes: 0, ...placed.row, ...(seen ? { envelope: seen } : {}) };
      p = placed.planned;
      judge = placed.judge;
      placedWarning = placed.warning;
      early = precheck(name, p, opt, run);
    }
    if (early) {
      const seen = writer.envelope?.() ?? null;
      const whole = early.status === 'skipped' ? await wholeOutput(p.output, seen, judge, run) : { whole: true, why: '' };
      const more = { ...(placedWarning ? { warning: placedWarning } : {}), ...(seen ? { envelope: seen } : {}) };
      if (whole.whole) return { ...early, detail: `${early.detail}${whole.why}`, ...more, ...(whole.verdict ? { checksum: whole.verdict } : {}) };
      replace = true; // not a whole output: redone, replaced atomically
      redone = whole.why;
    }
    const dir = outputDir(p, run);
    shared = sharedFolder(dir, run);
    written = await writer.write(dir, path.basename(p.output), judge !== undefined);
    out = written.out;
    if (judge && written.sha256) {
      verdict = judge(written.sha256);
      if (verdict.kind === 'mismatch') throw checksumRefusal(verdict.detail);
    }
    if (opt.placer && written.fields.envelope) {
      const why = opt.placer.confirm(written.fields.envelope);
      if (why) throw new BatchRefusal(why);
    }
    checkInterrupted(run);
    // decrypt: the envelope's time (encrypt gave it the original's); encrypt: the original's (issue 22)
    out.keepTime(src.mtimeMs);
    await out.commit(replace, opt.removeSource);
    out = undefined;
    if (opt.removeSource) await removeSource(src);
    return {
      path: name, output: p.output, status: 'ok', bytes: written.bytes,
      detail: `${written.detail}${opt.removeSource ? `, ${verb === 'decrypted' ? 'envelope' : 'source'} removed` : ''}`,
      ...written.fields, ...(shared ? { sharedFolder: shared } : {}), ...(verdict ? { checksum: verdict } : {}),
      ...(placedWarning || redone ? { warning: [written.fields.warning, placedWarning, redone].filter(Boolean).join('; ') } : {}),
    };
  } catch (e) {
    if (e instanceof ToolFailure) return { ...e.row(name, p.output), ...(shared ? { sharedFolder: shared } : {}) };
    if (e instanceof BatchRefusal) {
      return { path: name, status: 'batch-mismatch', bytes: 0, detail: e.message, ...(written ? { envelope: written.fields.envelope } : {}), ...(verdict ? { checksum: verdict } : {}) };
    }
    let r = writeFailure(name, p, opt, e, written?.bytes ?? 0, verb, shared); // rethrows an interruption
    if (writer) r = writer.failed(r);
    if (verdict) r = { ...r, checksum: verdict, ...(verdict.kind === 'mismatch' ? { hint: ROW_HINTS.checksumList } : {}) };
    return noMagic(e) && opt.foreign ? { ...r, hint: ROW_HINTS.noTool } : r;
  } finally {
    writer?.stop();
    await src?.settled(); // no read in flight once the file is closed
    out?.discard();
    src?.close();
    writer?.release();
  }
}

/** verify: keyed (every step, the digest included) when the run has keys, else passwordless (steps 1-5, 7-9); by IBM's tool for a file without the magic. */
export async function verifyFile(input: InputPath, run: RunContext, foreign?: ForeignTool): Promise<FileResult> {
  const name = typeof input === 'string' ? input : input.path;
  let src: InputFile | undefined;
  let start: Start | undefined;
  let opener: EnvelopeOpener | undefined;
  try {
    src = open(input);
    start = await readStart(src, run);
    const tool = hasMagic(start.bytes) ? null : foreign?.tool ?? null;
    if (tool) return await verifyByTool(name, src, tool, foreign!, () => privateTemp(run), run);
    opener = new EnvelopeOpener(start, run);
    return await opener.check(name);
  } catch (e) {
    let r = failure(name, undefined, e); // rethrows an interruption
    if (opener) r = opener.failed(r);
    return noMagic(e) && foreign ? { ...r, hint: ROW_HINTS.noTool } : r;
  } finally {
    opener?.stop();
    await src?.settled();
    src?.close();
    opener?.release();
    if (start) giveStart(start, run);
  }
}

/** Decoding step 1 failed: no AENV magic (or fewer bytes than the magic). */
function noMagic(e: unknown): boolean {
  return e instanceof EnvelopeError && e.status === 'not-envelope';
}

/**
 * A mismatching plaintext is not committed: the file is corrupt, the detail says why. The
 * envelope opened intact (every chunk authenticated, or IBM's tool succeeded), so it is the list
 * and the plaintext that differ, not the envelope (the hint says so too).
 */
function checksumRefusal(detail: string): EnvelopeError {
  return new EnvelopeError('corrupt', `plaintext ${detail}: the envelope opened intact, so the list and the plaintext differ; the output was not committed`);
}

/** The folder verify's private folders go in (IBM's tool): the system's temporary folder (verify must work on read-only media). */
function privateTemp(run: RunContext): OutputDir {
  const base = tmpdir();
  return outputDir({ base, relDir: '', output: path.join(base, 'verify'), within: null, baseId: null }, run);
}

/** The output folder, resolved once per run, cleaned of dead runs' temporary files once. */
export function outputDir(p: Planned, run: RunContext): OutputDir {
  const key = `${p.base}\0${p.relDir}\0${p.within ?? ''}`;
  let dir = run.dirs.get(key);
  if (!dir) {
    dir = OutputDir.resolve(p.base, p.relDir, p.within ?? undefined, p.baseId);
    run.dirs.set(key, dir);
  }
  cleanOnce(dir.path, run);
  return dir;
}

function cleanOnce(dir: string, run: RunContext): void {
  if (run.cleaned.has(dir)) return;
  run.cleaned.add(dir);
  removeStaleTemps(dir);
}

/** The folder other users may write to, the first time this run writes under it (the row then warns). */
function sharedFolder(dir: OutputDir, run: RunContext): string | undefined {
  if (dir.sharedWritable === null || run.warned.has(dir.sharedWritable)) return undefined;
  run.warned.add(dir.sharedWritable);
  return dir.sharedWritable;
}

/** exists/skipped before any work; the commit checks again, atomically. */
function precheck(src: string, p: Planned, opt: WriteOptions, run: RunContext): FileResult | null {
  let there: boolean;
  try {
    there = !opt.force && lstatOrNull(p.output, true) !== null;
  } catch (e) {
    return failure(src, p.output, e);
  }
  if (!there) return null;
  // A run killed after naming its output but before removing its temporary file left one
  // here; a later run that skips this output still cleans the folder.
  cleanOnce(path.dirname(p.output), run);
  return { path: src, output: p.output, status: opt.skipExisting ? 'skipped' : 'exists', bytes: 0, detail: 'output already exists' };
}

/**
 * decrypt --skip-existing: whether the output already there is this envelope's whole plaintext:
 * a regular file of the size the envelope declares and, when a checksum list gives its SHA-256,
 * with that digest. `why` is said on the row either way. IBM's envelopes declare no size: their
 * outputs are taken as they are, and the row says so.
 */
async function wholeOutput(output: string, seen: Seen | null, judge: Judge | undefined, run: RunContext): Promise<{ whole: boolean; why: string; verdict?: FileResult['checksum'] }> {
  if (seen === null || seen.size === null) return { whole: true, why: ' (its size not checked: the envelope does not declare it)' };
  const st = lstatOrNull(output);
  if (!st?.isFile()) return { whole: false, why: `redone: the output there was ${st ? 'not a regular file' : 'gone'}` };
  if (st.size !== seen.size) return { whole: false, why: `redone: the output there had ${st.size} of the ${seen.size} bytes the envelope declares (an interrupted or damaged earlier output)` };
  if (!judge?.peek) return { whole: true, why: ` (${seen.size} bytes, as the envelope declares)` };
  let digest: Uint8Array;
  try {
    digest = (await hashFile(output, run)).digest;
  } catch (e) {
    if (e instanceof Interrupted) throw e;
    return { whole: false, why: `redone: the output there could not be read (${describeIoError(e)})` };
  }
  if (judge.peek(digest) === 'mismatch') return { whole: false, why: 'redone: the output there had the declared size but not the SHA-256 of the checksum list' };
  const verdict = judge(digest); // counted: the list's verdict on this output is final
  return { whole: true, why: ` (${seen.size} bytes, as the envelope declares${verdict.kind === 'ok' ? ', and its SHA-256 as the checksum list gives' : ''})`, verdict };
}

/** The output is in place, but --remove-source could not remove the source. */
class SourceKept extends Error {
  constructor(readonly reason: string) {
    super('source not removed');
  }
}

/** --remove-source: the input goes only while its name still points to the file that was read. */
async function removeSource(src: InputFile): Promise<void> {
  await src.settled();
  src.close();
  if (!src.nameStillPointsHere()) throw new SourceKept('its name no longer points to the file that was read (it was renamed, replaced or changed meanwhile)');
  try {
    unlinkSync(src.path);
  } catch (e) {
    throw new SourceKept(describeIoError(e));
  }
  await fsyncDir(path.dirname(src.path));
}

function writeFailure(src: string, p: Planned, opt: WriteOptions, e: unknown, bytes: number, verb: string, shared: string | undefined): FileResult {
  const r = writeFailureOf(src, p, opt, e, bytes, verb);
  return shared ? { ...r, sharedFolder: shared } : r;
}

function writeFailureOf(src: string, p: Planned, opt: WriteOptions, e: unknown, bytes: number, verb: string): FileResult {
  if (e instanceof ExistsError && opt.skipExisting) {
    // Another run committed the same output between our precheck and our commit.
    return { path: src, output: p.output, status: 'skipped', bytes: 0, detail: 'output already exists (appeared while this file was being written)' };
  }
  if (e instanceof SourceKept) {
    return {
      path: src, output: p.output, status: 'io-error', bytes,
      detail: `${verb} to ${p.output}, but the ${verb === 'decrypted' ? 'envelope' : 'source'} could not be removed: ${e.reason}`,
    };
  }
  return failure(src, p.output, e);
}
