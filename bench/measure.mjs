// Timing rows for bench/bench.mjs: each command runs N times under GNU time; the row keeps the
// median wall time (and the CPU time, peak RSS and noise of the run closest to it), with every
// sample in the JSON. Also the sanity probes (commands that must fail) and skipped rows.

import os from 'node:os';
import { fmtMiB, fmtRate, fmtS, median, run, walkFiles } from './lib.mjs';

/** The telling line of a child's stderr: an error line (a crash ends with "Node.js vXX"), else the last. */
export const lastLine = (s) => {
  const lines = s.trim().split('\n').map((l) => l.trim()).filter(Boolean);
  return (lines.find((l) => /^(\w*Error|aenv: error|gpg: decryption failed)\b/.test(l)) ?? lines.pop() ?? '').slice(0, 200);
};

/** Bytes of memory a KDF needs by itself (ENVELOPE.md's parameters); 0 for PBKDF2 or no KDF. */
export function kdfMemBytes(params) {
  if (!params) return 0;
  if (params.kdf === 1) return 128 * params.p2 * 2 ** params.p1 * params.p3;
  if (params.kdf === 2) return params.p1 * 1024;
  return 0;
}

/**
 * opts: repeat, timeout, nice, env, cwd, log. Returns { rows, sanity, measure, skipRow, expectFailure, fail, failures() }.
 */
export function measurer({ repeat, timeout, nice, env, cwd, log }) {
  const rows = [];
  const sanity = [];
  let failures = 0;
  const cores = os.cpus().length;

  const print = (row) => {
    const rss = row.rssKiB == null ? '' : `RSS ${fmtMiB(row.rssKiB).padStart(7)} MiB`;
    log(`  ${row.label.padEnd(58)} ${fmtS(row.wall).padStart(8)} s ${fmtRate(row.bytes, row.wall).padStart(7)} GB/s  ${rss}  ${row.status}`
      + `${row.detail ? ` (${row.detail})` : ''}${row.samples?.length > 1 ? `  [${row.samples.length} runs: ${row.samples.map((x) => fmtS(x.wall)).join(' ')}]` : ''}`
      + `${row.noisy ? `  [noisy: all cores busy, ${row.othersCpu.toFixed(2)} cpu-s of it other processes]` : ''}`);
  };

  /**
   * Time one command, `repeat` times (spec.repeat overrides), and keep the median.
   * spec: id, label, group, tool, bytes, count, argv (array or fn(ctx)), before() -> ctx, verify(ctx, r) -> null | message,
   * after(ctx), skipOnUsage (exit 2 marks the row skipped), kdf (params, or null for none), judged (RSS judged against
   * 96 MiB + the KDF's memory; default: aenv rows), env, stdinFile, timeoutS, captureStdout.
   */
  async function measure(spec) {
    const { id, label, group, tool, bytes = 0, argv, before, verify, after, skipOnUsage } = spec;
    const n = spec.repeat ?? repeat;
    const timeoutS = spec.timeoutS ?? timeout;
    const row = {
      id, label, group, tool, bytes, count: spec.count ?? 1, wall: null, rssKiB: null, cpu: null, othersCpu: null,
      status: 'ok', detail: spec.detail ?? '', samples: [], kdf: spec.kdf ?? null,
      judged: spec.judged ?? tool === 'aenv', kdfMemBytes: kdfMemBytes(spec.kdf),
    };
    for (let i = 0; i < n; i++) {
      const ctx = before ? await before() : undefined;
      const r = await run(typeof argv === 'function' ? argv(ctx) : argv,
        { timeoutS, env: spec.env ?? env, cwd, statDir: cwd, nice, stdinFile: spec.stdinFile, captureStdout: spec.captureStdout });
      let err = null;
      if (r.timedOut) err = `timed out after ${timeoutS} s`;
      else if (r.code !== 0) err = `exit ${r.code ?? r.signal}: ${lastLine(r.stderr)}`;
      else if (verify) err = await verify(ctx, r);
      if (after) await after(ctx);
      const noisy = r.othersCpu != null && r.wall > 0 && r.othersCpu > 0.2 * r.wall && r.cpu + r.othersCpu >= 0.9 * cores * r.wall;
      if (err) {
        Object.assign(row, { wall: r.wall, rssKiB: r.rssKiB, cpu: r.cpu, othersCpu: r.othersCpu });
        if (skipOnUsage && r.code === 2) { row.status = 'skip'; row.detail = `CLI rejected it (exit 2): ${lastLine(r.stderr)}`; }
        else { row.status = 'FAIL'; row.detail = err; failures++; }
        break;
      }
      row.samples.push({ wall: r.wall, rssKiB: r.rssKiB, cpu: r.cpu, othersCpu: r.othersCpu, noisy });
    }
    if (row.status === 'ok') {
      // Median wall; the other figures from the run closest to it (for an even count, the slower middle one).
      row.wall = median(row.samples.map((x) => x.wall));
      const sorted = [...row.samples].sort((a, b) => a.wall - b.wall);
      const mid = sorted[sorted.length >> 1];
      Object.assign(row, { cpu: mid.cpu, othersCpu: mid.othersCpu, noisy: mid.noisy });
      row.rssKiB = median(row.samples.map((x) => x.rssKiB));
      row.rssMaxKiB = row.samples.reduce((m, x) => (x.rssKiB != null && x.rssKiB > (m ?? 0) ? x.rssKiB : m), null);
      row.noisyRuns = row.samples.filter((x) => x.noisy).length;
    }
    rows.push(row);
    print(row);
    return row;
  }

  function skipRow(id, label, group, tool, why) {
    const row = { id, label, group, tool, bytes: 0, wall: null, rssKiB: null, cpu: null, status: 'skip', detail: why, samples: [], judged: false };
    rows.push(row);
    log(`  ${label.padEnd(58)} skipped: ${why}`);
    return row;
  }

  function check(label, ok, detail) {
    sanity.push({ label, ok, detail });
    if (!ok) failures++;
    log(`  sanity: ${label.padEnd(50)} ${ok ? 'ok' : 'FAIL'} (${detail})`);
  }

  /** Commands that must fail with exit 1 (and leave nothing in outDir): a verify that reads nothing can't pass these. */
  async function expectFailure(label, argv, outDir) {
    const r = await run(argv, { timeoutS: timeout, env, cwd });
    let ok = r.code === 1;
    let why = ok ? 'rejected (exit 1)' : `expected exit 1, got ${r.code ?? r.signal}`;
    if (ok && outDir && walkFiles(outDir).length) { ok = false; why = `exit 1 but left ${walkFiles(outDir).length} file(s) in the output folder`; }
    check(label, ok, why);
  }

  return { rows, sanity, measure, skipRow, check, expectFailure, fail: () => { failures++; }, failures: () => failures };
}
