#!/usr/bin/env node
// The checkout's aenv CLI with one KDF's default cost replaced, for the bench's cheapest-KDF
// encrypt row (the CLI itself seals only at the spec's default costs):
//   AENV_BENCH_KDF=kdf:p1:p2:p3 node bench/aenv-kdf.mjs encrypt ... --kdf NAME
// where kdf is 1 scrypt, 2 argon2id, 3 pbkdf2 and NAME names the same KDF. Benchmarking only.

const spec = process.env.AENV_BENCH_KDF ?? '';
const m = /^([123]):(\d+):(\d+):(\d+)$/.exec(spec);
if (!m) {
  process.stderr.write(`aenv-kdf: AENV_BENCH_KDF must be kdf:p1:p2:p3, got "${spec}"\n`);
  process.exit(2);
}
const { DEFAULT_PARAMS } = await import(new URL('../dist/js/format/kdf-params.js', import.meta.url).href);
const [kdf, p1, p2, p3] = m.slice(1).map(Number);
Object.assign(DEFAULT_PARAMS[kdf], { kdf, p1, p2, p3 });
await import(new URL('../bin/aenv.js', import.meta.url).href);
