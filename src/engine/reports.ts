// `aenv report FILES...` (docs/batches.md "Merging reports"): the --json reports of several runs (the
// shards of one tree, run on many machines) read as they stream in (`-`: standard input) and
// merged by src/batch/report.ts into one summary, the failed rows and what is wrong with the set.

import { createReadStream } from 'node:fs';
import type { Readable } from 'node:stream';
import { mergedSummaryLine, ReportMerger, reportProblemLines, type MergedReport } from '../batch/report.js';
import { UsageError } from './job.js';
import { showPath } from './show.js';

export type { MergedReport };

/** The merged reports of `paths` (`-`: `stdin`), with the merged summary as one JSON line and the problems as lines. */
export async function readReports(paths: readonly string[], stdin: Readable): Promise<{ merged: MergedReport; json: string; problems: string[] }> {
  const m = new ReportMerger();
  for (const file of paths) {
    const r = m.report(file === '-' ? '(standard input)' : showPath(file));
    try {
      for await (const chunk of file === '-' ? stdin : createReadStream(file)) r.push(chunk as Buffer);
    } catch (e) {
      throw new UsageError(`cannot read the report ${showPath(file)} (${(e as NodeJS.ErrnoException).code ?? String(e)})`, 'give the files that aenv ... --json wrote');
    }
    r.end();
  }
  const merged = m.result();
  const json = mergedSummaryLine({ ...merged, summary: { ...merged.summary, exit_status: merged.failed ? 1 : 0 } as MergedReport['summary'] });
  return { merged, json, problems: reportProblemLines(merged) };
}
