// `aenv report FILES...` (README.md "Merging reports"): the --json reports of several runs
// (the shards of one tree, run on many machines) merged by src/batch/report.ts, each read as it
// streams in (`-`: standard input). People get the combined summary by status, the failed rows
// and what is wrong with the set of reports; --json gives the merged summary as one line (and the
// problems on standard error). Exit status 1 when a row failed or the set is incomplete.

import { createReadStream } from 'node:fs';
import { mergedSummaryLine, ReportMerger, reportProblemLines, type MergedReport } from '../batch/report.js';
import { STATUSES, type Status } from '../engine/results.js';
import { UsageError } from './errors.js';
import { bytesText, showPath } from './text.js';

const num = (n: number): string => n.toLocaleString('en-US');

function minutes(s: number): string {
  if (s < 60) return `${s.toFixed(1)} s`;
  const m = Math.round(s / 60);
  return m < 60 ? `${m} min` : `${Math.floor(m / 60)} h ${m % 60} min`;
}

export async function runReport(a: { paths: string[]; json: boolean }): Promise<number> {
  if (a.paths.length === 0) throw new UsageError('report needs at least one FILE (a --json report of aenv decrypt, verify or encrypt)', 'e.g. aenv report reports/part-*.jsonl');
  if (a.paths.filter((p) => p === '-').length > 1) throw new UsageError('- (standard input) can be given once', 'name the other reports as files');
  const m = new ReportMerger();
  for (const file of a.paths) {
    const r = m.report(file === '-' ? '(standard input)' : file);
    try {
      for await (const chunk of file === '-' ? process.stdin : createReadStream(file)) r.push(chunk as Buffer);
    } catch (e) {
      throw new UsageError(`cannot read the report ${showPath(file)} (${(e as NodeJS.ErrnoException).code ?? String(e)})`, 'give the files that aenv ... --json wrote');
    }
    r.end();
  }
  const merged = m.result();
  if (a.json) {
    process.stdout.write(mergedSummaryLine({ ...merged, summary: { ...merged.summary, exit_status: merged.failed ? 1 : 0 } as MergedReport['summary'] }) + '\n');
    for (const line of reportProblemLines(merged)) process.stderr.write(`aenv: ${line}\n`);
  } else {
    process.stdout.write(text(merged));
  }
  return merged.failed ? 1 : 0;
}

function text(m: MergedReport): string {
  const s = m.summary;
  const files = s.ok + s.failed + s.skipped;
  const about = [...(s.shards ? [`${num(s.shards)} parts`] : []), ...(s.superseded ? [`${num(s.superseded)} superseded`] : [])];
  const lines = [`report: ${num(s.reports)} report${s.reports === 1 ? '' : 's'}${about.length ? ` (${about.join(', ')})` : ''}, ${num(files)} file${files === 1 ? '' : 's'}, ${bytesText(s.bytes)}, `
    + `longest run ${minutes(s.seconds)} (all runs: ${minutes(s.seconds_sum)})${s.verify ? `, verify ${s.verify}` : ''}`];
  const known = new Set<string>(STATUSES);
  const order = [...STATUSES.filter((k) => s.by_status[k] !== undefined), ...Object.keys(s.by_status).filter((k) => !known.has(k))];
  const width = Math.max(8, ...order.map((k) => num(s.by_status[k] ?? 0).length));
  for (const k of order) lines.push(`  ${k.padEnd(15)}${num(s.by_status[k as Status] ?? 0).padStart(width)}`);
  lines.push(s.failed ? `  ${num(s.failed)} failed` : '  no file failed');
  const part = (r: { shard?: string }): string => (r.shard ? ` (part ${r.shard.replace('/', ' of ')})` : '');
  for (const f of m.failedRows) lines.push(`${f.row.status.padEnd(14)} ${showPath(f.row.path)}${part(f)}: ${typeof f.row.detail === 'string' ? f.row.detail : ''}`);
  for (const u of m.unmatchedRows) {
    const r = u.row;
    const why = typeof r['batch'] === 'string' && r['batch'] !== 'ok' ? `batch: ${r['batch']}${typeof r['batch_detail'] === 'string' ? `: ${r['batch_detail']}` : ''}` : 'not in the checksum list';
    lines.push(`${r.status.padEnd(14)} ${showPath(r.path)}${part(u)}: ${why}`);
  }
  for (const p of reportProblemLines(m)) lines.push(p);
  lines.push(m.failed ? 'report: the runs did not all succeed, or the set of reports is incomplete' : 'report: every run succeeded and the set of reports is complete');
  return lines.join('\n') + '\n';
}
