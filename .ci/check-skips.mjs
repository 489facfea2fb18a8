#!/usr/bin/env node
// CI cannot go green by luck: reads vitest's JSON report and fails (exit 1) when any test was
// skipped (or left as todo) that is not on the committed allow-list .ci/allowed-skips, naming
// each such test in full. A test skips when a tool or privilege it needs is missing; .ci/run
// installs every one of them, so in CI a skip means a broken setup, not a test to ignore.
//
//   node .ci/check-skips.mjs REPORT.json [ALLOW-LIST]
//
// Allow-list lines: `FILE | NAME PREFIX | REASON` (FILE relative to the repository, NAME PREFIX
// the start of the skipped test's full name: its describe titles and its title, joined by
// spaces, as vitest prints them); `#` starts a comment. Every entry must give a reason.
import { readFileSync } from 'node:fs';
import * as path from 'node:path';

const [reportPath, listPath = path.join(path.dirname(new URL(import.meta.url).pathname), 'allowed-skips')] = process.argv.slice(2);
if (!reportPath) {
  console.error('usage: check-skips.mjs REPORT.json [ALLOW-LIST]');
  process.exit(2);
}
const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');

/** @returns {{file: string, prefix: string, reason: string, line: number}[]} */
function readAllowList(p) {
  const out = [];
  readFileSync(p, 'utf8').split('\n').forEach((raw, i) => {
    const text = raw.replace(/(^|\s)#.*$/, '').trim();
    if (!text) return;
    const parts = text.split('|').map((s) => s.trim());
    if (parts.length !== 3 || parts.some((s) => !s)) {
      console.error(`${p}:${i + 1}: expected "FILE | NAME PREFIX | REASON", got: ${raw}`);
      process.exit(2);
    }
    out.push({ file: parts[0], prefix: parts[1], reason: parts[2], line: i + 1 });
  });
  return out;
}

const allowed = readAllowList(listPath);
const report = JSON.parse(readFileSync(reportPath, 'utf8'));
if (!Array.isArray(report.testResults) || report.testResults.length === 0 || !(report.numTotalTests > 0)) {
  console.error(`skip check: ${reportPath} lists no tests at all`);
  process.exit(1);
}
const SKIPPED = new Set(['skipped', 'pending', 'todo', 'disabled']);
const unexpected = [];
const tolerated = [];
const used = new Set();
for (const file of report.testResults ?? []) {
  const rel = path.relative(root, file.name);
  for (const t of file.assertionResults ?? []) {
    if (!SKIPPED.has(t.status)) continue;
    const entry = allowed.find((a) => a.file === rel && t.fullName.startsWith(a.prefix));
    if (entry) {
      used.add(entry);
      tolerated.push(`${rel} > ${t.fullName} (allowed: ${entry.reason})`);
    } else unexpected.push(`${rel} > ${t.fullName}`);
  }
}
for (const t of tolerated) console.log(`skip allowed: ${t}`);
for (const a of allowed) {
  if (!used.has(a)) console.log(`note: ${path.relative(root, listPath)}:${a.line} matched no skipped test (${a.file} | ${a.prefix})`);
}
if (unexpected.length) {
  console.error(`skip check: ${unexpected.length} test(s) skipped that CI must run (not in ${path.relative(root, listPath)}):`);
  for (const u of unexpected) console.error(`  SKIPPED ${u}`);
  process.exit(1);
}
console.log(`skip check: ok (${tolerated.length} allowed skip(s), none other)`);
