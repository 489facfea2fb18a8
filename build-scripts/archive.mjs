// Deterministic archive writers for the release: .tar.gz (POSIX ustar inside gzip) and .zip.
// The same entries give the same bytes on any machine: entries sorted by path, parent folders
// added, one fixed modification time for everything (the commit's), owner and group 0 with no
// names, modes 0644 / 0755 only, no extra fields, gzip with no name and mtime 0. Compression
// is pako's deflate (level 6; 9 measured 0.3 % smaller and 15 % slower on the node binary): pure JavaScript pinned by package-lock.json, so its output does
// not depend on the CPU. Node's own zlib is Chromium's, whose match hashing takes a CRC32C
// path only on CPUs with SSE4.2+PCLMUL or the Arm CRC extension, so its bytes can differ from
// one build machine to the next.
import { crc32 } from 'node:zlib';
import { deflateRaw } from 'pako';

const LEVEL = 6;

/**
 * Checks and completes an entry list: [{ path, data: Buffer, mode }] (files; mode 0o644 or
 * 0o755) -> the same plus every parent folder ({ path: 'a/', dir: true, mode: 0o755 }),
 * sorted by path (byte order), no duplicates, relative paths without '..'.
 */
export function normalize(files) {
  const out = new Map();
  for (const f of files) {
    if (typeof f.path !== 'string' || f.path === '' || f.path.startsWith('/') || f.path.endsWith('/') || f.path.split('/').some((p) => p === '' || p === '.' || p === '..')) {
      throw new Error(`archive: bad entry path ${JSON.stringify(f.path)}`);
    }
    if (f.mode !== 0o644 && f.mode !== 0o755) throw new Error(`archive: ${f.path}: mode ${f.mode?.toString(8)} is not 644 or 755`);
    if (!Buffer.isBuffer(f.data)) throw new Error(`archive: ${f.path}: data is not a Buffer`);
    if (out.has(f.path)) throw new Error(`archive: ${f.path} given twice`);
    out.set(f.path, { path: f.path, data: f.data, mode: f.mode, dir: false });
    const parts = f.path.split('/');
    for (let i = 1; i < parts.length; i++) {
      const d = `${parts.slice(0, i).join('/')}/`;
      if (!out.has(d)) out.set(d, { path: d, data: Buffer.alloc(0), mode: 0o755, dir: true });
    }
  }
  return [...out.values()].sort((a, b) => Buffer.compare(Buffer.from(a.path), Buffer.from(b.path)));
}

// ---------------------------------------------------------------------------------------------
// tar (ustar) + gzip

function octal(n, width) {
  const s = n.toString(8);
  if (s.length > width - 1) throw new Error(`archive: ${n} does not fit a ${width}-byte tar field`);
  return `${s.padStart(width - 1, '0')}\0`;
}

function tarHeader(e, mtime) {
  const h = Buffer.alloc(512);
  const name = Buffer.from(e.path);
  if (name.length > 100) throw new Error(`archive: ${e.path} is longer than 100 bytes (ustar name field)`);
  name.copy(h, 0);
  h.write(octal(e.mode, 8), 100, 'ascii');
  h.write(octal(0, 8), 108, 'ascii'); // uid
  h.write(octal(0, 8), 116, 'ascii'); // gid
  h.write(octal(e.dir ? 0 : e.data.length, 12), 124, 'ascii');
  h.write(octal(mtime, 12), 136, 'ascii');
  h.write('        ', 148, 'ascii'); // checksum counted as spaces
  h.write(e.dir ? '5' : '0', 156, 'ascii');
  h.write('ustar\0', 257, 'ascii');
  h.write('00', 263, 'ascii');
  // uname, gname (265, 297) empty: numeric owner 0:0
  h.write(octal(0, 8), 329, 'ascii'); // devmajor
  h.write(octal(0, 8), 337, 'ascii'); // devminor
  let sum = 0;
  for (const b of h) sum += b;
  h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'ascii');
  return h;
}

/** An uncompressed ustar archive of `files` (see normalize), every entry dated `mtime` (s). */
export function tar(files, { mtime }) {
  const parts = [];
  for (const e of normalize(files)) {
    parts.push(tarHeader(e, mtime));
    if (!e.dir) {
      parts.push(e.data);
      const pad = (512 - (e.data.length % 512)) % 512;
      if (pad) parts.push(Buffer.alloc(pad));
    }
  }
  parts.push(Buffer.alloc(1024)); // end of archive: two zero blocks
  const size = parts.reduce((n, p) => n + p.length, 0);
  const record = 10240; // GNU tar's default blocking factor 20
  if (size % record) parts.push(Buffer.alloc(record - (size % record)));
  return Buffer.concat(parts);
}

/** gzip (RFC 1952) of `data`: no name, mtime 0, XFL 0, OS 3 (Unix). */
export function gzip(data) {
  const head = Buffer.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3]);
  const tail = Buffer.alloc(8);
  tail.writeUInt32LE(crc32(data), 0);
  tail.writeUInt32LE(data.length % 2 ** 32, 4);
  return Buffer.concat([head, Buffer.from(deflateRaw(data, { level: LEVEL })), tail]);
}

export function tarGz(files, { mtime }) {
  return gzip(tar(files, { mtime }));
}

// ---------------------------------------------------------------------------------------------
// zip

/** MS-DOS time and date fields of a Unix time, read as UTC (zip has no time zone). */
export function dosDateTime(mtime) {
  const d = new Date(mtime * 1000);
  if (d.getUTCFullYear() < 1980 || d.getUTCFullYear() > 2107) throw new Error(`archive: ${d.toISOString()} cannot be a zip date`);
  const time = (d.getUTCHours() << 11) | (d.getUTCMinutes() << 5) | (d.getUTCSeconds() >> 1);
  const date = ((d.getUTCFullYear() - 1980) << 9) | ((d.getUTCMonth() + 1) << 5) | d.getUTCDate();
  return { time, date };
}

/** A zip archive of `files` (see normalize): deflated files, Unix modes, every entry dated `mtime`. */
export function zip(files, { mtime }) {
  const { time, date } = dosDateTime(mtime);
  const locals = [];
  const centrals = [];
  let offset = 0;
  for (const e of normalize(files)) {
    const name = Buffer.from(e.path);
    const body = e.dir ? Buffer.alloc(0) : Buffer.from(deflateRaw(e.data, { level: LEVEL }));
    const crc = e.dir ? 0 : crc32(e.data);
    const method = e.dir ? 0 : 8;
    const needed = e.dir ? 10 : 20;
    if (offset + 30 + name.length + body.length >= 2 ** 32) throw new Error('archive: zip larger than 4 GiB needs zip64, which this writer does not write');
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(needed, 4);
    local.writeUInt16LE(0, 6); // flags
    local.writeUInt16LE(method, 8);
    local.writeUInt16LE(time, 10);
    local.writeUInt16LE(date, 12);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(body.length, 18);
    local.writeUInt32LE(e.data.length, 22);
    local.writeUInt16LE(name.length, 26);
    local.writeUInt16LE(0, 28); // no extra field
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE((3 << 8) | 20, 4); // made by: Unix, zip 2.0 (so the modes below count)
    central.writeUInt16LE(needed, 6);
    central.writeUInt16LE(0, 8);
    central.writeUInt16LE(method, 10);
    central.writeUInt16LE(time, 12);
    central.writeUInt16LE(date, 14);
    central.writeUInt32LE(crc, 16);
    central.writeUInt32LE(body.length, 20);
    central.writeUInt32LE(e.data.length, 24);
    central.writeUInt16LE(name.length, 28);
    // extra 30, comment 32, disk 34, internal attributes 36: all 0
    const unixMode = (e.dir ? 0o040000 : 0o100000) | e.mode;
    central.writeUInt32LE(((unixMode << 16) | (e.dir ? 0x10 : 0)) >>> 0, 38); // + MS-DOS directory bit
    central.writeUInt32LE(offset, 42);
    locals.push(local, name, body);
    centrals.push(central, name);
    offset += local.length + name.length + body.length;
  }
  const cd = Buffer.concat(centrals);
  const count = centrals.length / 2;
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(count, 8);
  end.writeUInt16LE(count, 10);
  end.writeUInt32LE(cd.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, cd, end]);
}
