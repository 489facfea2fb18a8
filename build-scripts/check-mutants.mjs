#!/usr/bin/env node
// After `stryker run` (npm run mutate): every mutant that survived, or that no test covers, must be
// listed as equivalent in test/mutation-equivalents.md, and every entry there for a file this run
// mutated must still match a surviving mutant (else it is stale: delete it). Exit 1 otherwise,
// naming each one. A row matches a mutant when it names the file, the mutator, the replacement
// (in backticks) and the mutated line's text (in backticks, as the source has it): line numbers
// may move. Mutants excluded in the source by a `Stryker disable` comment need a reason in the
// comment and a row "| src/file.ts (excluded) | `the line` | ..." (or "(excluded region)").
//
//   node build-scripts/check-mutants.mjs [reports/mutation/mutation.json] [test/mutation-equivalents.md]
import { readFileSync } from 'node:fs';

const [reportPath = 'reports/mutation/mutation.json', listPath = 'test/mutation-equivalents.md'] = process.argv.slice(2);
const report = JSON.parse(readFileSync(reportPath, 'utf8'));
// Table rows, with `\|` (a pipe inside a cell) read back as `|`.
const rows = readFileSync(listPath, 'utf8').split('\n')
  .filter((l) => /^\|\s*src\//.test(l))
  .map((l) => l.replaceAll('\\|', '|'));

const UNDETECTED = new Set(['Survived', 'NoCoverage']);
const unlisted = [];
const used = new Set();
const mutatedFiles = Object.keys(report.files);
for (const [file, f] of Object.entries(report.files)) {
  const lines = f.source.split('\n');
  for (const m of f.mutants) {
    if (!UNDETECTED.has(m.status)) continue;
    const text = lines[m.location.start.line - 1].trim();
    const row = rows.find((r) => r.startsWith(`| ${file}:`) && r.includes(m.mutatorName)
      && r.includes(`\`${m.replacement}\``) && r.includes(`\`${text}\``));
    if (row) used.add(row);
    else unlisted.push(`${file}:${m.location.start.line}:${m.location.start.column} ${m.status} ${m.mutatorName} -> ${m.replacement}\n    ${text}`);
  }
}
// Mutants excluded in the source (a `Stryker disable` comment): the comment must give a reason,
// and the file's "excluded" rows must name the line (or, for a region, the file), so that no
// exclusion goes undocumented.
const excludedRows = readFileSync(listPath, 'utf8').split('\n').filter((l) => /^\|\s*src\/\S+ \(excluded( region)?\)/.test(l))
  .map((l) => l.replaceAll('\\|', '|'));
const undocumented = [];
for (const [file, f] of Object.entries(report.files)) {
  const lines = f.source.split('\n');
  for (const m of f.mutants) {
    if (m.status !== 'Ignored' || /static/i.test(m.statusReason ?? '')) continue;
    const text = lines[m.location.start.line - 1].trim();
    const where = `${file}:${m.location.start.line} ${m.mutatorName} -> ${m.replacement}\n    ${text}`;
    if (!m.statusReason || m.statusReason === 'Ignored using a comment') undocumented.push(`a Stryker disable comment without a reason: ${where}`);
    else if (!excludedRows.some((r) => r.startsWith(`| ${file} (excluded region)`) || (r.startsWith(`| ${file} (excluded)`) && r.includes(`\`${text}\``)))) {
      undocumented.push(`excluded in the source but not listed in ${listPath}: ${where}`);
    }
  }
}
const stale = rows.filter((r) => !used.has(r) && mutatedFiles.some((f) => r.startsWith(`| ${f}:`)));

for (const u of unlisted) console.error(`not killed and not listed as equivalent: ${u}`);
for (const s of stale) console.error(`listed as equivalent but no such surviving mutant (stale entry): ${s.slice(0, 160)}`);
for (const u of undocumented) console.error(u);
if (unlisted.length || stale.length || undocumented.length) process.exit(1);
console.log(`check-mutants: every undetected mutant (${used.size}) is listed in ${listPath} with its reason`);
