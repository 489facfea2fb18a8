#!/usr/bin/env node
// aenv from a built checkout (npm run build compiles src/ to dist/js/).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const entry = new URL('../dist/js/cli/run.js', import.meta.url);
if (!existsSync(fileURLToPath(entry))) {
  process.stderr.write('aenv: error: this checkout is not built\naenv: hint: run `npm run build` first\n');
  process.exit(2);
}
await import(entry.href);
