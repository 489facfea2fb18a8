// What `aenv report` shows people: the merged summary by status, the failed rows and the rows
// that do not match their batch, then what is wrong with the set of reports.

import type { MergedReport } from '../engine/reports.js';
import { STATUSES, type Status } from '../engine/statuses.js';
import { bytesText, safeText, showPath } from './text.js';

// one number format everywhere (issue 22: report printed 4,513 where the other commands print 4513)
const num = (n: number): string => String(n);

function minutes(s: number): string {
  if (s < 60) return `${s.toFixed(1)} s`;
  const m = Math.round(s / 60);
  return m < 60 ? `${m} min` : `${Math.floor(m / 60)} h ${m % 60} min`;
}

export function reportText(m: MergedReport, problems: readonly string[]): string {
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
  for (const p of problems) lines.push(p);
  lines.push(m.failed ? 'report: the runs did not all succeed, or the set of reports is incomplete' : 'report: every run succeeded and the set of reports is complete');
  // Every field of a report may come from another machine: each line escaped (text.ts).
  return lines.map(safeText).join('\n') + '\n';
}
