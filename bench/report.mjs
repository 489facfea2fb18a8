// Turns bench/bench.mjs's measured rows into ratios, PASS/MISS against the
// project's performance targets, and the human-readable text report.

import { GiB, MiB, fmtMiB, fmtRate, fmtS, fmtSize, table } from './lib.mjs';

const okRow = (rows, id) => rows.find((r) => r.id === id && r.status === 'ok' && r.wall > 0);

export function computeRatios(rows) {
  const out = [];
  const ratio = (id, label, a, b) => {
    const x = okRow(rows, a), y = okRow(rows, b);
    out.push({ id, label, unit: 'x', value: x && y ? x.wall / y.wall : null });
  };
  const rate = (id, label, a, minus) => {
    const x = okRow(rows, a);
    const fixed = minus ? okRow(rows, minus) : null;
    const t = x ? x.wall - (fixed ? fixed.wall : 0) : 0;
    out.push({ id, label, unit: 'GB/s', value: x && t > 0 ? x.bytes / t / 1e9 : null });
  };
  ratio('decrypt.aes/age', 'aenv decrypt aes-256-gcm / age -d (wall)', 'large.decrypt.aes', 'large.age-decrypt');
  {
    const d = okRow(rows, 'large.decrypt.aes'), f = okRow(rows, 'fixed.decrypt'), a = okRow(rows, 'large.age-decrypt');
    out.push({ id: 'decrypt.aes-fixed/age', label: 'aenv decrypt aes-256-gcm minus the 1 B decrypt / age -d', unit: 'x',
      value: d && f && a ? (d.wall - f.wall) / a.wall : null });
  }
  ratio('decrypt.chacha/age', 'aenv decrypt chacha20-poly1305 / age -d (wall)', 'large.decrypt.chacha', 'large.age-decrypt');
  ratio('decrypt.aes/cp', 'aenv decrypt aes-256-gcm / cp (wall)', 'large.decrypt.aes', 'large.cp');
  ratio('decrypt.chacha/cp', 'aenv decrypt chacha20-poly1305 / cp (wall)', 'large.decrypt.chacha', 'large.cp');
  ratio('age/cp', 'age -d / cp (wall)', 'large.age-decrypt', 'large.cp');
  ratio('verify.passwordless/cp', 'aenv verify passwordless / cp (wall)', 'large.verify.passwordless', 'large.cp');
  rate('decrypt.aes.rate', 'aenv decrypt aes-256-gcm throughput', 'large.decrypt.aes');
  rate('decrypt.aes.stream', 'aenv decrypt aes-256-gcm, minus the 1 B decrypt (start+KDF)', 'large.decrypt.aes', 'fixed.decrypt');
  rate('verify.keyed.rate', 'aenv verify keyed throughput', 'large.verify.keyed');
  rate('verify.passwordless.rate', 'aenv verify passwordless throughput', 'large.verify.passwordless');
  rate('cp.rate', 'cp throughput', 'large.cp');
  rate('age.rate', 'age -d throughput', 'large.age-decrypt');
  ratio('noble/node.aes', 'decrypt aes-256-gcm: noble / node (wall)', 'backend.decrypt.aes.noble', 'backend.decrypt.aes.node');
  ratio('noble/node.chacha', 'decrypt chacha20-poly1305: noble / node (wall)', 'backend.decrypt.chacha.noble', 'backend.decrypt.chacha.node');
  rate('noble.aes.rate', 'decrypt aes-256-gcm --backend noble throughput', 'backend.decrypt.aes.noble');
  rate('noble.chacha.rate', 'decrypt chacha20-poly1305 --backend noble throughput', 'backend.decrypt.chacha.noble');
  ratio('batch.decrypt/age', 'batch: aenv decrypt DIR / age -d file by file (wall)', 'batch.decrypt', 'batch.age-decrypt');
  for (const [id, label] of [['batch.decrypt', 'aenv decrypt DIR'], ['batch.age-decrypt', 'age -d file by file']]) {
    const r = okRow(rows, id);
    out.push({ id: `${id}.files-per-s`, label: `batch: ${label}`, unit: 'files/s', value: r ? r.count / r.wall : null });
  }
  return out;
}

export function computeTargets(rows, size, files) {
  const t = [];
  const sizeNote = size === GiB ? '' : ` (measured at ${fmtSize(size)}; the target is for 1 GiB)`;
  const filesNote = files === 3000 ? '' : ` (measured with ${files} files; the target is for 3,000)`;
  const judge = (name, value, ok, limit, note, missing) => t.push({
    name, limit, value, note, result: value == null ? 'n/a' : ok ? 'PASS' : 'MISS', ...(value == null ? { why: missing } : {}),
  });
  const why = (...ids) => ids.map((id) => { const r = rows.find((x) => x.id === id); return r ? `${id}: ${r.status}${r.detail ? ` ${r.detail}` : ''}` : `${id}: not run`; }).filter((s) => !/: ok$/.test(s)).join('; ');

  const d = okRow(rows, 'large.decrypt.aes'), a = okRow(rows, 'large.age-decrypt');
  const r1 = d && a ? d.wall / a.wall : null;
  judge('decrypt <= 0.8 x age -d wall time', r1, r1 != null && r1 <= 0.8, '<= 0.80 x', sizeNote, why('large.decrypt.aes', 'large.age-decrypt'));

  const v = okRow(rows, 'large.verify.passwordless');
  const gbs = v ? v.bytes / v.wall / 1e9 : null;
  judge('passwordless verify >= 1.5 GB/s', gbs, gbs != null && gbs >= 1.5, '>= 1.50 GB/s', sizeNote, why('large.verify.passwordless'));

  // Judged on the default backend; the pure-JS fallback's figure is shown beside it.
  const mem = rows.filter((r) => r.tool === 'aenv' && /decrypt|verify/.test(r.id) && r.rssKiB != null);
  const maxOf = (rs) => rs.reduce((m, r) => (m && m.rssKiB >= r.rssKiB ? m : r), null);
  const worst = maxOf(mem.filter((r) => !r.id.endsWith('.noble')));
  const noble = maxOf(mem.filter((r) => r.id.endsWith('.noble')));
  const mib = worst ? worst.rssKiB / 1024 : null;
  judge('peak RSS <= 128 MiB (aenv decrypt/verify)', mib, mib != null && mib <= 128, '<= 128 MiB',
    (worst ? ` (worst: ${worst.label})` : '') + (noble ? ` (--backend noble, not judged: up to ${(noble.rssKiB / 1024).toFixed(1)} MiB)` : ''),
    'no RSS measured (needs /usr/bin/time: apt-get install time)');

  const b = okRow(rows, 'batch.decrypt'), ba = okRow(rows, 'batch.age-decrypt');
  const r4 = b && ba ? b.wall / ba.wall : null;
  judge('batch decrypt <= 0.2 x age -d file by file', r4, r4 != null && r4 <= 0.2, '<= 0.20 x', filesNote, why('batch.decrypt', 'batch.age-decrypt'));
  return t;
}

const fmtVal = (v, unit) => (v == null ? 'n/a' : unit === 'x' ? `${v.toFixed(3)} x` : unit === 'GB/s' ? `${v.toFixed(3)} GB/s` : unit === 'MiB' ? `${v.toFixed(1)} MiB` : `${v.toFixed(0)} ${unit}`);

export function renderText({ meta, rows, sanity, ratios, targets, failures }) {
  const L = [];
  L.push('');
  L.push(`aenv bench  ${meta.date}`);
  L.push(`  aenv: ${meta.aenv} (${meta.aenvVersion})   age: ${meta.age ?? 'not installed (apt-get install age)'}   node ${meta.node}`);
  L.push(`  ${meta.cpus} x ${meta.cpu}; temp data in ${meta.tmp}${meta.tmpfs ? ' (tmpfs)' : ''}; best of ${meta.repeat} run(s)${meta.nice != null ? `, under nice -n ${meta.nice}` : ''}; peak RSS: ${meta.rss}`);
  const noisy = rows.filter((r) => r.noisy).length;
  L.push(`  load average (1 min) at start ${meta.loadStart.toFixed(2)}; ${noisy ? `${noisy} row(s) marked "noisy": all cores were busy during the run, partly with other processes` : 'no row disturbed by other processes'}`);
  L.push('');
  const groups = [['fixed', 'fixed cost'], ['large', `one ${fmtSize(meta.size)} file`], ['backend', `crypto backends, ${fmtSize(meta.nobleSize)} file (noble is pure JS, so a smaller file)`], ['batch', `${meta.files} small files of 1-16 KiB`]];
  const body = [];
  for (const [g, title] of groups) {
    const rs = rows.filter((r) => r.group === g);
    if (!rs.length) continue;
    body.push([`[${title}]`, '', '', '', '', '', '']);
    for (const r of rs) {
      body.push([`  ${r.label}`, r.bytes ? fmtSize(r.bytes) : '-', fmtS(r.wall), fmtRate(r.bytes, r.wall), r.cpu == null ? '-' : r.cpu.toFixed(2), fmtMiB(r.rssKiB),
        (r.status === 'ok' ? 'ok' : `${r.status}: ${r.detail}`) + (r.noisy ? ` (noisy: others ${r.othersCpu.toFixed(1)} cpu-s)` : '')]);
    }
  }
  L.push(table(['command', 'bytes', 'wall s', 'GB/s', 'cpu s', 'RSS MiB', 'check'], body, [1, 2, 3, 4, 5]));
  L.push('');
  L.push('sanity (a damaged envelope and a wrong password must be rejected; outputs are checked by SHA-256):');
  for (const s of sanity) L.push(`  ${s.ok ? 'ok  ' : 'FAIL'}  ${s.label}: ${s.detail}`);
  L.push('');
  L.push('ratios:');
  L.push(table(['', 'value'], ratios.map((r) => [`  ${r.label}`, fmtVal(r.value, r.unit)]), [1]));
  const nn = ratios.find((r) => r.id === 'noble/node.aes');
  if (nn?.value != null && nn.value < 1.5) L.push('  note: noble is barely slower than node here: check that the CLI really honours --backend noble.');
  L.push('');
  L.push('targets:');
  L.push(table(['', 'limit', 'measured', 'result'], targets.map((t) => [
    `  ${t.name}`, t.limit, fmtVal(t.value, t.limit.endsWith('GB/s') ? 'GB/s' : t.limit.endsWith('MiB') ? 'MiB' : 'x'),
    `${t.result}${t.note ?? ''}${t.why ? ` (${t.why})` : ''}`]), [2]));
  L.push('');
  L.push('GB/s = 10^9 bytes of plaintext per second of wall time, process start and KDF included; cpu s = user+sys.');
  L.push('age -d uses an X25519 identity (no password KDF); aenv pays process start + scrypt (the 1 B decrypt row) on top.');
  L.push('RSS = ru_maxrss of the child from GNU time (for a shell loop: its largest single process).');
  if (failures) L.push(`${failures} run(s) or check(s) FAILED: see above.`);
  return L.join('\n');
}
