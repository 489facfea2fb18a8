#!/usr/bin/env node
// npm run mutate [-- STRYKER-ARGS...]: builds dist/js (the CLI tests' beforeAll hooks in the mixed
// files seal with the built CLI), runs Stryker (stryker.config.mjs; fails below the break
// threshold), then checks that every undetected mutant is listed as equivalent with its reason
// (build-scripts/check-mutants.mjs). Arguments go to `stryker run`, e.g.
//   npm run mutate -- --mutate 'src/format/**/*.ts'
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const run = (cmd, args) => {
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
};
run('npm', ['run', '--silent', 'build']);
run(path.join(root, 'node_modules/.bin/stryker'), ['run', ...process.argv.slice(2)]);
run(process.execPath, [path.join(root, 'build-scripts/check-mutants.mjs')]);
