// Merging --json reports (src/batch/report.ts): real reports of `aenv verify --json` (built CLI)
// over parts of samples/ and a damaged envelope; reports cut short by a killed job; a file in two
// reports; shards missing, twice, or of different N; summaries that disagree with their rows;
// lines that are not report lines; any chunking of the input.

import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { mergedSummaryLine, mergeReports, ReportMerger, reportProblemLines, type MergedReport } from '../src/batch/report.js';
import { aenv, ROOT, tempDir } from './helpers/cli.js';

const tmp = tempDir('aenv-batch-report-');
afterAll(() => tmp.cleanup());
const b = (s: string): Uint8Array => new TextEncoder().encode(s);
const kinds = (m: MergedReport): string[] => m.problems.map((p) => p.kind);

function verifyJson(args: string[]): string {
  const r = aenv(['verify', '--json', ...args]);
  expect(r.stderr).not.toMatch(/TypeError|at .*\.js:/);
  return r.stdout;
}

describe('real reports of aenv verify --json', () => {
  const bad = path.join(tmp.dir, 'bad.csv.aspera-env');
  copyFileSync(path.join(ROOT, 'samples/reports/2026/transfers.csv.aspera-env'), bad);
  const bytes = readFileSync(bad);
  bytes[bytes.length - 1]! ^= 1; // the content digest no longer matches
  writeFileSync(bad, bytes);
  const notes = verifyJson([path.join(ROOT, 'samples/notes')]);
  const reports = verifyJson([path.join(ROOT, 'samples/reports')]);
  const damaged = verifyJson([bad]);

  it('sums rows, bytes and key derivations; seconds is the longest run; exit 1 for the damaged file', () => {
    const m = mergeReports([['notes.jsonl', b(notes)], ['reports.jsonl', b(reports)], ['bad.jsonl', b(damaged)]]);
    const rows = [notes, reports, damaged].flatMap((t) => t.trim().split('\n').slice(0, -1).map((l) => JSON.parse(l) as { bytes: number }));
    const secs = [notes, reports, damaged].map((t) => (JSON.parse(t.trim().split('\n').at(-1)!) as { summary: { seconds: number } }).summary.seconds);
    expect(m.summary).toMatchObject({
      ok: 2, failed: 1, skipped: 0, bytes: rows.reduce((s, r) => s + r.bytes, 0), by_status: { ok: 2, corrupt: 1 },
      key_derivations: 0, reports: 3, truncated: 0, duplicates: 0, verify: 'passwordless', seconds: Math.max(...secs),
    });
    expect(m.summary.seconds_sum).toBeCloseTo(secs.reduce((s, x) => s + x, 0), 3);
    expect(m.failedRows).toHaveLength(1);
    expect(m.failedRows[0]).toMatchObject({ report: 'bad.jsonl', line: 1, row: { path: bad, status: 'corrupt' } });
    expect(m.problems).toEqual([]);
    expect(m.failed).toBe(true);
    expect(JSON.parse(mergedSummaryLine(m))).toEqual({ summary: m.summary });
  });

  it('all ok: exit 0', () => {
    const m = mergeReports([['a', b(notes)], ['b', b(reports)]]);
    expect(m.failed).toBe(false);
    expect(m.summary.ok).toBe(2);
  });

  it('a report without its summary (a killed job) is counted and fails the merge', () => {
    const cut = notes.trim().split('\n').slice(0, -1).join('\n') + '\n';
    const m = mergeReports([['a', b(cut)], ['b', b(reports)]]);
    expect(m.summary).toMatchObject({ ok: 2, truncated: 1 });
    expect(kinds(m)).toEqual(['truncated']);
    expect(reportProblemLines(m)).toEqual(['a: no summary line after 1 row: the run was cut short (killed, out of time?); run that part again']);
    expect(m.failed).toBe(true);
  });

  it('a report cut in the middle of a line: the broken line and the missing summary are both named', () => {
    const cut = reports.slice(0, reports.indexOf('\n') + 20);
    const m = mergeReports([['r', b(cut)]]);
    expect(m.problems.map((p) => [p.line, p.kind])).toEqual([[2, 'not-json'], [0, 'truncated']]);
    expect(m.problems[0]!.message).toContain('cut off');
  });

  it('the same report twice: every path is a duplicate', () => {
    const m = mergeReports([['one', b(reports)], ['two', b(reports)]]);
    expect(m.duplicates).toEqual([{ key: 'path', value: path.join(ROOT, 'samples/reports/2026/transfers.csv.aspera-env'), first: { report: 'one', line: 1 }, again: { report: 'two', line: 1 } }]);
    expect(reportProblemLines(m)[0]).toMatch(/^two: 1: path ".*transfers.csv.aspera-env" was already in one line 1: the file was processed twice/);
    expect(m.failed).toBe(true);
  });
});

const row = (p: string, status = 'ok', bytes = 10, extra: object = {}): string => JSON.stringify({ path: p, status, bytes, detail: '', ...extra });
const summ = (o: object): string => JSON.stringify({ summary: { seconds: 1, key_derivations: 1, ...o } });
function report(rows: string[], s: object | null = {}): Uint8Array {
  const counts = { ok: 0, failed: 0, skipped: 0, bytes: 0 };
  for (const r of rows) {
    const v = JSON.parse(r) as { status: string; bytes: number };
    if (v.status === 'ok') counts.ok++;
    else if (v.status === 'skipped') counts.skipped++;
    else counts.failed++;
    counts.bytes += v.bytes;
  }
  return b([...rows, ...(s ? [summ({ ...counts, ...s })] : [])].join('\n') + '\n');
}

describe('shards', () => {
  const part = (k: number, n: number, files: string[], extra: object = {}): [string, Uint8Array] =>
    [`part${k}.jsonl`, report(files.map((f) => row(f)), { shard: `${k}/${n}`, ...extra })];

  it('all parts of one N: fine; shards = N; key derivations summed', () => {
    const m = mergeReports([part(1, 3, ['a']), part(2, 3, ['b', 'c']), part(3, 3, [])]);
    expect(m.problems).toEqual([]);
    expect(m.summary).toMatchObject({ ok: 3, shards: 3, key_derivations: 3 });
    expect(m.failed).toBe(false);
  });

  it('a part missing, a part twice, parts of different N', () => {
    const missing = mergeReports([part(1, 4, ['a']), part(3, 4, ['c'])]);
    expect(reportProblemLines(missing)).toEqual(['(merge): no report for parts 2, 4 of 4: run them (or add the report)']);
    expect(missing.failed).toBe(true);
    const twice = mergeReports([part(1, 2, ['a']), part(2, 2, ['b']), ['again.jsonl', part(2, 2, ['c'])[1]]]);
    expect(twice.problems.map((p) => [p.kind, p.message])).toEqual([['shard-twice', 'part 2/2 is in 2 reports: part2.jsonl, again.jsonl']]);
    const mixedN = mergeReports([part(1, 2, ['a']), part(2, 3, ['b'])]);
    expect(kinds(mixedN)).toEqual(['shard-mismatch']);
    expect(mixedN.problems[0]!.message).toContain('different N: 2, 3');
  });

  it('shard reports mixed with an unsharded one, and a bad shard text', () => {
    const m = mergeReports([part(1, 1, ['a']), ['plain', report([row('b')])], ['odd', report([row('c')], { shard: 'x' })]]);
    expect(kinds(m).sort()).toEqual(['shard-mismatch', 'shard-mismatch']);
  });
});

describe('interrupted runs and parts run again', () => {
  const at = (min: number): string => `2026-03-01T10:${String(min).padStart(2, '0')}:00.000Z`;
  const part = (k: number, n: number, files: string[], extra: object = {}, status = 'ok'): Uint8Array =>
    report(files.map((f) => row(f, status)), { shard: `${k}/${n}`, exit_status: 0, ...extra });
  const stopped = (k: number, n: number, files: string[], min: number): Uint8Array =>
    report(files.map((f) => row(f)), { shard: `${k}/${n}`, interrupted: true, files_done: files.length, exit_status: 143, finished: at(min) });

  it('an interrupted part is present but not complete: "part K of N was interrupted after M files", never a missing part or a batch mismatch', () => {
    const m = mergeReports([['p1', part(1, 2, ['a'])], ['p2', stopped(2, 2, ['b', 'c'], 5)]]);
    expect(m.problems.map((p) => [p.report, p.line, p.kind, p.severity])).toEqual([['p2', 3, 'interrupted', 'error']]);
    expect(reportProblemLines(m)).toEqual(['p2: 3: part 2 of 2 was interrupted after 2 files (exit status 143): the files it had not reached are not in this report; run it again (with --skip-existing, what it finished is kept)']);
    expect(m.summary).toMatchObject({ ok: 3, failed: 0, shards: 2, interrupted: 1, superseded: 0 });
    expect(m.failed).toBe(true);
    const one = mergeReports([['x', report([row('a')], { interrupted: true, exit_status: 130 })]]);
    expect(reportProblemLines(one)).toEqual([expect.stringMatching(/^x: 2: the run was interrupted after 1 file \(exit status 130\): /)]);
  });

  it('a finished run of a part supersedes its interrupted run, whichever came first; the older rows are not counted twice', () => {
    const redone = part(2, 2, ['c'], { finished: at(9) });
    const redoneRows = b(new TextDecoder().decode(redone).replace(row('c'), [row('b', 'skipped', 0), row('c')].join('\n')).replace('"ok":1,"failed":0,"skipped":0', '"ok":1,"failed":0,"skipped":1'));
    const m = mergeReports([['p1', part(1, 2, ['a'])], ['old', stopped(2, 2, ['b'], 5)], ['new', redoneRows]]);
    expect(m.problems.map((p) => [p.report, p.kind, p.severity, p.message])).toEqual([
      ['old', 'superseded', 'warning', 'part 2 of 2 again in new, which ran the part to its end: this report is not counted'],
    ]);
    expect(m.summary).toMatchObject({ ok: 2, skipped: 1, failed: 0, reports: 3, superseded: 1, interrupted: 0, duplicates: 0, shards: 2 });
    expect(m.failed).toBe(false);
    // the interrupted report coming later changes nothing: a finished run covered the whole part
    const later = mergeReports([['p1', part(1, 2, ['a'])], ['new', part(2, 2, ['b', 'c'], { finished: at(1) })], ['old', stopped(2, 2, ['b'], 30)]]);
    expect(later.problems.map((p) => [p.report, p.kind])).toEqual([['old', 'superseded']]);
    expect(later.failed).toBe(false);
  });

  it('of two finished runs of a part the later one counts, its failures included; the earlier one\'s failure is gone', () => {
    const m = mergeReports([['p1', part(1, 2, ['a'])], ['first', part(2, 2, ['b'], { finished: at(1), exit_status: 1 }, 'corrupt')], ['second', part(2, 2, ['b'], { finished: at(2) })]]);
    expect(m.problems.map((p) => [p.report, p.kind])).toEqual([['first', 'superseded']]);
    expect(m.problems[0]!.message).toBe('part 2 of 2 again in second, which finished later: this report is not counted');
    expect(m.failedRows).toEqual([]);
    expect(m.summary).toMatchObject({ ok: 2, failed: 0, duplicates: 0 });
    expect(m.failed).toBe(false);
    const worse = mergeReports([['p1', part(1, 2, ['a'])], ['first', part(2, 2, ['b'], { finished: at(1) })], ['second', part(2, 2, ['b'], { finished: at(2), exit_status: 1 }, 'corrupt')]]);
    expect(worse.failedRows.map((f) => [f.report, f.row.path, f.shard])).toEqual([['second', 'b', '2/2']]);
    expect(worse.failed).toBe(true);
  });

  it('two runs of a part that cannot be ordered (no time, or the same time) are an error, and both count', () => {
    for (const [x, y] of [[{}, {}], [{ finished: at(3) }, { finished: at(3) }], [{ finished: at(3) }, {}]]) {
      const m = mergeReports([['p1', part(1, 2, ['a'])], ['x', part(2, 2, ['b'], x)], ['y', part(2, 2, ['b'], y)]]);
      expect(m.problems.map((p) => [p.kind, p.message])).toEqual([['shard-twice', 'part 2/2 is in 2 reports: x, y'], ['duplicate', expect.stringContaining('path "b" was already in x line 1')]]);
      expect(m.summary.superseded).toBe(0);
    }
  });

  it('of two interrupted runs of a part the later one counts, and the part is still interrupted', () => {
    const m = mergeReports([['p1', part(1, 2, ['a'])], ['i1', stopped(2, 2, ['b'], 1)], ['i2', stopped(2, 2, ['c'], 2)]]);
    expect(m.problems.map((p) => [p.report, p.kind])).toEqual([['i1', 'superseded'], ['i2', 'interrupted']]);
    expect(m.summary).toMatchObject({ ok: 2, interrupted: 1, superseded: 1 });
  });

  it('a path in a counted report and in a superseded one is no duplicate; in two counted reports it still is', () => {
    const m = mergeReports([['old', stopped(1, 2, ['a', 'x'], 1)], ['new', part(1, 2, ['a', 'x'], { finished: at(2) })], ['p2', part(2, 2, ['x'])]]);
    expect(m.duplicates.map((d) => [d.value, d.first.report, d.again.report])).toEqual([['x', 'new', 'p2']]);
    expect(m.summary.duplicates).toBe(1);
  });
});

describe('damaged or odd reports', () => {
  it('a summary that disagrees with its rows, and a run that exited 1', () => {
    const text = [row('a'), row('b', 'corrupt', 0), summ({ ok: 2, failed: 0, skipped: 0, bytes: 10, exit_status: 1 })].join('\n') + '\n';
    const m = mergeReports([['r', b(text)]]);
    expect(m.problems.map((p) => [p.line, p.kind])).toEqual([[3, 'summary-mismatch'], [3, 'run-failed']]);
    expect(m.problems[0]!.message).toBe('the summary does not match the rows: ok 2 (rows: 1), failed 0 (rows: 1)');
  });

  it('a batch mismatch reported only by exit_status fails the merge even when every row is ok', () => {
    const m = mergeReports([['r', report([row('a')], { exit_status: 1 })]]);
    expect(m.summary.failed).toBe(0);
    expect(m.failed).toBe(true);
  });

  it('rows that are ok on their own but not in their batch are kept; a failed row explains a run\'s exit 1', () => {
    const rows = [row('a', 'ok', 10, { batch: 'swapped', batch_detail: 'holds b' }), row('b', 'ok', 10, { batch: 'ok' }), row('c', 'ok', 10, { checksum: 'extra' })];
    const m = mergeReports([['r', report(rows, { exit_status: 1 })]]);
    expect(m.unmatchedRows.map((r) => r.row.path)).toEqual(['a', 'c']);
    expect(kinds(m)).toEqual(['run-failed']);
    const explained = mergeReports([['r', report([row('a'), row('d', 'missing', 0)], { exit_status: 1 })]]);
    expect(kinds(explained)).toEqual([]); // the missing row says why it exited 1
    expect(explained.failed).toBe(true);
  });

  it('rows after the summary, two summaries, bad rows, non-JSON lines; blank lines and CRLF are fine', () => {
    const text = [row('a'), '', '[1,2]', 'hello', JSON.stringify({ path: 'x', status: 'ok' }), summ({ ok: 1, failed: 0, skipped: 0, bytes: 10 }), row('late'), summ({})].join('\r\n') + '\r\n';
    const m = mergeReports([['r', b(text)]]);
    expect(m.problems.map((p) => [p.line, p.kind])).toEqual([[3, 'not-json'], [4, 'not-json'], [5, 'bad-row'], [7, 'after-summary'], [8, 'two-summaries'], [6, 'summary-mismatch']]);
    expect(m.summary.ok).toBe(2);
  });

  it('an empty report, and one that is not UTF-8', () => {
    const m = mergeReports([['empty', new Uint8Array()], ['bin', Uint8Array.of(0xff, 0xfe, 0x0a)]]);
    expect(m.problems.map((p) => [p.report, p.kind])).toEqual([['empty', 'empty'], ['bin', 'not-json'], ['bin', 'truncated']]);
  });

  it('outputs written twice are named; skipped rows are not failures', () => {
    const m = mergeReports([['a', report([row('x.aspera-env', 'ok', 5, { output: 'out/x' })])], ['b', report([row('y/x.aspera-env', 'skipped', 0, { output: 'out/x' })])]]);
    expect(m.duplicates.map((d) => [d.key, d.value])).toEqual([['output', 'out/x']]);
    expect(m.summary).toMatchObject({ ok: 1, skipped: 1, failed: 0 });
  });

  it('decrypt and verify reports mixed: a warning only', () => {
    const m = mergeReports([['d', report([row('a')])], ['v', report([row('b')], { verify: 'keyed' })]]);
    expect(m.problems.map((p) => [p.kind, p.severity])).toEqual([['mixed', 'warning']]);
    expect(reportProblemLines(m)[0]).toMatch(/^warning: \(merge\): the reports are of different kinds/);
    expect(m.failed).toBe(false);
  });

  it('misuse: result before every report ended, push after end', () => {
    const mm = new ReportMerger();
    const r = mm.report('x');
    expect(() => mm.result()).toThrow(/not ended/);
    r.end();
    expect(() => r.push(b('x'))).toThrow(/after end/);
  });

  it('any chunking of the reports gives the same merge (property)', () => {
    const text = b([row('a'), row('b c', 'corrupt', 0), 'junk', row('a'), summ({ ok: 2, failed: 1, skipped: 0, bytes: 20, shard: '1/2' })].join('\n'));
    const whole = mergeReports([['r', text]]);
    fc.assert(fc.property(fc.array(fc.nat(text.length), { maxLength: 6 }), (cuts) => {
      const mm = new ReportMerger();
      const r = mm.report('r');
      let last = 0;
      for (const c of [...cuts].sort((x, y) => x - y)) {
        r.push(text.subarray(last, c));
        last = c;
      }
      r.push(text.subarray(last));
      r.end();
      expect(mm.result()).toEqual(whole);
    }));
  });
});
