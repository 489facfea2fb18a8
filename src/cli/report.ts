// What people and scripts see of a run (shared/CLI.md "Results"): one JSON object per file and a
// summary line with --json; otherwise a readable line per file (with a hint on failures), a
// progress display on a terminal's standard error, and a summary table by status. A row checked
// against a batch manifest or a checksum list says so (`batch`, `batch_detail`, `checksum`).

import type { Writable } from 'node:stream';
import { isFailure, STATUSES, type FileResult, type Status } from '../engine/results.js';
import { Progress } from './progress.js';
import { COLORS, HINTS } from './statuses.js';
import { bytesText, rateText, showPath } from './text.js';

export interface ReportOptions {
  json: boolean;
  quiet: boolean;
  /** Where file lines go (stdout, or stderr when stdout carries data). */
  out: Writable;
  err: Writable;
  /** Colours on `out` and on `err` (each only when that stream is a terminal, never with NO_COLOR). */
  color: { out: boolean; err: boolean };
  progress: boolean;
  verb: string;
}

export function colorWanted(stream: { isTTY?: boolean }): boolean {
  const nc = process.env['NO_COLOR'];
  return Boolean(stream.isTTY) && (nc === undefined || nc === '') && process.env['TERM'] !== 'dumb';
}

/** Said once per folder and run (engine/files.ts decides when). */
export function sharedFolderWarning(folder: string): string {
  return `other users can write to ${showPath(folder)} (without the sticky bit, or as its owner): they can rename or replace files there while aenv works; aenv checks every commit, but see "Shared folders" in the README`;
}

export class Reporter {
  readonly counts = new Map<Status, number>();
  bytes = 0;
  /** With --password-list: its line numbers, and how many files each opened. */
  passwordLines: number[] | null = null;
  private readonly byPassword = new Map<number, number>();
  private readonly started = process.hrtime.bigint();
  private readonly bar: Progress | null;

  constructor(private readonly o: ReportOptions) {
    this.bar = o.progress ? new Progress(o.err, o.verb) : null;
  }

  /** A progress display is shown (a terminal, not --quiet, not --no-progress). */
  get showsProgress(): boolean {
    return this.bar !== null;
  }

  /** `files` < 0: the total is unknown. */
  start(files: number, bytes: number): void {
    this.bar?.start(files, bytes);
  }

  /** Bytes processed; `quiet` adds them without a redraw (the file's line follows at once). */
  progress(bytes: number, quiet = false): void {
    this.bar?.add(bytes, quiet);
  }

  get failed(): number {
    let n = 0;
    for (const [s, c] of this.counts) if (isFailure(s)) n += c;
    return n;
  }

  seconds(): number {
    return Number(process.hrtime.bigint() - this.started) / 1e9;
  }

  file(r: FileResult): void {
    this.counts.set(r.status, (this.counts.get(r.status) ?? 0) + 1);
    this.bytes += r.bytes;
    if (r.password !== undefined) this.byPassword.set(r.password, (this.byPassword.get(r.password) ?? 0) + 1);
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
      const warnings = [r.warning, r.sharedFolder && sharedFolderWarning(r.sharedFolder)].filter(Boolean);
      if (warnings.length) row['warning'] = warnings.join('; ');
      this.o.out.write(JSON.stringify(row) + '\n');
      this.bar?.draw();
      return;
    }
    if (r.sharedFolder) {
      this.bar?.clear();
      this.o.err.write(`aenv: warning: ${sharedFolderWarning(r.sharedFolder)}\n`);
    }
    const batchLine = r.batch && r.batch.kind !== 'ok' && r.status !== 'missing' ? `${' '.repeat(14)} batch: ${r.batch.kind}${r.batch.detail ? `: ${r.batch.detail}` : ''}` : null;
    if (this.o.quiet && !isFailure(r.status) && !r.warning && !batchLine) return;
    this.bar?.clear();
    const fail = isFailure(r.status);
    const tag = this.paint(r.status, r.status.padEnd(14), fail ? this.o.color.err : this.o.color.out);
    const lines: string[] = [];
    const pw = r.password !== undefined ? `, password #${r.password}` : '';
    if (r.status === 'ok' && r.output !== undefined) {
      lines.push(`${tag} ${showPath(r.path)} -> ${showPath(r.output)} (${bytesText(r.bytes)}${pw}${r.via ? `, via ${r.via}` : ''})`);
    } else if (r.status === 'ok') {
      lines.push(`${tag} ${showPath(r.path)}: ${r.detail}${pw ? ` (${pw.slice(2)})` : ''}`);
    } else {
      lines.push(`${tag} ${showPath(r.path)}: ${r.detail}`);
    }
    if (r.warning) lines.push(`${' '.repeat(14)} warning: ${r.warning}`);
    if (batchLine) lines.push(batchLine);
    const hint = r.hint ?? HINTS[r.status];
    if (fail && hint) lines.push(`${' '.repeat(14)} hint: ${hint}`);
    (fail ? this.o.err : this.o.out).write(lines.join('\n') + '\n');
    this.bar?.draw();
  }

  /** A line on standard error in the middle of the run (the progress display is cleared first). */
  note(line: string): void {
    this.bar?.clear();
    this.o.err.write(line + '\n');
    this.bar?.draw();
  }

  /**
   * The last line (JSON) or the summary table (people), with `lines` (people) under the table;
   * `mismatch`: the batch does not match its manifest or checksum list. Returns the number of failures.
   */
  summary(extra: Record<string, unknown> = {}, note = '', lines: readonly string[] = [], mismatch = false): number {
    this.bar?.finish();
    const secs = Math.round(this.seconds() * 1000) / 1000;
    const ok = this.counts.get('ok') ?? 0;
    const skipped = this.counts.get('skipped') ?? 0;
    const failed = this.failed;
    const perPassword = this.passwordLines?.map((line) => [line, this.byPassword.get(line) ?? 0] as const) ?? null;
    if (this.o.json) {
      const byStatus = Object.fromEntries(STATUSES.filter((s) => this.counts.has(s)).map((s) => [s, this.counts.get(s)]));
      const passwords = perPassword ? { passwords: Object.fromEntries(perPassword.map(([l, n]) => [String(l), n])) } : {};
      // "finished": when the run ended (UTC), so that `aenv report` can tell the newer of two runs of one part
      this.o.out.write(JSON.stringify({ summary: { ok, failed, skipped, bytes: this.bytes, seconds: secs, finished: new Date().toISOString(), by_status: byStatus, ...passwords, ...extra } }) + '\n');
      return failed;
    }
    if (this.o.quiet) return failed;
    const total = ok + skipped + failed;
    const rows = STATUSES.filter((s) => this.counts.has(s)).map((s) => `  ${this.paint(s, s.padEnd(15), this.o.color.err)}${String(this.counts.get(s)).padStart(8)}`);
    const head = `${this.o.verb}: ${total} file${total === 1 ? '' : 's'}, ${bytesText(this.bytes)} in ${secs.toFixed(2)} s (${rateText(this.bytes, secs)})`;
    const tail = failed ? `${failed} failed` : mismatch ? 'no file failed on its own, but the batch does not match (exit status 1)' : 'all ok';
    // Every line of the list, so a password that opened nothing is visible too.
    const pwRows = (perPassword ?? []).map(([l, n]) => `  ${`password #${l}`.padEnd(15)}${String(n).padStart(8)}${n === 0 ? '  (opened nothing)' : ''}`);
    this.o.err.write([head, ...rows, ...pwRows, ...lines.map((l) => `  ${l}`), `  ${tail}${note ? `; ${note}` : ''}`].join('\n') + '\n');
    return failed;
  }

  private paint(s: Status, text: string, color: boolean): string {
    const c = color ? COLORS[s] : undefined;
    return c ? `${c}${text}\x1b[0m` : text;
  }
}
