// Static guard for "aenv never touches the network": fails if any file in src/,
// or the esbuild bundle of the single executable (dist/aenv-bundle.cjs, which
// also holds yargs and noble), imports or requires a networking module (net,
// http, https, http2, tls, dgram, dns, with or without `node:`, subpaths such
// as dns/promises included) or calls fetch(), new WebSocket or EventSource.
// The scanner itself is unit-tested on strings and on a file under /tmp.
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const BUNDLE = join(ROOT, 'dist', 'aenv-bundle.cjs');
const NET_MODULES = ['net', 'http', 'https', 'http2', 'tls', 'dgram', 'dns'];

const MOD = `(?:node:)?(?:${NET_MODULES.join('|')})(?:/[\\w/]*)?`;
const Q = `(['"\`])${MOD}\\1`;
const RULES: Array<[string, RegExp]> = [
  // import x from 'net' / import { a } from "node:tls" / export * from 'http'
  ['static import', new RegExp(`\\b(?:import|export)\\b[^;'"\`]*?\\bfrom\\s*${Q}`, 'g')],
  // import 'dns' (side effect only)
  ['side-effect import', new RegExp(`\\bimport\\s*${Q}`, 'g')],
  // import('https') / await import("node:http2")
  ['dynamic import', new RegExp(`\\bimport\\s*\\(\\s*${Q}`, 'g')],
  // require('net'), also createRequire(...)('net') and require.resolve
  ['require', new RegExp(`(?:\\brequire(?:\\.resolve)?|\\))\\s*\\(\\s*${Q}`, 'g')],
  // process.getBuiltinModule('net'): how aenv loads child_process and worker_threads only when used
  ['getBuiltinModule', new RegExp(`\\bgetBuiltinModule\\s*\\(\\s*${Q}`, 'g')],
  // process.binding('tcp_wrap') and friends: raw socket handles
  ['process.binding', /\bprocess\s*\.\s*(?:_linkedBinding|binding)\s*\(\s*(['"`])(?:tcp_wrap|udp_wrap|pipe_wrap|tls_wrap|cares_wrap)\1/g],
  // fetch(...), globalThis.fetch(...), but not obj.fetch(...) of some other object
  ['fetch(', /(?:(?<![\w$.])|\b(?:globalThis|window|self|global)\s*\.\s*)fetch\s*\(/g],
  ['new WebSocket', /\bnew\s+WebSocket\b/g],
  ['EventSource', /\bEventSource\s*\(|\bnew\s+EventSource\b/g],
];

export interface Finding {
  file: string;
  line: number;
  rule: string;
  text: string;
}

/** Blanks comments (keeping line breaks) so that prose such as "no fetch()" is not flagged. */
export function stripComments(src: string): string {
  // strings and template literals are kept (a module name is a string);
  // comments are replaced by spaces; regex literals are rare enough to ignore
  return src.replace(/(['"`])(?:\\[\s\S]|(?!\1)[^\\])*\1|\/\*[\s\S]*?\*\/|\/\/[^\n]*/g, (m) =>
    m.startsWith('/') ? m.replace(/[^\n]/g, ' ') : m,
  );
}

/**
 * Network uses found in one source text. Comments are ignored unless `raw`:
 * the bundle is scanned raw (stricter; a regex literal holding a quote could
 * fool the comment stripper there), and today it has no hit even in comments.
 */
export function scanSource(src: string, file = '<string>', raw = false): Finding[] {
  const code = raw ? src : stripComments(src);
  const found: Finding[] = [];
  for (const [rule, re] of RULES) {
    for (const m of code.matchAll(re)) {
      const line = code.slice(0, m.index).split('\n').length;
      found.push({ file, line, rule, text: (src.split('\n')[line - 1] ?? '').trim().slice(0, 160) });
    }
  }
  return found;
}

/** Network uses in every .ts/.js-like file under `dir` (or in `dir` itself if it is a file). */
export function scanPath(path: string, raw = false): Finding[] {
  if (statSync(path).isFile()) return scanSource(readFileSync(path, 'utf8'), path, raw);
  const found: Finding[] = [];
  for (const entry of readdirSync(path, { withFileTypes: true })) {
    const p = join(path, entry.name);
    if (entry.isDirectory() && entry.name !== 'node_modules') found.push(...scanPath(p, raw));
    else if (entry.isFile() && /\.(?:[cm]?[jt]s|tsx|jsx)$/.test(entry.name)) found.push(...scanPath(p, raw));
  }
  return found;
}

const show = (f: Finding[]) => f.map((x) => `${relative(ROOT, x.file)}:${x.line} [${x.rule}] ${x.text}`).join('\n');

describe('network-free scanner (unit)', () => {
  const flagged = [
    "import net from 'net';",
    'import { connect } from "node:tls";',
    "import * as h from 'node:http2';",
    "export { request } from 'https';",
    "import 'dgram';",
    "import {\n  lookup,\n} from 'dns/promises';",
    "const r = await import('node:dns');",
    "const m = await import ( 'http' );",
    "const s = require('net');",
    'const s = require("node:https");',
    "const s = createRequire(import.meta.url)('node:net');",
    "const t = process.binding('tcp_wrap');",
    "const n = process.getBuiltinModule('node:net');",
    "await fetch('https://example.invalid/');",
    'const r = globalThis.fetch(url);',
    "x = fetch (u)",
    "const ws = new WebSocket('ws://x');",
    "const es = new EventSource('/events');",
  ];
  for (const src of flagged) {
    it(`flags ${JSON.stringify(src)}`, () => {
      expect(scanSource(src).length).toBeGreaterThan(0);
    });
  }

  const clean = [
    "import { createHash } from 'node:crypto';",
    "import { readFile } from 'node:fs/promises';",
    "import yargs from 'yargs';",
    "import { netBytes } from './network-stats.js';",
    "import { x } from './dns.js';",
    "const s = require('netmask');",
    "const h = require('http-errors-not-really');",
    "const data = cache.fetch(key);",
    "function prefetch(x) {}",
    '// we never call fetch() or new WebSocket here',
    "/* require('net') was removed */",
    "const msg = 'run `npm install` first';",
    "const EventSourceLike = 1;",
  ];
  for (const src of clean) {
    it(`does not flag ${JSON.stringify(src)}`, () => {
      expect(scanSource(src)).toEqual([]);
    });
  }

  it('raw mode also looks inside comments', () => {
    expect(scanSource("// require('net')", 'x', true)).toHaveLength(1);
  });

  it('finds a real addition in a file on disk, with its line number', () => {
    const dir = mkdtempSync(join(tmpdir(), 'aenv-netscan-'));
    try {
      writeFileSync(join(dir, 'ok.ts'), "import { readFile } from 'node:fs/promises';\nexport const a = 1;\n");
      expect(scanPath(dir)).toEqual([]);
      writeFileSync(join(dir, 'sneaky.ts'), "// telemetry\nexport async function ping() {\n  const { request } = await import('node:https');\n}\n");
      const found = scanPath(dir);
      expect(found).toHaveLength(1);
      expect(found[0]).toMatchObject({ file: join(dir, 'sneaky.ts'), line: 3, rule: 'dynamic import' });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('aenv is network-free', () => {
  it('src/ imports no networking module and calls no fetch/WebSocket/EventSource', () => {
    const src = join(ROOT, 'src');
    expect(existsSync(src)).toBe(true);
    const found = scanPath(src);
    expect(found, `network use in src/:\n${show(found)}`).toEqual([]);
  });

  const bundled = existsSync(BUNDLE);
  it.skipIf(!bundled)(
    `the single-executable bundle (src + yargs + noble) has none either${bundled ? '' : ' (SKIPPED: dist/aenv-bundle.cjs not built; run `npm run build:bin`)'}`,
    () => {
      const found = scanPath(BUNDLE, true);
      expect(found, `network use in ${relative(ROOT, BUNDLE)}:\n${show(found)}`).toEqual([]);
    },
  );
});
