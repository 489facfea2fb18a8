// Reading a file region in large blocks with the next read already under way (two buffers,
// reused), so the disk and the CPU work at the same time and memory stays constant.

import type { promises as fsp } from 'node:fs';

/** Reads exactly `len` bytes at `pos` into `buf`; a short read means the file shrank. */
export async function readExactly(fh: fsp.FileHandle, buf: Uint8Array, len: number, pos: number): Promise<Uint8Array> {
  let got = 0;
  while (got < len) {
    const { bytesRead } = await fh.read(buf, got, len - got, pos + got);
    if (bytesRead === 0) throw Object.assign(new Error(`file shrank while being read (short read at offset ${pos + got})`), { code: 'ESHRANK' });
    got += bytesRead;
  }
  return buf.subarray(0, len);
}

/**
 * Yields consecutive views of [start, start + total) in blocks of `blockSize` bytes (the last
 * one shorter). A yielded view is valid until the consumer asks for the next one.
 */
export async function* readBlocks(fh: fsp.FileHandle, start: number, total: number, blockSize: number): AsyncGenerator<Uint8Array> {
  if (total <= 0) return;
  const size = Math.min(blockSize, total);
  const bufs = [Buffer.allocUnsafe(size), Buffer.allocUnsafe(total > size ? size : 0)];
  let pos = start;
  const end = start + total;
  let k = 0;
  let pending: Promise<Uint8Array> | null = readExactly(fh, bufs[0]!, Math.min(size, end - pos), pos);
  pos += Math.min(size, end - pos);
  while (pending) {
    const data = await pending;
    if (pos < end) {
      const n = Math.min(size, end - pos);
      k ^= 1;
      pending = readExactly(fh, bufs[k]!, n, pos);
      pos += n;
    } else {
      pending = null;
    }
    yield data;
  }
}
