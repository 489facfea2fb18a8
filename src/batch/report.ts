// `aenv report FILES...` (docs/batches.md "Merging reports"): the --json reports of several runs
// (the shards of one tree, run on many machines) merged into one summary, as docs/CLI.md
// "JSON lines" defines a report: one JSON object per file
// `{"path", "output"?, "status", "bytes", "detail", ...}` and a last line `{"summary": {...}}`.
//
// Merge rules:
// - counts by status, ok/failed/skipped and bytes come from the rows (failed: any status but ok
//   and skipped); key_derivations are summed from the summaries; seconds is the longest run (the
//   wall time when the parts ran at once) and seconds_sum the total of all runs;
// - a report without its summary line was cut short (a killed job): its rows count, and the merge
//   fails, because the files it did not reach are unknown;
// - a path (or an output) in two rows, in one report or across reports, is reported: two shards
//   processed the same file (parts from different N, or overlapping PATHs);
// - when summaries carry "shard": "K/N", every part 1..N must be there, with one N. A part in
//   several reports (a part run again) counts once: a finished report supersedes interrupted ones
//   (summary "interrupted": true), and of several reports of one kind the one whose summary says
//   it finished last ("finished", an ISO 8601 time) supersedes the others. A superseded report is
//   named (a warning) and counts only in `reports` and `superseded`: its rows, bytes, times and
//   failures are the older run's, which the newer run redid or found done. When the newest cannot
//   be told (no "finished", or the same time), the part is in two reports: an error;
// - an interrupted run that nothing supersedes is an error that says how far it got: "part K of N
//   was interrupted after M files" (its rows count; the files it did not reach are unknown);
// - a summary whose counts disagree with its rows, rows after the summary, lines that are not
//   JSON objects, rows without a string path and status and a numeric bytes, and a summary's
//   "exit_status" other than 0 when the summary counts no failed file and the run was not
//   interrupted (the batch as a whole did not match) are reported;
// - the merge fails (exit status 1) when any row failed or any of the above is an error; a mix of
//   keyed and passwordless verify reports is only a warning.
// Memory: the paths and outputs seen (to find duplicates), the failed rows and the rows that do not
// match their batch, one line at a time.

import { decodeUtf8, RecordSplitter } from './lines.js';
import { parseShard } from './shard.js';

/** The longest report line read; a longer one is an error of its line. */
export const MAX_REPORT_LINE = 1024 * 1024;

export type ReportProblemKind =
  | 'not-json' | 'bad-row' | 'after-summary' | 'two-summaries' | 'truncated' | 'empty' | 'summary-mismatch'
  | 'duplicate' | 'run-failed' | 'interrupted' | 'superseded' | 'shard-missing' | 'shard-twice' | 'shard-mismatch' | 'mixed';

export interface ReportProblem {
  /** The report's name as given (a file name). */
  report: string;
  /** 1-based line, 0 for the report (or the merge) as a whole. */
  line: number;
  kind: ReportProblemKind;
  severity: 'error' | 'warning';
  message: string;
}

export interface ReportRow {
  path: string;
  output?: string;
  status: string;
  bytes: number;
  detail?: string;
  [key: string]: unknown;
}

export interface RowRef {
  report: string;
  line: number;
  row: ReportRow;
  /** The report's part ("K/N"), when it is a shard's. */
  shard?: string;
}

export interface MergedSummary {
  ok: number;
  failed: number;
  skipped: number;
  bytes: number;
  seconds: number;
  seconds_sum: number;
  by_status: Record<string, number>;
  key_derivations: number;
  reports: number;
  /** Reports without a summary line. */
  truncated: number;
  /** Reports of interrupted runs that no later run of their part superseded. */
  interrupted: number;
  /** Reports of a part that a newer or finished report of the same part replaces (not counted). */
  superseded: number;
  duplicates: number;
  /** "keyed" or "passwordless" when every verify report says the same. */
  verify?: string;
  /** "N" when the reports are the N shards of one tree. */
  shards?: number;
}

export interface MergedReport {
  summary: MergedSummary;
  failedRows: RowRef[];
  /** Rows that did not fail on their own but do not match their batch: a manifest kind other than ok, a checksum extra. */
  unmatchedRows: RowRef[];
  duplicates: { key: 'path' | 'output'; value: string; first: { report: string; line: number }; again: { report: string; line: number } }[];
  problems: ReportProblem[];
  /** Exit status 1: a row failed, or a problem of severity error. */
  failed: boolean;
}

const isFailure = (status: string): boolean => status !== 'ok' && status !== 'skipped';
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

interface ReportState {
  name: string;
  /** Its place among the reports (names may repeat). */
  index: number;
  splitter: RecordSplitter;
  lines: number;
  rows: number;
  counts: Map<string, number>;
  bytes: number;
  summary: Record<string, unknown> | null;
  summaryLine: number;
  ended: boolean;
  /** Replaced by another report of its part (see checkShards). */
  superseded: boolean;
}

/** A row as the merger keeps it: where it is, and which report (by index). */
interface Ref {
  report: string;
  line: number;
  index: number;
}

/** The summary says the run was interrupted (SIGINT, SIGTERM, SIGHUP). */
const wasInterrupted = (s: Record<string, unknown>): boolean => s['interrupted'] === true;

/** The summary's "finished" time in ms, or NaN. */
const finishedAt = (s: Record<string, unknown>): number => (typeof s['finished'] === 'string' ? Date.parse(s['finished']) : NaN);

const files = (n: number): string => `${n} file${n === 1 ? '' : 's'}`;

/** One report being read, chunk by chunk. */
export class ReportReader {
  constructor(private readonly merger: ReportMerger, private readonly st: ReportState) {}

  push(chunk: Uint8Array): void {
    if (this.st.ended) throw new Error('ReportReader: push after end');
    for (const r of this.st.splitter.push(chunk)) this.merger.line(this.st, r.n, r.bytes, r.length, true);
  }

  end(): void {
    if (this.st.ended) return;
    for (const r of this.st.splitter.end()) this.merger.line(this.st, r.n, r.bytes, r.length, false);
    this.st.ended = true;
    this.merger.close(this.st);
  }
}

export class ReportMerger {
  private readonly reports: ReportState[] = [];
  private readonly problems: ReportProblem[] = [];
  private readonly failedRows: (RowRef & { index: number })[] = [];
  private readonly unmatchedRows: (RowRef & { index: number })[] = [];
  private readonly seen = { path: new Map<string, number>(), output: new Map<string, number>() };
  private readonly refs: Ref[] = [];
  /** Rows whose path or output an earlier row had: judged once superseded reports are known. */
  private readonly clashes: { key: 'path' | 'output'; value: string; ref: number }[] = [];
  private merged: MergedReport | null = null;

  /** Starts reading the report called `name` (its file name, for messages). */
  report(name: string): ReportReader {
    const st: ReportState = {
      name, index: this.reports.length, splitter: new RecordSplitter(0x0a, MAX_REPORT_LINE), lines: 0, rows: 0, counts: new Map(), bytes: 0,
      summary: null, summaryLine: 0, ended: false, superseded: false,
    };
    this.reports.push(st);
    return new ReportReader(this, st);
  }

  private problem(report: string, line: number, kind: ReportProblemKind, message: string, severity: 'error' | 'warning' = 'error'): void {
    this.problems.push({ report, line, kind, severity, message });
  }

  /** @internal one line of a report */
  line(st: ReportState, n: number, bytes: Uint8Array | null, length: number, terminated: boolean): void {
    st.lines = n;
    if (bytes === null) return this.problem(st.name, n, 'not-json', `line of ${length} bytes is longer than ${MAX_REPORT_LINE}: not a report line`);
    const text = decodeUtf8(bytes);
    if (text === null) return this.problem(st.name, n, 'not-json', 'not valid UTF-8: not an aenv --json report');
    if (text.trim() === '') return;
    let v: unknown;
    try {
      v = JSON.parse(text);
    } catch {
      return this.problem(st.name, n, 'not-json', terminated ? 'not a JSON object: not an aenv --json report line'
        : 'the last line is cut off (no line end, not JSON): the run was killed while writing');
    }
    if (!isObject(v)) return this.problem(st.name, n, 'not-json', 'not a JSON object: not an aenv --json report line');
    if ('passed_over' in v) return; // an entry the walk passed over: not a file's row (counted in the summary)
    if ('summary' in v) {
      if (st.summary !== null) return this.problem(st.name, n, 'two-summaries', `a second summary line (the first is line ${st.summaryLine}): two reports joined into one file?`);
      if (!isObject(v['summary'])) return this.problem(st.name, n, 'bad-row', 'the summary is not a JSON object');
      st.summary = v['summary'];
      st.summaryLine = n;
      return;
    }
    if (st.summary !== null) this.problem(st.name, n, 'after-summary', `a row after the summary line (line ${st.summaryLine}): two reports joined into one file?`);
    if (typeof v['path'] !== 'string' || typeof v['status'] !== 'string' || typeof v['bytes'] !== 'number' || !Number.isFinite(v['bytes'])) {
      return this.problem(st.name, n, 'bad-row', 'a row needs a string "path", a string "status" and a number "bytes"');
    }
    const row = v as ReportRow;
    st.rows++;
    st.counts.set(row.status, (st.counts.get(row.status) ?? 0) + 1);
    st.bytes += row.bytes;
    if (isFailure(row.status)) this.failedRows.push({ report: st.name, line: n, row, index: st.index });
    else if ((typeof row['batch'] === 'string' && row['batch'] !== 'ok') || row['checksum'] === 'extra') this.unmatchedRows.push({ report: st.name, line: n, row, index: st.index });
    this.refs.push({ report: st.name, line: n, index: st.index });
    const ref = this.refs.length - 1;
    this.dedup('path', row.path, ref);
    if (typeof row.output === 'string') this.dedup('output', row.output, ref);
  }

  private dedup(key: 'path' | 'output', value: string, ref: number): void {
    if (!this.seen[key].has(value)) this.seen[key].set(value, ref);
    else this.clashes.push({ key, value, ref });
  }

  /** The rows that repeat a path or an output, among the reports that count. */
  private findDuplicates(): MergedReport['duplicates'] {
    const out: MergedReport['duplicates'] = [];
    const counted = (ref: number): boolean => !this.reports[this.refs[ref]!.index]!.superseded;
    // per key and value: the first counted row, then each later counted row is a duplicate of it
    const firsts = new Map<string, number | null>();
    for (const c of this.clashes) {
      const id = `${c.key}\0${c.value}`;
      if (!firsts.has(id)) {
        const f = this.seen[c.key].get(c.value)!;
        firsts.set(id, counted(f) ? f : null);
      }
      if (!counted(c.ref)) continue;
      const first = firsts.get(id)!;
      if (first === null) {
        firsts.set(id, c.ref);
        continue;
      }
      const a = this.refs[first]!;
      const b = this.refs[c.ref]!;
      out.push({ key: c.key, value: c.value, first: { report: a.report, line: a.line }, again: { report: b.report, line: b.line } });
      this.problem(b.report, b.line, 'duplicate', `${c.key} ${JSON.stringify(c.value)} was already in ${a.report} line ${a.line}: `
        + (c.key === 'path' ? 'the file was processed twice (shards of different N, or overlapping PATHs)' : 'two envelopes were written to one output'));
    }
    return out;
  }

  /** @internal the report ended */
  close(st: ReportState): void {
    if (st.lines === 0) return this.problem(st.name, 0, 'empty', 'the report is empty: the run wrote nothing (killed before it started?)');
    const s = st.summary;
    if (s === null) {
      return this.problem(st.name, 0, 'truncated', `no summary line after ${st.rows} row${st.rows === 1 ? '' : 's'}: the run was cut short (killed, out of time?); run that part again`);
    }
    const ok = st.counts.get('ok') ?? 0;
    const skipped = st.counts.get('skipped') ?? 0;
    const failed = st.rows - ok - skipped;
    const want: [string, number][] = [['ok', ok], ['failed', failed], ['skipped', skipped], ['bytes', st.bytes]];
    const off = want.filter(([k, n]) => s[k] !== n).map(([k, n]) => `${k} ${JSON.stringify(s[k])} (rows: ${n})`);
    if (off.length) this.problem(st.name, st.summaryLine, 'summary-mismatch', `the summary does not match the rows: ${off.join(', ')}`);
    // A failed row explains a non-zero exit, and so does an interruption (130, 143, 129); without
    // either, the run failed for the batch as a whole.
    if (s['exit_status'] !== undefined && s['exit_status'] !== 0 && !(typeof s['failed'] === 'number' && s['failed'] > 0) && !wasInterrupted(s)) {
      this.problem(st.name, st.summaryLine, 'run-failed', `the run exited with status ${JSON.stringify(s['exit_status'])} though no file failed: its batch did not match its manifest or checksum list`);
    }
  }

  /** The merged result; every report must have been ended. */
  result(): MergedReport {
    const open = this.reports.filter((r) => !r.ended).map((r) => r.name);
    if (open.length) throw new Error(`ReportMerger: reports not ended: ${open.join(', ')}`);
    if (this.merged) return this.merged;
    const verify = this.verifyMode();
    const shards = this.checkShards();
    const counted = this.reports.filter((r) => !r.superseded);
    const interrupted = this.interruptions(counted);
    const duplicates = this.findDuplicates();
    const byStatus = new Map<string, number>();
    let bytes = 0;
    let seconds = 0;
    let secondsSum = 0;
    let kd = 0;
    for (const r of counted) {
      for (const [k, n] of r.counts) byStatus.set(k, (byStatus.get(k) ?? 0) + n);
      bytes += r.bytes;
      const s = r.summary;
      const secs = typeof s?.['seconds'] === 'number' ? s['seconds'] : 0;
      seconds = Math.max(seconds, secs);
      secondsSum += secs;
      if (typeof s?.['key_derivations'] === 'number') kd += s['key_derivations'];
    }
    const ok = byStatus.get('ok') ?? 0;
    const skipped = byStatus.get('skipped') ?? 0;
    let failed = 0;
    for (const [k, n] of byStatus) if (isFailure(k)) failed += n;
    const summary: MergedSummary = {
      ok, failed, skipped, bytes, seconds: round3(seconds), seconds_sum: round3(secondsSum),
      by_status: Object.fromEntries([...byStatus].sort(([a], [b]) => statusOrder(a) - statusOrder(b) || (a < b ? -1 : 1))),
      key_derivations: kd, reports: this.reports.length,
      truncated: this.problems.filter((p) => p.kind === 'truncated').length, interrupted, superseded: this.reports.length - counted.length,
      duplicates: duplicates.length, ...(verify ? { verify } : {}), ...(shards ? { shards } : {}),
    };
    const rows = (list: (RowRef & { index: number })[]): RowRef[] => list.filter((r) => !this.reports[r.index]!.superseded).map(({ index, ...ref }) => {
      const shard = this.reports[index]!.summary?.['shard'];
      return typeof shard === 'string' ? { ...ref, shard } : ref;
    });
    const failedMerge = failed > 0 || this.problems.some((p) => p.severity === 'error');
    this.merged = { summary, failedRows: rows(this.failedRows), unmatchedRows: rows(this.unmatchedRows), duplicates, problems: this.problems, failed: failedMerge };
    return this.merged;
  }

  /** An error for each counted report of an interrupted run; how many there are. */
  private interruptions(counted: readonly ReportState[]): number {
    let n = 0;
    for (const r of counted) {
      if (!r.summary || !wasInterrupted(r.summary)) continue;
      n++;
      let part = 'the run';
      try {
        const s = typeof r.summary['shard'] === 'string' ? parseShard(r.summary['shard']) : null;
        if (s) part = `part ${s.k} of ${s.n}`;
      } catch {
        /* named as a shard-mismatch already */
      }
      const status = typeof r.summary['exit_status'] === 'number' ? ` (exit status ${r.summary['exit_status']})` : '';
      this.problem(r.name, r.summaryLine, 'interrupted', `${part} was interrupted after ${files(r.rows)}${status}: the files it had not reached are not in this report; `
        + 'run it again (with --skip-existing, what it finished is kept)');
    }
    return n;
  }

  private verifyMode(): string | undefined {
    const modes = new Set(this.reports.filter((r) => r.summary).map((r) => (typeof r.summary!['verify'] === 'string' ? r.summary!['verify'] : '(not verify)')));
    if (modes.size > 1) {
      this.problem('(merge)', 0, 'mixed', `the reports are of different kinds: ${[...modes].sort().join(', ')}`, 'warning');
      return undefined;
    }
    const [m] = modes;
    return m !== undefined && m !== '(not verify)' ? m : undefined;
  }

  private checkShards(): number | undefined {
    const tagged = this.reports.filter((r) => r.summary && typeof r.summary['shard'] === 'string');
    if (tagged.length === 0) return undefined;
    const parts = new Map<number, ReportState[]>();
    const ns = new Set<number>();
    for (const r of tagged) {
      try {
        const s = parseShard(r.summary!['shard'] as string);
        ns.add(s.n);
        parts.set(s.k, [...(parts.get(s.k) ?? []), r]);
      } catch {
        this.problem(r.name, r.summaryLine, 'shard-mismatch', `the summary's shard ${JSON.stringify(r.summary!['shard'])} is not K/N`);
      }
    }
    const untagged = this.reports.filter((r) => r.summary && !tagged.includes(r)).map((r) => r.name);
    if (untagged.length) this.problem('(merge)', 0, 'shard-mismatch', `some reports are shards and some are not: ${untagged.join(', ')}`);
    if (ns.size !== 1) {
      this.problem('(merge)', 0, 'shard-mismatch', `the shards were cut with different N: ${[...ns].sort((a, b) => a - b).join(', ')}; run every part with the same --shard K/N`);
      return undefined;
    }
    const n = [...ns][0]!;
    for (const [k, list] of [...parts].sort(([a], [b]) => a - b)) if (list.length > 1) this.supersede(k, n, list);
    const lacking: number[] = [];
    for (let k = 1; k <= n; k++) if (!parts.has(k)) lacking.push(k);
    if (lacking.length) {
      const shown = lacking.length > 20 ? `${lacking.slice(0, 20).join(', ')}, ... (${lacking.length} in all)` : lacking.join(', ');
      this.problem('(merge)', 0, 'shard-missing', `no report for part${lacking.length === 1 ? '' : 's'} ${shown} of ${n}: run ${lacking.length === 1 ? 'it' : 'them'} (or add the report)`);
    }
    return n;
  }

  /**
   * Part k of n is in several reports: a finished run supersedes interrupted ones, and of the
   * runs of the better kind the one that finished last supersedes the others. When that one
   * cannot be told, nothing is superseded among them and the part is in two reports (an error).
   */
  private supersede(k: number, n: number, list: ReportState[]): void {
    const finished = list.filter((r) => !wasInterrupted(r.summary!));
    const pool = finished.length ? finished : list;
    const times = pool.map((r) => finishedAt(r.summary!));
    const newest = Math.max(...times);
    const winners = pool.filter((_, i) => times[i] === newest);
    const winner = pool.length === 1 ? pool[0]! : times.every(Number.isFinite) && winners.length === 1 ? winners[0]! : null;
    if (winner === null) {
      this.problem('(merge)', 0, 'shard-twice', `part ${k}/${n} is in ${pool.length} reports: ${pool.map((r) => r.name).join(', ')}`);
    }
    for (const r of list) {
      if (r === winner || (winner === null && pool.includes(r))) continue;
      const other = winner ?? finished[0]!;
      r.superseded = true;
      const why = wasInterrupted(r.summary!) && !wasInterrupted(other.summary!) ? 'which ran the part to its end' : 'which finished later';
      this.problem(r.name, r.summaryLine, 'superseded', `part ${k} of ${n} again in ${other.name}, ${why}: this report is not counted`, 'warning');
    }
  }
}

const ORDER = ['ok', 'not-envelope', 'unsupported', 'corrupt', 'wrong-password', 'exists', 'skipped', 'io-error', 'tool-error', 'missing', 'batch-mismatch'];
function statusOrder(s: string): number {
  const i = ORDER.indexOf(s);
  return i < 0 ? ORDER.length : i;
}

function round3(x: number): number {
  return Math.round(x * 1000) / 1000;
}

/** Merges whole reports held in memory: [name, bytes] pairs. */
export function mergeReports(reports: Iterable<[string, Uint8Array]>): MergedReport {
  const m = new ReportMerger();
  for (const [name, bytes] of reports) {
    const r = m.report(name);
    r.push(bytes);
    r.end();
  }
  return m.result();
}

/** The merged summary as the last line of a --json report. */
export function mergedSummaryLine(m: MergedReport): string {
  return JSON.stringify({ summary: m.summary });
}

/** Problems as `REPORT: LINE: message` (line 0: `REPORT: message`), errors before warnings. */
export function reportProblemLines(m: MergedReport): string[] {
  const sorted = [...m.problems].sort((a, b) => (a.severity === b.severity ? 0 : a.severity === 'error' ? -1 : 1));
  return sorted.map((p) => `${p.severity === 'warning' ? 'warning: ' : ''}${p.line > 0 ? `${p.report}: ${p.line}` : p.report}: ${p.message}`);
}
