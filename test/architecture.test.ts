// The import rules of src/ (issue 19), read from the source itself: no import circle; the
// command line imports only the engine (and the version and the selftest); each folder imports
// only the folders below it: the ground floor (format, fsops, batch) nothing of ours outside
// itself, IBM's tool (foreign) only fsops (the private folder it writes into); no `as unknown as`
// in the command line (its option types come from the option table, not from casts); one meaning
// per name: a name exported from src/ is declared in one file.

import { readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from './helpers/cli.js';

const SRC = path.join(ROOT, 'src');

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? sources(p) : e.name.endsWith('.ts') ? [p] : [];
  });
}

/** Each source file (relative to src/, `/`-separated) and the files of src/ it imports, static or dynamic, types included. */
function importGraph(): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const file of sources(SRC)) {
    const text = readFileSync(file, 'utf8');
    const specs = [...text.matchAll(/(?:\bfrom\s*|\bimport\s*\(\s*|^\s*import\s+)['"]([^'"]+)['"]/gm)].map((m) => m[1]!);
    const deps = specs.filter((s) => s.startsWith('.')).map((s) => path.relative(SRC, path.resolve(path.dirname(file), s)).replace(/\.js$/, '.ts').split(path.sep).join('/'));
    graph.set(path.relative(SRC, file).split(path.sep).join('/'), [...new Set(deps)]);
  }
  return graph;
}

/** Strongly connected components with more than one file, or a file that imports itself (Tarjan). */
function circles(graph: Map<string, string[]>): string[][] {
  let index = 0;
  const idx = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const on = new Set<string>();
  const out: string[][] = [];
  const visit = (v: string): void => {
    idx.set(v, index);
    low.set(v, index++);
    stack.push(v);
    on.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!idx.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (on.has(w)) low.set(v, Math.min(low.get(v)!, idx.get(w)!));
    }
    if (low.get(v) === idx.get(v)) {
      const scc: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        on.delete(w);
        scc.push(w);
      } while (w !== v);
      if (scc.length > 1 || (graph.get(v) ?? []).includes(v)) out.push(scc.sort());
    }
  };
  for (const v of graph.keys()) if (!idx.has(v)) visit(v);
  return out;
}

/** The part of src/ a file belongs to: its folder, or the file itself at the top. */
const part = (f: string): string => (f.includes('/') ? f.slice(0, f.indexOf('/')) : f);

/** What each part may import besides itself: only what lies below it. */
const BELOW: Record<string, readonly string[]> = {
  'cli': ['engine', 'version.ts', 'selftest'],
  'selftest': ['engine', 'stream', 'crypto', 'format'],
  'engine': ['stream', 'crypto', 'batch', 'foreign', 'fsops', 'format'],
  'stream': ['crypto', 'format'],
  'crypto': ['format'],
  'format': [],
  'foreign': ['fsops'],
  'fsops': [],
  'batch': [],
  'version.ts': [],
};

describe('the import structure of src/', () => {
  const graph = importGraph();

  it('reads every file and finds the imports (the test itself is alive)', () => {
    expect(graph.size).toBeGreaterThan(50);
    expect(graph.get('cli/main.ts')).toContain('cli/commands.ts');
    expect(graph.get('engine/run.ts')).toContain('engine/job.ts');
    // a circle, and an import upwards, are found when they are there
    expect(circles(new Map([['a', ['b']], ['b', ['c']], ['c', ['a']], ['d', ['a']]]))).toEqual([['a', 'b', 'c']]);
  });

  it('has no import circle', () => {
    expect(circles(graph)).toEqual([]);
  });

  it('every import goes to the same part or to a part below it (the ground floor: nothing of ours outside itself)', () => {
    const wrong: string[] = [];
    for (const [file, deps] of graph) {
      const from = part(file);
      expect(BELOW[from], `${file}: a part of src/ that the rules do not know`).toBeDefined();
      for (const d of deps) {
        const to = part(d);
        if (to !== from && !BELOW[from]!.includes(to)) wrong.push(`${file} -> ${d}`);
      }
    }
    expect(wrong).toEqual([]);
  });

  it('one meaning per name: each name exported from src/ is declared in one file only', () => {
    const where = new Map<string, string[]>();
    for (const file of graph.keys()) {
      for (const m of readFileSync(path.join(SRC, file), 'utf8').matchAll(/^export\s+(?:declare\s+)?(?:async\s+)?(?:abstract\s+)?(?:interface|type|class|const|let|function\*?|enum)\s+([A-Za-z_$][\w$]*)/gm)) {
        where.set(m[1]!, [...(where.get(m[1]!) ?? []), file]);
      }
    }
    expect(where.get('runJob')).toEqual(['engine/run.ts']); // the test reads the declarations
    expect([...where].filter(([, files]) => files.length > 1).map(([name, files]) => `${name}: ${files.join(', ')}`)).toEqual([]);
  });

  it('the command line takes no cast from unknown (`as unknown as`)', () => {
    const casts = [...graph.keys()].filter((f) => f.startsWith('cli/')).filter((f) => /\bas\s+unknown\s+as\b/.test(readFileSync(path.join(SRC, f), 'utf8')));
    expect(casts).toEqual([]);
  });
});
