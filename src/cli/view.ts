// What people and scripts see of a run (docs/CLI.md "Results", "What is printed"): with --json one JSON object
// per file and a summary line; otherwise a readable line per file (with a hint on failures), a
// progress display on a terminal's standard error, and a summary table by status. A row checked
// against a batch manifest or a checksum list says so (`batch`, `batch_detail`, `checksum`).
// A stream (`decrypt -`, `encrypt -`) writes its data on standard output, so its one row goes to
// standard error, and only when something is to be said.

import type { Writable } from 'node:stream';
import type { Note, RunView, Summary, Totals } from '../engine/job.js';
import type { FileResult } from '../engine/results.js';
import { passedText, type PassedKind } from '../engine/passed.js';
import { HINTS, isFailure, sharedFolderWarning, STREAM_HINTS, type Status } from '../engine/statuses.js';
import { Progress } from './progress.js';
import { bytesText, jsonLine, rateText, safeText, showPath } from './text.js';

export interface ViewOptions {
  json: boolean;
  /** Failures and the one summary line only. */
  quiet: boolean;
  /** -v: every row (also skipped files and every wrong-password file of a batch), and each entry the walk passed over. */
  verbose: boolean;
  /** Where file lines go. */
  out: Writable;
  err: Writable;
  /** Colours on `out` and on `err` (each only when that stream is a terminal, never with NO_COLOR). */
  color: { out: boolean; err: boolean };
  /** A progress display (on a terminal, not --quiet, not --no-progress). */
  progress: boolean;
}

/** The colour of each status's tag on a terminal. */
const COLORS: Partial<Record<Status, string>> = {
  ok: '\x1b[32m', skipped: '\x1b[2m', exists: '\x1b[33m', corrupt: '\x1b[31m', 'wrong-password': '\x1b[35m',
  'not-envelope': '\x1b[33m', unsupported: '\x1b[33m', 'io-error': '\x1b[31m', 'tool-error': '\x1b[31m', missing: '\x1b[31m', 'batch-mismatch': '\x1b[31m',
  'bad-name': '\x1b[31m', 'name-conflict': '\x1b[31m', 'too-large': '\x1b[31m',
};

export function colorWanted(stream: { isTTY?: boolean }): boolean {
  const nc = process.env['NO_COLOR'];
  return Boolean(stream.isTTY) && (nc === undefined || nc === '') && process.env['TERM'] !== 'dumb';
}

/** A run over files and folders. */
export class TerminalView implements RunView {
  private bar: Progress | null = null;
  /** Wrong-password files of each batch not listed (after its first), for the summary (issue 22: one line per batch). */
  private readonly unlisted = new Map<string, number>();

  constructor(private readonly o: ViewOptions) {}

  get wantsTotals(): boolean {
    return this.o.progress;
  }

  start(verb: string, totals: Totals | null): void {
    if (!this.o.progress) return;
    this.bar = new Progress(this.o.err, verb);
    this.bar.start(totals?.files ?? -1, totals?.bytes ?? 0);
  }

  progress(bytes: number, quiet: boolean): void {
    this.bar?.add(bytes, quiet);
  }

  row(r: FileResult): void {
    this.bar?.fileDone();
    if (this.o.json) {
      this.bar?.clear();
      const row: Record<string, unknown> = { path: r.path };
      if (r.output !== undefined) row['output'] = r.output;
      Object.assign(row, { status: r.status, bytes: r.bytes, detail: r.detail });
      if (r.via !== undefined) row['via'] = r.via; // opened or sealed by IBM's tool (engine/foreign.ts)
      if (r.tool) Object.assign(row, { tool_exit: r.tool.exit, tool_signal: r.tool.signal, tool_outcome: r.tool.outcome });
      if (r.chunk !== undefined) Object.assign(row, { chunk: r.chunk, offset: r.offset });
      if (r.password !== undefined) row['password'] = r.password;
      if (r.batch) {
        row['batch'] = r.batch.kind;
        if (r.batch.kind !== 'ok' && r.batch.detail) row['batch_detail'] = r.batch.detail;
      }
      if (r.checksum) row['checksum'] = r.checksum.kind;
      if (r.renamed) Object.assign(row, { renamed_from: r.renamed.from, rename_reason: r.renamed.reason }); // --portable-names
      if (r.batchId !== undefined) row['batch_id'] = r.batchId;
      const warnings = [r.warning, r.sharedFolder && sharedFolderWarning(r.sharedFolder)].filter(Boolean);
      if (warnings.length) row['warning'] = warnings.join('; ');
      this.o.out.write(jsonLine(row) + '\n');
      this.bar?.draw();
      return;
    }
    const shared = r.sharedFolder && sharedFolderWarning(r.sharedFolder);
    if (shared) {
      this.bar?.clear();
      this.o.err.write(`aenv: warning: ${safeText(shared)}
`);
    }
    const batchLine = r.batch && r.batch.kind !== 'ok' && r.status !== 'missing' ? `${' '.repeat(14)} batch: ${r.batch.kind}${r.batch.detail ? `: ${r.batch.detail}` : ''}` : null;
    const renamedLine = r.renamed ? `${' '.repeat(14)} renamed: ${JSON.stringify(r.renamed.fromRel)} -> ${JSON.stringify(r.renamed.toRel)} (${r.renamed.reason}; --portable-names)` : null;
    if (this.o.quiet && !isFailure(r.status) && !r.warning && !batchLine && !renamedLine) return;
    // A file left as it was is counted, not listed (as rsync does), unless -v.
    if (r.status === 'skipped' && !this.o.verbose && !r.warning && !batchLine && !renamedLine) return;
    // One wrong-password row per batch: its first; the others are counted under the summary.
    if (r.status === 'wrong-password' && r.batchId !== undefined && !this.o.verbose && !batchLine) {
      const n = this.unlisted.get(r.batchId);
      this.unlisted.set(r.batchId, (n ?? -1) + 1);
      if (n !== undefined) return;
    }
    this.bar?.clear();
    const fail = isFailure(r.status);
    const tag = this.paint(r.status, r.status.padEnd(14), fail ? this.o.color.err : this.o.color.out);
    const lines: string[] = [];
    const pw = r.password !== undefined ? `, password #${r.password}` : '';
    if (r.status === 'ok' && r.output !== undefined) {
      lines.push(`${showPath(r.path)} -> ${showPath(r.output)} (${bytesText(r.bytes)}${pw}${r.via ? `, via ${r.via}` : ''})`);
    } else if (r.status === 'ok') {
      lines.push(`${showPath(r.path)}: ${r.detail}${pw ? ` (${pw.slice(2)})` : ''}`);
    } else {
      lines.push(`${showPath(r.path)}: ${r.detail}`);
    }
    if (renamedLine) lines.push(renamedLine);
    if (r.warning) lines.push(`${' '.repeat(14)} warning: ${r.warning}`);
    if (batchLine) lines.push(batchLine);
    const hint = r.hint ?? HINTS[r.status];
    if (fail && hint) lines.push(`${' '.repeat(14)} hint: ${hint}`);
    // Every field escaped (text.ts), then the status's colour, which is aenv's own.
    (fail ? this.o.err : this.o.out).write(`${tag} ${lines.map(safeText).join('\n')}\n`);
    this.bar?.draw();
  }

  /**
   * Waits while standard output or error holds more than its buffer of written lines (a pipe to a
   * slow reader, `aenv verify DIR | less`): the run then waits for the reader instead of piling its
   * rows up in memory. Returns at once for files and terminals (written synchronously), when
   * the reader went away, and when `stop` is aborted (an interruption). Each wait removes its
   * listeners: a run of millions of files leaves none behind.
   */
  async drained(stop?: AbortSignal): Promise<void> {
    for (const s of new Set([this.o.out, this.o.err])) {
      while (s.writableNeedDrain && !s.destroyed && !stop?.aborted) {
        await new Promise<void>((resolve) => {
          const done = (): void => {
            for (const ev of ['drain', 'close', 'error']) s.off(ev, done);
            stop?.removeEventListener('abort', done);
            resolve();
          };
          for (const ev of ['drain', 'close', 'error']) s.once(ev, done);
          stop?.addEventListener('abort', done, { once: true });
        });
      }
    }
  }

  /** An entry the walk passed over: a JSON line with --json, a line with -v (the summary counts them). */
  passed(p: string, what: PassedKind): void {
    if (this.o.json) {
      this.bar?.clear();
      this.o.out.write(jsonLine({ passed_over: { path: p, kind: what } }) + '\n');
      this.bar?.draw();
    } else if (this.o.verbose) {
      this.bar?.clear();
      this.o.err.write(`${'passed over'.padEnd(14)} ${showPath(p)}: ${passedText(what)}\n`);
      this.bar?.draw();
    }
  }

  /** A line beside the rows (the progress display is cleared first); a result line only for people who asked for all. */
  note(n: Note): void {
    if (n.level === 'result') {
      if (!this.o.json && !this.o.quiet) this.o.out.write(`${safeText(n.text)}\n`);
      return;
    }
    this.bar?.clear();
    this.o.err.write(`aenv: ${n.level === 'plain' ? '' : `${n.level}: `}${safeText(n.text)}\n`);
    this.bar?.draw();
  }

  /** The last line (JSON) or the summary table (people), with the run's lines under the table. */
  summary(s: Summary): void {
    this.bar?.finish();
    if (this.o.json) {
      const byStatus = Object.fromEntries(s.byStatus);
      const passwords = s.passwords ? { passwords: Object.fromEntries(s.passwords.map(([l, n]) => [String(l), n])) } : {};
      const missing = s.byStatus.find(([st]) => st === 'missing')?.[1] ?? 0;
      this.o.out.write(jsonLine({ summary: { ok: s.ok, failed: s.failed, skipped: s.skipped, files: s.ok + s.skipped + s.failed - missing, missing, bytes: s.bytes, seconds: s.seconds, finished: s.finished, by_status: byStatus, ...passwords, ...s.fields } }) + '\n');
      return;
    }
    const missing = s.byStatus.find(([st]) => st === 'missing')?.[1] ?? 0;
    const total = s.ok + s.skipped + s.failed - missing; // a missing row is a name without a file
    const head = `${s.verb}: ${total} file${total === 1 ? '' : 's'}${missing ? ` (and ${missing} missing)` : ''}, ${bytesText(s.bytes)} in ${s.seconds.toFixed(2)} s (${rateText(s.bytes, s.seconds)})`;
    const interrupted = s.fields['interrupted'] === true;
    const tail = interrupted ? `interrupted after ${total} finished file${total === 1 ? '' : 's'}${s.failed ? `, ${s.failed} failed` : ''}`
      : s.failed ? `${s.failed} failed` : s.mismatch ? 'no file failed on its own, but the batch does not match (exit status 1)'
        : s.fields.exit_status !== 0 ? 'nothing done (exit status 1)' : 'all ok';
    const note = interrupted ? '' : s.note;
    if (this.o.quiet) {
      // -q: the one summary line (failures were printed as they came)
      const counts = s.byStatus.map(([st, n]) => `${n} ${st}`).join(', ');
      this.o.err.write(`${head}: ${counts || 'nothing done'}${interrupted ? '; interrupted' : ''}\n`);
      return;
    }
    const rows = s.byStatus.map(([st, n]) => `  ${this.paint(st, st.padEnd(15), this.o.color.err)}${String(n).padStart(8)}`);
    const unlisted = [...this.unlisted].filter(([, n]) => n > 0)
      .map(([b, n]) => `  wrong-password: ${n} more file${n === 1 ? '' : 's'} of batch ${b} not listed (same key; -v lists them)`);
    // Every line of the list, so a password that opened nothing is visible too.
    const pwRows = (s.passwords ?? []).map(([l, n]) => `  ${`password #${l}`.padEnd(15)}${String(n).padStart(8)}${n === 0 ? '  (opened nothing)' : ''}`);
    this.o.err.write([head, ...rows, ...pwRows, ...unlisted, ...s.lines.map((l) => `  ${safeText(l)}`), `  ${tail}${note ? `; ${safeText(note)}` : ''}`].join('\n') + '\n');
  }

  private paint(s: Status, text: string, color: boolean): string {
    const c = color ? COLORS[s] : undefined;
    return c ? `${c}${text}\x1b[0m` : text;
  }
}

/** `decrypt -` and `encrypt -`: standard output carries the data; the row goes to standard error. */
export class StreamView implements RunView {
  readonly wantsTotals = false;

  constructor(private readonly json: boolean, private readonly err: Writable) {}

  start(): void {}

  progress(): void {}

  row(r: FileResult): void {
    if (this.json) {
      this.err.write(jsonLine(r) + '\n');
      return;
    }
    if (r.status === 'ok' && !r.warning) return;
    this.err.write(`aenv: ${r.status === 'ok' ? 'warning' : 'error'}: standard input: ${safeText((r.status === 'ok' ? r.warning : r.detail) ?? '')}\n`);
    const hint = r.hint ?? STREAM_HINTS[r.status] ?? HINTS[r.status];
    if (r.status !== 'ok' && hint) this.err.write(`aenv: hint: ${safeText(hint)}\n`);
  }

  /** The stream may stop mid-line (an interruption): a note starts on a line of its own. */
  note(n: Note): void {
    this.err.write(`\naenv: ${n.level}: ${safeText(n.text)}\n`);
  }

  summary(): void {}
}
