// Summarizes a V8 .cpuprofile (from `node --cpu-prof ...`): self time aggregated by
// function name and source location, top N, plus totals for (program)/(idle)/(gc).
// Usage: node bench/cpuprofile-top.mjs FILE.cpuprofile [N=25]

import { readFileSync } from 'node:fs';

const [file, nArg] = process.argv.slice(2);
if (!file) { console.error('usage: node bench/cpuprofile-top.mjs FILE.cpuprofile [N]'); process.exit(2); }
const prof = JSON.parse(readFileSync(file, 'utf8'));
const N = Number(nArg ?? 25);

// Self time per node: each sample hits one node; timeDeltas[i] is the time before sample i.
const byId = new Map(prof.nodes.map((n) => [n.id, n]));
const selfUs = new Map();
for (let i = 0; i < prof.samples.length; i++) {
  const id = prof.samples[i];
  selfUs.set(id, (selfUs.get(id) ?? 0) + (prof.timeDeltas[i] ?? 0));
}
const agg = new Map();
let total = 0;
for (const [id, us] of selfUs) {
  const cf = byId.get(id).callFrame;
  const where = cf.url ? `${cf.url.replace(/^file:\/\//, '').replace(process.cwd() + '/', '')}:${cf.lineNumber + 1}` : '';
  const key = `${cf.functionName || '(anonymous)'}  ${where}`.trim();
  agg.set(key, (agg.get(key) ?? 0) + us);
  total += us;
}
const rows = [...agg].sort((a, b) => b[1] - a[1]).slice(0, N);
console.log(`${file}: ${(total / 1e6).toFixed(2)} s sampled, ${prof.samples.length} samples`);
console.log('  self ms      %  function  location');
for (const [k, us] of rows) console.log(`${(us / 1000).toFixed(0).padStart(8)}  ${((100 * us) / total).toFixed(1).padStart(5)}  ${k}`);
