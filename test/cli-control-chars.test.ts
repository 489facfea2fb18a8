// Terminal controls in what aenv prints (issue 21.5; docs/text-output.md; src/engine/show.ts,
// re-exported by src/cli/text.ts): a report file from another machine whose fields carry ESC
// sequences (a title change, an OSC 8 link, colours, a screen clear), a C1 CSI (U+009B) and a
// RIGHT-TO-LEFT OVERRIDE (U+202E), and real files named with them, go through `aenv report`,
// encrypt, decrypt, verify and inspect. The raw bytes written to standard output and standard
// error, and those a real pseudo-terminal (util-linux `script`) received, hold no control
// character but aenv's own line ends, colours and progress line; JSON lines escape them as \u
// escapes and still parse to the real values.

import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { jsonLine, safeJson, safeText, showPath } from '../src/cli/text.js';
import { BIN, CLI_ONLY, passwordFile, tempDir, UNDER_MUTATION } from './helpers/cli.js';

// Each test runs the CLI several times: minutes, not seconds, on a loaded machine.
vi.setConfig({ testTimeout: 120_000 });

const ESC_TITLE = '\x1b]0;pwned\x07';
const ESC_LINK = '\x1b]8;;mailto:evil@example.org\x07here\x1b]8;;\x07'; // no slash: it is part of file names
const ESC_RED = '\x1b[41m';
const ESC_CLEAR = '\x1b[2J';
const CSI_C1 = '\u009b41m';
const RLO = '\u202e';
/** Every name and field below carries each of these. */
const HOSTILE = [ESC_TITLE, ESC_LINK, ESC_RED, ESC_CLEAR, CSI_C1, RLO];

/**
 * Characters that must never reach a terminal from a field: C0 but the line end, DEL, C1, the
 * bidirectional controls and the line/paragraph separators. `allowCr`: a terminal's own CR LF.
 */
function rawControls(text: string, allowCr = false): string[] {
  const bad: string[] = [];
  // eslint-disable-next-line no-control-regex
  const re = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;
  for (const m of text.matchAll(re)) {
    if (allowCr && m[0] === '\r') continue;
    bad.push(`U+${m[0].charCodeAt(0).toString(16).padStart(4, '0')} at ${m.index}: ${JSON.stringify(text.slice(Math.max(0, m.index - 30), m.index + 10))}`);
  }
  return bad;
}

/** Runs the CLI and gives its standard output and error as the bytes it wrote, decoded (every write is UTF-8). */
function run(args: string[], o: { cwd?: string; input?: string } = {}): { code: number | null; out: string; err: string } {
  const env = { ...process.env };
  delete env['ASPERA_SCP_FILEPASS'];
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd: o.cwd ?? tmp.dir, env, input: o.input ?? '', maxBuffer: 64 * 1024 * 1024 });
  const out = r.stdout.toString('utf8');
  const err = r.stderr.toString('utf8');
  // Bytes that are not UTF-8 would decode to U+FFFD and hide a raw C1 byte: there must be none.
  expect(Buffer.from(out, 'utf8').equals(r.stdout) && Buffer.from(err, 'utf8').equals(r.stderr)).toBe(true);
  return { code: r.status, out, err };
}

function expectClean(r: { out: string; err: string }): void {
  expect(rawControls(r.out), r.out).toEqual([]);
  expect(rawControls(r.err), r.err).toEqual([]);
}

const tmp = tempDir('aenv-controls-');
let pw: string;
let plain: string;
let sealed: string;
/** Plaintext names in `plain`, each with every HOSTILE sequence. */
const NAMES = [
  `title${ESC_TITLE}.txt`, `link${ESC_LINK}.txt`, `red${ESC_RED}x.txt`, `clear${ESC_CLEAR}.txt`, `csi${CSI_C1}x.txt`, `invoice${RLO}fdp.exe`,
  `all${HOSTILE.join('')}.txt`,
];

beforeAll(() => {
  pw = passwordFile(tmp.dir);
  plain = path.join(tmp.dir, 'plain');
  sealed = path.join(tmp.dir, 'sealed');
  mkdirSync(plain);
  for (const n of NAMES) writeFileSync(path.join(plain, n), `the file ${JSON.stringify(n)}\n`);
  const e = run(['encrypt', plain, '-o', sealed, '--kdf', 'pbkdf2', '--password-file', pw]);
  expect(e.code, e.err).toBe(0);
  expectClean(e);
  // a damaged envelope and a file that is no envelope, with hostile names: rows with details and hints
  const one = path.join(sealed, `${NAMES[0]}.aspera-env`);
  const bytes = readFileSync(one);
  bytes[bytes.length - 40]! ^= 1;
  writeFileSync(path.join(sealed, `damaged${HOSTILE.join('')}.aspera-env`), bytes);
  writeFileSync(path.join(sealed, `plaintext${ESC_TITLE}${RLO}.aspera-env`), 'not an envelope\n');
}, 60_000);
afterAll(() => tmp.cleanup());

describe('text.ts: one escape for every field', () => {
  it('C0 (tab and newline too), DEL, C1, bidirectional controls and separators are escaped visibly', () => {
    expect(safeText('a\tb\nc\rd\x00e\x1bf\x7fg')).toBe('a\\tb\\nc\\rd\\x00e\\x1bf\\x7fg');
    expect(safeText(`x${CSI_C1}y\u0085z`)).toBe('x\\x9b41my\\x85z');
    expect(safeText('\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c\u2028\u2029'))
      .toBe('\\u202a\\u202b\\u202c\\u202d\\u202e\\u2066\\u2067\\u2068\\u2069\\u200e\\u200f\\u061c\\u2028\\u2029');
    expect(safeText('a\ud800b\udc00c\u{1f600}')).toBe('a\\ud800b\\udc00c\u{1f600}'); // lone surrogates only
    expect(safeText('plain text, ü 漢字 "quotes" and \\ backslashes')).toBe('plain text, ü 漢字 "quotes" and \\ backslashes');
    for (const s of [...HOSTILE, ...NAMES]) expect(rawControls(safeText(s))).toEqual([]);
  });

  it('a name with a control is quoted, so it cannot be taken for a name that spells the escape', () => {
    expect(showPath('a\x1bb')).toBe('"a\\x1bb"');
    expect(showPath('a\\x1bb')).toBe('a\\x1bb'); // the six characters a \ x 1 b b: as they are
    expect(showPath('"a\\x1bb"')).toBe('"\\"a\\\\x1bb\\""'); // a name that looks quoted is quoted itself
    expect(showPath(`evil${RLO}txt.exe`)).toBe('"evil\\u202etxt.exe"');
    expect(showPath('new\nline\\x')).toBe('"new\\nline\\\\x"');
    expect(showPath('caf\ufffd.txt')).toBe('"caf\ufffd.txt"'); // bytes that were not UTF-8: quoted, as before
    expect(showPath('plain name ü.txt')).toBe('plain name ü.txt');
    const shown = new Set(['a\x1bb', 'a\\x1bb', '"a\\x1bb"', 'a\\\\x1bb'].map(showPath));
    expect(shown.size).toBe(4);
  });

  it('JSON lines: every control as a \\u escape, the same value when parsed', () => {
    const v = { path: NAMES.join('/'), detail: `${HOSTILE.join('|')}\u2028\u0085\x7f`, n: 1 };
    const line = jsonLine(v);
    expect(rawControls(line)).toEqual([]);
    expect(JSON.parse(line)).toEqual(v);
    expect(line).toContain('\\u009b41m');
    expect(line).toContain('\\u202e');
    expect(safeJson(JSON.stringify(v))).toBe(line);
  });
});

describe.skipIf(UNDER_MUTATION)(`real files with hostile names: raw output bytes${CLI_ONLY}`, () => {
  it('decrypt, verify (keyed and passwordless) and encrypt: no raw control on stdout or stderr', () => {
    const d = run(['decrypt', sealed, '-o', path.join(tmp.dir, 'out'), '--password-file', pw]);
    expect(d.code).toBe(1); // the damaged one and the plaintext one fail, with details and hints
    expectClean(d);
    expect(d.out).toContain(showPath(path.join(sealed, `${NAMES[5]}.aspera-env`)));
    expect(d.out).toContain('invoice\\u202efdp.exe');
    expect(d.err).toMatch(/corrupt +"[^\n]*damaged\\x1b\]0;pwned\\x07[^\n]*\\u202e\.aspera-env": [^\n]*\n +hint: /);
    expect(d.err).toMatch(/not-envelope +"[^\n]*plaintext\\x1b\]0;pwned\\x07\\u202e\.aspera-env": /);
    expect(readdirSync(path.join(tmp.dir, 'out')).sort()).toEqual([...NAMES].sort()); // the real names, written as they are

    for (const args of [['verify', sealed, '--password-file', pw], ['verify', sealed], ['verify', sealed, '--write-checksums', path.join(tmp.dir, 'sums')]]) {
      const v = run(args);
      expect(v.code).toBe(1);
      expectClean(v);
      expect(v.out + v.err).toContain('red\\x1b[41mx.txt.aspera-env');
    }
    const e = run(['encrypt', plain, '-o', path.join(tmp.dir, 'again'), '--kdf', 'pbkdf2', '--password-file', pw]);
    expect(e.code).toBe(0);
    expectClean(e);
  });

  it('--json rows escape C1 and U+202E as \\u escapes and parse to the real names', () => {
    const v = run(['verify', sealed, '--password-file', pw, '--json']);
    expectClean(v);
    const rows = v.out.trim().split('\n').map((l) => JSON.parse(l) as { path?: string });
    const names = rows.filter((r) => r.path !== undefined).map((r) => path.basename(r.path!));
    expect(names).toEqual(expect.arrayContaining(NAMES.map((n) => `${n}.aspera-env`)));
    expect(v.out).toContain('\\u009b41m');
    expect(v.out).toContain('\\u202e');
  });

  it('inspect, human and --json, of envelopes named with controls', () => {
    const files = readdirSync(sealed).map((n) => path.join(sealed, n));
    const h = run(['inspect', ...files]);
    expect(h.code).toBe(1); // the plaintext one
    expectClean(h);
    expect(h.out).toContain('"');
    const j = run(['inspect', '--json', ...files]);
    expectClean(j);
    expect(j.out.trim().split('\n').map((l) => (JSON.parse(l) as { path: string }).path).sort()).toEqual([...files].sort());
  });

  it('a hostile PATH that is not there, and a usage error naming one, are escaped too', () => {
    const r = run(['verify', path.join(tmp.dir, `gone${ESC_TITLE}${RLO}`)]);
    expect(r.code).toBe(2); // a PATH that is not there is a usage error (issue 22)
    expectClean(r);
    expect(r.err).toContain('gone\\x1b]0;pwned\\x07\\u202e');
    const u = run(['verify', sealed, '--checksums', path.join(tmp.dir, `list${ESC_CLEAR}${CSI_C1}`)]);
    expect(u.code).toBe(2);
    expectClean(u);
    expect(u.err).toMatch(/^aenv: error: cannot read the checksum list "[^\n]*list\\x1b\[2J\\x9b41m"/);
  });
});

/** A --json report from "another machine": every field a person sees carries the hostile sequences. */
function hostileReport(): string {
  const tag = HOSTILE.join('');
  const rows = [
    { path: `in/ok${tag}.aspera-env`, output: `out/ok${tag}`, status: 'ok', bytes: 3, detail: `decrypted${tag}` },
    { path: `in/bad${tag}.aspera-env`, status: 'corrupt', bytes: 0, detail: `chunk 1${tag} is damaged` },
    { path: `in/odd${RLO}.aspera-env`, status: `weird${ESC_CLEAR}${CSI_C1}`, bytes: 0, detail: `a status of another version${ESC_RED}` },
    { path: `in/moved${tag}.aspera-env`, status: 'ok', bytes: 1, detail: 'ok', batch: `renamed${ESC_TITLE}`, batch_detail: `from ${tag}` },
    { path: `in/bad${tag}.aspera-env`, status: 'ok', bytes: 0, detail: 'the same path again: a duplicate' },
  ];
  const summary = { ok: 3, failed: 2, skipped: 0, bytes: 4, seconds: 1, verify: `passwordless${ESC_RED}${RLO}`, shard: `1/2${CSI_C1}`, exit_status: 1 };
  return [...rows.map((r) => JSON.stringify(r)), JSON.stringify({ summary }), `not json ${tag}`].join('\n') + '\n';
}

describe.skipIf(UNDER_MUTATION)(`aenv report of a hostile report${CLI_ONLY}`, () => {
  it('human output: every field escaped, nothing raw on stdout or stderr', () => {
    const file = path.join(tmp.dir, 'hostile.jsonl');
    writeFileSync(file, hostileReport());
    const r = run(['report', file]);
    expect(r.code).toBe(1);
    expectClean(r);
    expect(r.out).toContain('chunk 1\\x1b]0;pwned\\x07');
    expect(r.out).toContain('weird\\x1b[2J\\x9b41m');
    expect(r.out).toContain('\\u202e');
    expect(r.out).toMatch(/batch: renamed\\x1b\]0;pwned\\x07: from /);
    expect(r.out).toMatch(/was already in /); // the duplicate path, named in a problem line
  });

  it('--json: the merged summary escapes them as \\u escapes; problems on stderr escaped', () => {
    const file = path.join(tmp.dir, 'hostile.jsonl');
    writeFileSync(file, hostileReport());
    const r = run(['report', file, '--json']);
    expect(r.code).toBe(1);
    expectClean(r);
    const s = (JSON.parse(r.out) as { summary: { by_status: Record<string, number> } }).summary;
    expect(s.by_status[`weird${ESC_CLEAR}${CSI_C1}`]).toBe(1);
    expect(r.err).toContain('\\x9b');
  });

  it('from standard input too', () => {
    const r = run(['report', '-'], { input: hostileReport() });
    expect(r.code).toBe(1);
    expectClean(r);
  });
});

const hasScript = spawnSync('script', ['--version']).status === 0;

/**
 * Runs `aenv ARGS` under `script -q -c CMD LOG`: stdin, stdout and stderr are a real terminal;
 * returns what the terminal received (LOG without script's own first and last lines). The
 * command line holds no control: names come from the folder through a shell glob.
 */
function onTerminal(shellArgs: string): { code: number | null; screen: string } {
  const log = path.join(tmp.dir, `tty-${Math.random().toString(36).slice(2)}.log`);
  const q = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;
  const cmd = `cd ${q(tmp.dir)} && ${q(process.execPath)} ${q(BIN)} ${shellArgs}`;
  expect(rawControls(cmd)).toEqual([]);
  const env: NodeJS.ProcessEnv = { ...process.env, TERM: 'xterm' };
  delete env['NO_COLOR'];
  delete env['ASPERA_SCP_FILEPASS'];
  const r = spawnSync('script', ['-q', '-e', '-c', cmd, log], { env, timeout: 60_000, stdio: ['ignore', 'ignore', 'pipe'] });
  if (r.error) throw r.error;
  const all = readFileSync(log).toString('utf8');
  const body = all.slice(all.indexOf('\n') + 1, all.lastIndexOf('\nScript done'));
  return { code: r.status, screen: body };
}

/** The screen without aenv's own sequences: its status colours, the reset, and the progress line's clear. */
const withoutOwn = (screen: string): string => screen.replace(/\x1b\[(?:3[1-5]|2|0)m|\r\x1b\[K/g, ''); // eslint-disable-line no-control-regex

describe.skipIf(!hasScript || UNDER_MUTATION)(`on a real terminal (script -q -c CMD LOG)${CLI_ONLY}`, () => {
  it('verify and decrypt of the hostile names, with colours and progress: only aenv\'s own sequences reach the terminal', () => {
    for (const args of ['verify sealed --password-file password.txt', 'decrypt sealed -o tty-out --password-file password.txt', 'verify sealed']) {
      const s = onTerminal(args);
      expect(s.code).toBe(1);
      expect(s.screen).toMatch(/\x1b\[3\dm/); // eslint-disable-line no-control-regex -- colours are on: a terminal
      for (const h of HOSTILE) expect(s.screen).not.toContain(h);
      expect(rawControls(withoutOwn(s.screen), true), s.screen).toEqual([]);
      expect(s.screen).toContain('title\\x1b]0;pwned\\x07.txt');
    }
  });

  it('aenv report and inspect of hostile fields', () => {
    writeFileSync(path.join(tmp.dir, 'hostile.jsonl'), hostileReport());
    for (const args of ['report hostile.jsonl', 'report --json hostile.jsonl', 'inspect sealed/*']) {
      const s = onTerminal(args);
      expect(s.code).toBe(1);
      for (const h of HOSTILE) expect(s.screen).not.toContain(h);
      expect(rawControls(withoutOwn(s.screen), true), s.screen).toEqual([]);
    }
  });
});
