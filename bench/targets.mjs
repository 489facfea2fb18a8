// Issue 10's targets (and issue 13's tree row) judged on bench/bench.mjs's rows: each ratio is
// formed from median wall times; PASS/MISS against the limit; for a MISS, the share of the aenv
// row's time that was fixed cost (process start, KDF), from the 1-byte rows. Also informational
// ratios, and every aenv row's peak RSS judged against 96 MiB + its KDF's own memory.

import { GiB, MiB } from './lib.mjs';
import { KDFS } from './seal.mjs';

export const RSS_BASE = 96 * MiB;
const ok = (rows, id) => rows.find((r) => r.id === id && r.status === 'ok' && r.wall > 0) ?? null;
const whyNot = (rows, ...ids) => ids.map((id) => {
  const r = rows.find((x) => x.id === id);
  return r ? (r.status === 'ok' ? null : `${id}: ${r.status}${r.detail ? ` ${r.detail}` : ''}`) : `${id}: not run`;
}).filter(Boolean).join('; ');

/** Marks each judged aenv row with its RSS limit (96 MiB + KDF memory) and whether it kept to it. */
export function judgeRss(rows) {
  for (const r of rows) {
    if (!r.judged || r.status !== 'ok' || r.rssKiB == null) continue;
    r.rssLimitKiB = (RSS_BASE + (r.kdfMemBytes ?? 0)) / 1024;
    r.rssOk = r.rssKiB <= r.rssLimitKiB;
  }
}

export function computeRatios(rows, meta) {
  const out = [];
  const push = (id, label, value, unit = 'x') => out.push({ id, label, unit, value: value ?? null });
  const w = (id) => ok(rows, id)?.wall ?? null;
  const div = (a, b) => (a != null && b ? a / b : null);
  const minus = (a, b) => (a != null && b != null ? a - b : null);
  const rate = (id) => { const r = ok(rows, id); return r && r.bytes ? r.bytes / r.wall / 1e9 : null; };
  const cheap = meta.cheapest;

  push('decrypt.cheap/gpg', `aenv decrypt (${cheap}) / gpg -d`, div(w('large.decrypt.cheap'), w('large.gpg-decrypt')));
  push('decrypt.default/gpg', 'aenv decrypt (scrypt-17) / gpg -d', div(w('large.decrypt.default'), w('large.gpg-decrypt')));
  push('decrypt.chacha/age', 'aenv decrypt chacha20-poly1305 (scrypt-17) / age -d', div(w('large.decrypt.chacha'), w('large.age-decrypt')));
  push('encrypt.cheap/age', `aenv encrypt (${cheap}) / age -e`, div(w('large.encrypt.cheap'), w('large.age-encrypt')));
  push('encrypt.default/gpg', 'aenv encrypt (scrypt-17) / gpg --symmetric', div(w('large.encrypt.default'), w('large.gpg-encrypt')));
  push('age/cp', 'age -d / cp', div(w('large.age-decrypt'), w('large.cp')));
  push('decrypt.cheap/cp', `aenv decrypt (${cheap}) / cp`, div(w('large.decrypt.cheap'), w('large.cp')));
  push('decrypt.cheap.rate', `aenv decrypt (${cheap}) throughput, start and KDF included`, rate('large.decrypt.cheap'), 'GB/s');
  push('decrypt.cheap.stream', `aenv decrypt (${cheap}) throughput, minus its 1 B decrypt`,
    div(ok(rows, 'large.decrypt.cheap')?.bytes, minus(w('large.decrypt.cheap'), w(`fixed.decrypt.${cheap}`))) / 1e9 || null, 'GB/s');
  push('verify.rate', 'aenv verify passwordless throughput', rate('large.verify.passwordless'), 'GB/s');
  push('openssl.rate', 'openssl dgst -sha256 throughput', rate('large.openssl-sha256'), 'GB/s');
  push('jobs.rate', 'aenv decrypt --jobs 4 throughput (all files)', rate('jobs.decrypt'), 'GB/s');
  const a2 = minus(w('fixed.decrypt.argon2id-64m'), w('fixed.start'));
  push('argon2.vs-start', 'Argon2id: (1 B decrypt - 1 B passwordless verify) / argon2 CLI', div(a2, w('fixed.argon2-cli')));
  const inproc = meta.kdfInProcess?.['argon2id-64m'];
  push('argon2.in-process', 'Argon2id: in-process kdf() call (bench process) / argon2 CLI', div(inproc != null ? inproc / 1000 : null, w('fixed.argon2-cli')));
  // The backends differ in the payload only: each side minus the 1 B scrypt-17 decrypt (start + KDF).
  const pay = (id) => { const x = minus(w(id), w('fixed.decrypt.scrypt-17')); return x != null && x > 0 ? x : null; };
  for (const [s, suite] of [['aes', 'aes-256-gcm'], ['chacha', 'chacha20-poly1305']]) {
    push(`noble/node.${s}`, `decrypt ${suite}: --backend noble / node, each minus the 1 B decrypt`,
      div(pay(`backend.decrypt.${s}.noble`), pay(`backend.decrypt.${s}.node`)));
  }
  for (const [id, label] of [['batch.decrypt', 'batch: aenv decrypt DIR'], ['batch.age-decrypt', 'batch: age -d file by file'],
    ['tree.verify', 'tree: aenv verify TREE (passwordless)'], ['tree.find', 'tree: find TREE -type f']]) {
    const r = ok(rows, id);
    push(`${id}.files-per-s`, label, r ? r.count / r.wall : null, 'files/s');
  }
  return out;
}

/**
 * The targets. Each: { id, name, limit (text), value, unit, result PASS|MISS|n/a, note, why, fixed }.
 * `fixed` (MISS rows only, when derivable): { fixed, start, kdf, wall, share, without } in seconds.
 */
export function computeTargets(rows, meta) {
  const t = [];
  const w = (id) => ok(rows, id)?.wall ?? null;
  const sizeNote = meta.size === GiB ? '' : ` (at ${meta.size / MiB} MiB; the target is for 1 GiB)`;
  const cheap = meta.cheapest;
  const fixedOf = (aenvId, peerId, kdfRow) => {
    const wall = w(aenvId), start = w('fixed.start'), fixed = kdfRow ? w(kdfRow) : start, peer = w(peerId);
    if (wall == null || fixed == null || start == null) return null;
    return { wall, fixed, start, kdf: kdfRow ? Math.max(0, fixed - start) : 0, share: fixed / wall, without: peer ? (wall - fixed) / peer : null };
  };
  const ratioTarget = (id, name, aenvId, peerId, max, note, kdfRow) => {
    const a = w(aenvId), b = w(peerId);
    const value = a != null && b ? a / b : null;
    const result = value == null ? 'n/a' : value <= max ? 'PASS' : 'MISS';
    t.push({ id, name, limit: `<= ${max.toFixed(2)} x`, unit: 'x', value, result, note: note ?? '',
      ...(value == null ? { why: whyNot(rows, aenvId, peerId) } : {}),
      ...(result === 'MISS' ? { fixed: fixedOf(aenvId, peerId, kdfRow) } : {}) });
  };

  ratioTarget('1a', `decrypt, cheapest KDF (${cheap}) / age -d`, 'large.decrypt.cheap', 'large.age-decrypt', 0.6, sizeNote, `fixed.decrypt.${cheap}`);
  ratioTarget('1b', 'decrypt, default KDF (scrypt-17) / age -d', 'large.decrypt.default', 'large.age-decrypt', 1.0, sizeNote, 'fixed.decrypt.scrypt-17');
  ratioTarget('2', 'encrypt, default KDF (scrypt-17) / age -e', 'large.encrypt.default', 'large.age-encrypt', 1.0, sizeNote, 'fixed.decrypt.scrypt-17');

  // 3: every judged aenv row against 96 MiB + its KDF's memory; the worst margin is the value.
  const judged = rows.filter((r) => r.rssLimitKiB != null);
  const over = judged.filter((r) => !r.rssOk);
  const worst = judged.reduce((m, r) => (!m || r.rssKiB - r.rssLimitKiB > m.rssKiB - m.rssLimitKiB ? r : m), null);
  t.push({ id: '3', name: 'peak RSS <= 96 MiB + KDF memory, every aenv row', limit: 'each row', unit: 'MiB',
    value: worst ? worst.rssKiB / 1024 : null, result: !judged.length ? 'n/a' : over.length ? 'MISS' : 'PASS',
    note: worst ? ` (${judged.length} rows; worst margin: ${worst.id} ${(worst.rssKiB / 1024).toFixed(1)} of ${(worst.rssLimitKiB / 1024).toFixed(0)} MiB${over.length ? `; over: ${over.map((r) => r.id).join(', ')}` : ''})` : '',
    ...(judged.length ? {} : { why: 'no RSS measured (needs GNU time at /usr/bin/time)' }) });
  const rssTarget = (id, rowId, name, note = () => '') => {
    const r = rows.find((x) => x.id === rowId);
    const has = r?.rssLimitKiB != null;
    t.push({ id, name, limit: has ? `<= ${(r.rssLimitKiB / 1024).toFixed(0)} MiB` : '-', unit: 'MiB', value: has ? r.rssKiB / 1024 : null,
      result: has ? (r.rssOk ? 'PASS' : 'MISS') : 'n/a', note: has ? note(r) : '',
      ...(has ? {} : { why: r ? `${rowId}: ${r.status}${r.detail ? ` ${r.detail}` : ''}` : `${rowId}: not run` }) });
  };
  rssTarget('3j', 'jobs.decrypt', 'peak RSS, decrypt --jobs 4 of 4 large files');
  const filesNote = meta.files === 3000 ? '' : ` (with ${meta.files} files; the target is for 3,000)`;
  ratioTarget('4', 'batch decrypt, files sealed in one run / age -d file by file', 'batch.decrypt', 'batch.age-decrypt', 0.1, filesNote, 'fixed.decrypt.scrypt-17');
  ratioTarget('5', 'passwordless verify / openssl dgst -sha256', 'large.verify.passwordless', 'large.openssl-sha256', 1.1, sizeNote, null);

  // 6: aenv's Argon2id cost = 1 B decrypt of an Argon2id envelope - 1 B decrypt of a cheapest-KDF envelope.
  const a = w('fixed.decrypt.argon2id-64m'), c = w(`fixed.decrypt.${cheap}`), ref = w('fixed.argon2-cli');
  const derived = a != null && c != null ? a - c : null;
  const v6 = derived != null && ref ? derived / ref : null;
  const cheapMs = meta.kdfInProcess?.[cheap], inproc = meta.kdfInProcess?.['argon2id-64m'];
  t.push({ id: '6', name: 'Argon2id m=64 MiB t=3 p=1 / reference argon2 CLI', limit: '<= 1.50 x', unit: 'x', value: v6,
    result: v6 == null ? 'n/a' : v6 <= 1.5 ? 'PASS' : 'MISS',
    note: derived != null && ref ? ` (aenv ${(derived * 1000).toFixed(0)} ms = 1 B decrypt argon2id ${(a * 1000).toFixed(0)} - 1 B decrypt ${cheap} ${(c * 1000).toFixed(0)}`
      + `${cheapMs != null ? `, which also takes out ${cheap}'s own ~${cheapMs.toFixed(0)} ms` : ''}; argon2 CLI ${(ref * 1000).toFixed(0)} ms`
      + `${inproc != null && Math.abs(derived * 1000 - inproc) > 0.3 * inproc ? `; NOISY: over 30 % off the in-process kdf() median, ${inproc.toFixed(0)} ms` : ''})` : '',
    ...(v6 == null ? { why: whyNot(rows, 'fixed.decrypt.argon2id-64m', `fixed.decrypt.${cheap}`, 'fixed.argon2-cli') } : {}) });

  // 22 (issue 22): aenv's own start-up (a passwordless 1 B verify: no KDF) within 0.15 s of a bare `node -e 0`.
  const start = w('fixed.start'), bare = w('fixed.node');
  const startUp = start != null && bare != null ? start - bare : null;
  t.push({ id: '22', name: 'start-up: 1 B passwordless verify - node -e 0', limit: '<= 0.15 s', unit: 's', value: startUp,
    result: startUp == null ? 'n/a' : startUp <= 0.15 ? 'PASS' : 'MISS',
    note: startUp != null ? ` (aenv ${(start * 1000).toFixed(0)} ms, node -e 0 ${(bare * 1000).toFixed(0)} ms; a decrypt adds its KDF's cost: fixed.decrypt.*)` : '',
    ...(startUp == null ? { why: whyNot(rows, 'fixed.start', 'fixed.node') } : {}) });

  // 13 (issue 13): the tree's walk stays streaming: its peak RSS within 96 MiB; the walk time beside the bare `find`.
  const find = w('tree.find');
  rssTarget('13', 'tree.verify', `peak RSS, passwordless verify of a ${meta.tree || 'N'}-file tree`,
    (r) => ` (walk + verify ${r.wall.toFixed(2)} s, ${(r.count / r.wall).toFixed(0)} files/s${find ? `; find ${find.toFixed(2)} s` : ''})`);
  // 24 (issue 24): the same with --write-checksums: the list is streamed, memory does not grow with the files.
  rssTarget('24w', 'tree.write-checksums', `peak RSS, passwordless verify --write-checksums of a ${meta.tree || 'N'}-file tree`,
    (r) => ` (${r.wall.toFixed(2)} s)`);
  return t;
}

/** One line per KDF setting: in-process time and CLI 1 B decrypt, with its memory. */
export function kdfTable(rows, meta) {
  return Object.entries(KDFS).map(([id, k]) => ({
    id, label: k.label, inProcessMs: meta.kdfInProcess?.[id] ?? null, decrypt1B: ok(rows, `fixed.decrypt.${id}`)?.wall ?? null,
    cheapest: id === meta.cheapest,
  }));
}
