// The human-readable report of bench/bench.mjs: machine facts, the rows (median wall time,
// throughput, CPU, peak RSS against each aenv row's limit), sanity checks, KDF costs, ratios,
// and issue 10's targets with PASS/MISS and, for a MISS, the fixed-cost share.

import { fmtMiB, fmtRate, fmtS, fmtSize, table } from './lib.mjs';
import { kdfTable } from './targets.mjs';

const fmtVal = (v, unit) => (v == null ? 'n/a'
  : unit === 'x' ? `${v.toFixed(3)} x` : unit === 'GB/s' ? `${v.toFixed(3)} GB/s` : unit === 'MiB' ? `${v.toFixed(1)} MiB` : `${v.toFixed(0)} ${unit}`);
const ms = (s) => (s == null ? '-' : `${(s * 1000).toFixed(0)} ms`);

function machine(meta) {
  const L = [];
  L.push(`aenv bench  ${meta.date}`);
  L.push(`  machine: ${meta.cpus} cores (${meta.cpu}), ${fmtSize(meta.memTotal)} RAM, Linux ${meta.kernel}; load average (1 min) ${meta.loadStart.toFixed(2)} at start, ${meta.loadEnd?.toFixed(2) ?? '?'} at end`);
  L.push(`  node ${meta.node} (bench; the aenv rows run ${meta.aenv}); aenv ${meta.aenvVersion}`);
  L.push(`  temp data: ${meta.tmp} (${meta.tmpfs ? 'tmpfs' : 'not tmpfs: disk speed is in the figures'})`);
  L.push(`  peers: ${Object.entries(meta.peers).map(([k, v]) => `${k} ${v ?? 'missing'}`).join('; ')}`);
  L.push(`  median of ${meta.repeat} run(s) per row (1 B / KDF rows: at least ${meta.tinyRepeat})${meta.nice != null ? `, under nice -n ${meta.nice}` : ''}; peak RSS: ${meta.rss}`);
  return L;
}

export function renderText({ meta, rows, sanity, ratios, targets, failures }) {
  const L = ['', ...machine(meta)];
  const noisy = rows.filter((r) => r.noisy);
  L.push(`  ${noisy.length ? `${noisy.length} row(s) marked "noisy": all cores were busy during their median run, partly with other processes` : 'no row disturbed by other processes'}`);
  L.push('');
  const groups = [
    ['fixed', 'fixed costs: 1 B envelopes (process start; start + KDF) and the reference argon2 CLI'],
    ['large', `one ${fmtSize(meta.size)} file`],
    ['jobs', `--jobs 4: ${meta.jobsFiles} files of ${fmtSize(meta.jobsSize)} at once`],
    ['backend', `crypto backends, ${fmtSize(meta.nobleSize)} file (noble is pure JS; RSS not judged)`],
    ['batch', `${meta.files} small files of 1-16 KiB, sealed in one run`],
    ['tree', meta.tree ? `tree of ${meta.tree} tiny envelopes (issue 13)` : 'tree of tiny envelopes (issue 13): not run'],
  ];
  const body = [];
  for (const [g, title] of groups) {
    const rs = rows.filter((r) => r.group === g);
    if (!rs.length) continue;
    body.push([`[${title}]`]);
    for (const r of rs) {
      const lim = r.rssLimitKiB == null ? '' : `${(r.rssLimitKiB / 1024).toFixed(0)} ${r.rssOk ? 'ok' : 'OVER'}`;
      body.push([`  ${r.label}`, r.bytes ? fmtSize(r.bytes) : '-', fmtS(r.wall), fmtRate(r.bytes, r.wall), r.cpu == null ? '-' : r.cpu.toFixed(2),
        fmtMiB(r.rssKiB), lim,
        (r.status === 'ok' ? `ok${r.detail ? ` (${r.detail})` : ''}` : `${r.status}: ${r.detail}`) + (r.noisy ? ` (noisy: others ${r.othersCpu.toFixed(1)} cpu-s)` : '')
        + (r.samples?.length > 1 ? ` [${r.samples.map((x) => fmtS(x.wall)).join(' ')}]` : '')]);
    }
  }
  L.push(table(['command', 'bytes', 'wall s', 'GB/s', 'cpu s', 'RSS MiB', 'limit', 'check'], body, [1, 2, 3, 4, 5, 6]));
  L.push('');
  L.push('sanity (damaged envelopes and a wrong password must be rejected; every output is checked by SHA-256):');
  for (const s of sanity) L.push(`  ${s.ok ? 'ok  ' : 'FAIL'}  ${s.label}: ${s.detail}`);
  L.push('');
  L.push(`KDF settings (in-process: one kdf() call in the bench process, node backend, median of ${meta.kdfRuns}; CLI: aenv decrypt of a 1 B envelope):`);
  L.push(table(['', 'in-process', 'CLI 1 B decrypt', ''], kdfTable(rows, meta).map((k) => [
    `  ${k.id}: ${k.label}`, k.inProcessMs == null ? '-' : `${k.inProcessMs.toFixed(0)} ms`, ms(k.decrypt1B), k.cheapest ? '<- cheapest floor here' : '']), [1, 2]));
  L.push('');
  L.push('ratios (median wall times):');
  L.push(table(['', 'value'], ratios.map((r) => [`  ${r.label}`, fmtVal(r.value, r.unit)]), [1]));
  const nn = ratios.find((r) => r.id === 'noble/node.aes');
  if (nn?.value != null && nn.value < 1.5) L.push('  note: noble is barely slower than node here: check that the CLI really honours --backend noble.');
  L.push('');
  L.push('targets (issue 10; 13 is issue 13\'s tree):');
  L.push(table(['', 'limit', 'measured', 'result'], targets.map((t) => [
    `  ${t.id.padEnd(3)} ${t.name}`, t.limit, fmtVal(t.value, t.unit), `${t.result}${t.note ?? ''}${t.why ? ` (${t.why})` : ''}`]), [2]));
  const missed = targets.filter((t) => t.fixed);
  if (missed.length) {
    L.push('');
    L.push('where the time of a MISS went (fixed = the 1 B decrypt of the same KDF: process start + KDF; start = 1 B passwordless verify):');
    for (const t of missed) {
      const f = t.fixed;
      L.push(`  ${t.id.padEnd(3)} fixed ${fmtS(f.fixed)} s of ${fmtS(f.wall)} s (${(100 * f.share).toFixed(0)} %: start ${fmtS(f.start)} s, KDF ${fmtS(f.kdf)} s)`
        + (f.share >= 1 ? '; the 1 B row took as long as the whole row: noise, run with --repeat'
          : f.without != null ? `; without it the ratio would be ${f.without.toFixed(3)} x` : ''));
    }
  }
  L.push('');
  L.push('GB/s = 10^9 bytes of plaintext per second of wall time, process start and KDF included; cpu s = user+sys; ratios = aenv median wall / peer median wall.');
  L.push('age uses an X25519 identity (no password KDF); gpg --symmetric AES-256 (CFB + MDC, iterated S2K, no compression, no key cache).');
  L.push('RSS = ru_maxrss of the child from GNU time (for a shell loop: its largest single process); aenv limit = 96 MiB + the KDF\'s memory (scrypt 128*r*N*p, Argon2id m KiB, PBKDF2 0).');
  if (failures) L.push(`${failures} run(s) or check(s) FAILED: see above.`);
  return L.join('\n');
}
