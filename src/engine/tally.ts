// The count of a run's rows (docs/CLI.md "Results"): by status, bytes, the files each listed
// password opened, and the time; the summary is made from it, so its counts are the rows'.

import type { Summary, SummaryFields } from './job.js';
import type { FileResult } from './results.js';
import { isFailure, STATUSES, type Status } from './statuses.js';

export class Tally {
  private readonly counts = new Map<Status, number>();
  private readonly byPassword = new Map<number, number>();
  private readonly started = process.hrtime.bigint();
  private bytes = 0;
  /** With --password-list: its line numbers (the summary names every one, also those that opened nothing). */
  passwordLines: number[] | null = null;

  add(r: FileResult): void {
    this.counts.set(r.status, (this.counts.get(r.status) ?? 0) + 1);
    this.bytes += r.bytes;
    if (r.password !== undefined) this.byPassword.set(r.password, (this.byPassword.get(r.password) ?? 0) + 1);
  }

  /** Rows so far. */
  get rows(): number {
    let n = 0;
    for (const c of this.counts.values()) n += c;
    return n;
  }

  /** Rows of one status so far. */
  count(s: Status): number {
    return this.counts.get(s) ?? 0;
  }

  /** Rows that failed so far. */
  get failed(): number {
    let n = 0;
    for (const [s, c] of this.counts) if (isFailure(s)) n += c;
    return n;
  }

  summary(verb: string, fields: SummaryFields, more: { lines?: string[]; note?: string; mismatch?: boolean } = {}): Summary {
    return {
      verb,
      ok: this.counts.get('ok') ?? 0,
      failed: this.failed,
      skipped: this.counts.get('skipped') ?? 0,
      bytes: this.bytes,
      seconds: Math.round((Number(process.hrtime.bigint() - this.started) / 1e9) * 1000) / 1000,
      finished: new Date().toISOString(),
      byStatus: STATUSES.filter((s) => this.counts.has(s)).map((s) => [s, this.counts.get(s) ?? 0]),
      passwords: this.passwordLines?.map((line) => [line, this.byPassword.get(line) ?? 0]) ?? null,
      fields,
      lines: more.lines ?? [],
      note: more.note ?? '',
      mismatch: more.mismatch ?? false,
    };
  }
}
