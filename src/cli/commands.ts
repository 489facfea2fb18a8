// One function per command: the parsed options checked and turned into a job (validate.ts),
// the job run by the engine (engine/run.ts runJob) and seen through a view (view.ts), and the
// exit status. inspect, report and selftest print what the engine tells them.

import { inspectFile, inspectTargets, NOT_CHECKED, type InspectResult } from '../engine/inspect.js';
import { UsageError, type Job, type RunView } from '../engine/job.js';
import { readReports } from '../engine/reports.js';
import { runJob } from '../engine/run.js';
import { toolReport, toolText, unprotectLocation, type Location } from '../engine/tools.js';
import { VERSION, versionLine } from '../version.js';
import type { ArgsOf } from './options.js';
import { ask } from './prompt.js';
import { reportText } from './report-text.js';
import { jsonLine, safeJson, safeText, showPath } from './text.js';
import { decryptJob, encryptJob, inspectPaths, reportPaths, verifyJob, type Terminal } from './validate.js';
import { colorWanted, StreamView, TerminalView } from './view.js';

function terminal(): Terminal {
  return { stdin: process.stdin, stdout: process.stdout, stdoutIsTerminal: Boolean(process.stdout.isTTY), ask: process.stdin.isTTY ? ask : null };
}

/** How the run is shown: its rows on standard output (a stream's on standard error), a progress display on a terminal. */
function viewOf(job: Job, a: { json: boolean; quiet: boolean; verbose: boolean; progress: boolean }): RunView {
  if (a.quiet && a.verbose) throw new UsageError('--quiet and --verbose cannot be used together', 'choose one: -q prints failures and one summary line, -v every file');
  if (job.inputs.kind === 'stream') return new StreamView(a.json, process.stderr);
  return new TerminalView({
    json: a.json, quiet: a.quiet, verbose: a.verbose, out: process.stdout, err: process.stderr,
    color: { out: colorWanted(process.stdout), err: colorWanted(process.stderr) }, progress: a.progress && !a.quiet && Boolean(process.stderr.isTTY),
  });
}

export async function runDecrypt(a: ArgsOf<'decrypt'>): Promise<number> {
  const job = decryptJob(a, terminal());
  return runJob(job, viewOf(job, a));
}

export async function runVerify(a: ArgsOf<'verify'>): Promise<number> {
  const job = verifyJob(a, terminal());
  return runJob(job, viewOf(job, a));
}

export async function runEncrypt(a: ArgsOf<'encrypt'>): Promise<number> {
  const job = encryptJob(a, terminal());
  return runJob(job, viewOf(job, a));
}

/** inspect walks folders for the default extension (it has no --extension). */
const DEFAULT_EXTENSION = '.aspera-env';

export async function runInspect(a: ArgsOf<'inspect'>): Promise<number> {
  const paths = inspectPaths(a);
  const tool = unprotectLocation(a.asunprotect);
  let failed = 0;
  let files = 0;
  for await (const t of inspectTargets(paths, DEFAULT_EXTENSION)) {
    if ('passed' in t) {
      if (a.json) process.stdout.write(jsonLine({ passed_over: { path: t.passed, kind: t.what } }) + '\n');
      continue;
    }
    files++;
    const r = 'file' in t ? await inspectFile(t.file, tool) : { path: t.problem, status: 'io-error' as const, detail: t.detail };
    if (r.status !== 'ok') failed++;
    process.stdout.write(a.json ? jsonLine(r) + '\n' : inspectText(r, tool));
  }
  if (files === 0) {
    process.stderr.write(`aenv: error: no files ending in ${DEFAULT_EXTENSION} found in ${paths.map(showPath).join(', ')}\n`);
    return 2;
  }
  return failed ? 1 : 0;
}

function inspectText(r: InspectResult, tool: Location): string {
  const lines = [`${showPath(r.path)}: ${r.status}${r.status === 'ok' ? '' : ` (${r.detail})`}`];
  const row = (k: string, v: unknown): void => {
    if (v !== undefined) lines.push(`  ${k.padEnd(16)}${String(v)}`);
  };
  row('size', r.size !== undefined ? `${r.size} bytes` : undefined);
  row('format', r.version !== undefined ? `AENV/${r.version}` : r.format === 'foreign' ? 'foreign envelope (no AENV magic)' : undefined);
  row('asunprotect', r.format === 'foreign' ? toolText(tool) : undefined);
  row('suite', r.suite);
  row('kdf', r.kdf_text);
  row('chunk size', r.chunk_size);
  row('chunks', r.chunks);
  row('plaintext', r.plaintext_bytes !== undefined ? `${r.plaintext_bytes} bytes` : undefined);
  row('batch id', r.batch_id !== undefined ? `${r.batch_id} (salt prefix: files sealed in one run share it)` : undefined);
  row('content digest', r.content_digest);
  row('checked', r.checked === 'header+size' ? `header and size only (${NOT_CHECKED})` : r.checked === 'header' ? 'header only (the size does not fit the layout)' : undefined);
  return lines.map(safeText).join('\n') + '\n';
}

/** `aenv report FILES...`: the merged summary (people: by status, the failed rows, what is wrong with the set); exit 1 when a row failed or the set is incomplete. */
export async function runReport(a: ArgsOf<'report'>): Promise<number> {
  const { merged, json, problems } = await readReports(reportPaths(a), process.stdin);
  if (a.json) {
    process.stdout.write(safeJson(json) + '\n');
    for (const line of problems) process.stderr.write(`aenv: ${safeText(line)}\n`);
  } else {
    process.stdout.write(reportText(merged, problems));
  }
  return merged.failed ? 1 : 0;
}

/**
 * `aenv doctor`: what this machine can open: the build, the selftest (its failures, else one
 * line), and where IBM's tools are (looked up here, and by a run only when a file needs them).
 */
export async function runDoctor(): Promise<number> {
  const { selftest } = await import('../selftest/run.js');
  const out = (l: string): boolean => process.stdout.write(`${l}\n`);
  out(versionLine());
  const checks = await selftest(() => {});
  const failed = checks.filter((c) => !c.ok);
  for (const c of failed) out(`  FAIL ${c.name}: ${c.detail}`);
  out(`AENV/1 envelopes: ${failed.length ? `NOT safe to open here: ${failed.length} of ${checks.length} selftest checks failed` : `can be opened and sealed (selftest: ${checks.length} checks passed)`}`);
  const [un, pro] = toolReport();
  out(`IBM's envelopes: ${un!.found ? 'can be opened (decrypt, keyed verify)' : 'cannot be opened (no usable asunprotect)'}; ${pro!.found ? 'can be sealed (encrypt --format ibm)' : 'cannot be sealed (no usable asprotect)'}`);
  out(`  ${un!.line}`);
  out(`  ${pro!.line}`);
  return failed.length ? 1 : 0;
}

/** `aenv selftest`: one line per check, then a summary; exit 0 when every check passed. */
export async function runSelftest(): Promise<number> {
  const { selftest } = await import('../selftest/run.js');
  const t0 = performance.now();
  const checks = await selftest((c) => {
    process.stdout.write(`${c.ok ? 'ok  ' : 'FAIL'}  ${c.name} (${Math.round(c.ms)} ms)${c.ok ? '' : `: ${safeText(c.detail)}`}\n`);
  });
  const failed = checks.filter((c) => !c.ok).length;
  process.stdout.write(`selftest: ${checks.length - failed} passed, ${failed} failed in ${((performance.now() - t0) / 1000).toFixed(2)} s (aenv ${VERSION}, node ${process.version}, ${process.platform}-${process.arch})\n`);
  return failed ? 1 : 0;
}
