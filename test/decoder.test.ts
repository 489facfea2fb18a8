// The stream framer (src/stream/decoder.ts) on bytes alone, no cipher: the rule of docs/FORMAT.md
// "Decoding a stream". It hands out every chunk proven not to be the last (more than a
// trailer's worth of bytes follows it) as soon as it can; at the end what it holds must be one
// chunk (not empty unless it is the only one) and a trailer, else the stream is corrupt, "ended
// early", naming where. Also the encoder's count of plaintext bytes (what `encrypt -` reports)
// and the wording of a failed chunk, the same on every path.

import { describe, expect, it } from 'vitest';
import { TRAILER_MAGIC } from '../src/format/constants.js';
import { chunkError } from '../src/stream/chunks.js';
import { StreamFramer } from '../src/stream/decoder.js';
import { StreamEncoder } from '../src/stream/encoder.js';
import { getBackend } from './helpers/backends.js';

const C = 4096;
const B = C + 16;
const trailer = (): Uint8Array => Buffer.concat([TRAILER_MAGIC, Buffer.alloc(32, 7)]);
const bytes = (n: number, v = 1): Uint8Array => new Uint8Array(n).fill(v);

function endError(f: StreamFramer): string {
  try {
    f.end();
  } catch (e) {
    return `${(e as { status?: string }).status}: ${(e as Error).message}`;
  }
  return 'no error';
}

describe('StreamFramer', () => {
  it('holds back a chunk until more than a trailer follows it, then hands it out with its index', () => {
    const f = new StreamFramer(C, null);
    expect(f.push(bytes(B))).toBeNull();
    expect(f.push(bytes(40))).toBeNull(); // exactly a trailer's worth after it: it may be the last
    const b = f.push(bytes(1))!;
    expect([b.bytes.length, b.first, b.final]).toEqual([B, 0, -1]);
    expect(f.push(bytes(B - 1))).toBeNull();
    const two = f.push(bytes(2 * B))!;
    expect([two.bytes.length, two.first]).toEqual([2 * B, 1]);
  });

  it('at the end: the held chunks, the last one flagged final, and the trailer\'s digest', () => {
    const f = new StreamFramer(C, null);
    const first = f.push(bytes(B + 100))!; // more than a trailer after chunk 0: out at once
    expect([first.first, first.final, first.bytes.length]).toEqual([0, -1, B]);
    expect(f.push(trailer())).toBeNull();
    const end = f.end();
    expect([end.last.first, end.last.final, end.last.bytes.length]).toEqual([1, 1, 100]);
    expect(Buffer.from(end.digest).equals(Buffer.alloc(32, 7))).toBe(true);
    expect(end.computed).toBeNull();
  });

  it('the one-chunk envelope of an empty plaintext (a lone tag) is whole', () => {
    const f = new StreamFramer(C, null);
    f.push(bytes(16));
    f.push(trailer());
    const end = f.end();
    expect([end.last.first, end.last.final, end.last.bytes.length]).toEqual([0, 0, 16]);
  });

  it('a last chunk of one byte (its tag and one byte) after a full one is whole', () => {
    const f = new StreamFramer(C, null);
    f.push(bytes(B + 17));
    f.push(trailer());
    const end = f.end();
    expect([end.last.first, end.last.final, end.last.bytes.length]).toEqual([1, 1, 17]);
  });

  it('ends that are not whole chunks and a trailer are corrupt, saying how many bytes were left after what', () => {
    const cases: [string, number, string][] = [
      ['less than a tag after the header', 10, 'stream ended early: 50 bytes after the header, not whole chunks and a trailer (truncated)'],
      ['nothing but a trailer', 0, 'stream ended early: 40 bytes after the header, not whole chunks and a trailer (truncated)'],
      ['a last chunk cut inside its tag', B + 5, 'stream ended early: 45 bytes after chunk 0, not whole chunks and a trailer (truncated)'],
      ['an empty last chunk (a lone tag) after full ones', 2 * B + 16, 'stream ended early: 56 bytes after chunk 1, not whole chunks and a trailer (truncated)'],
    ];
    for (const [what, payload, want] of cases) {
      const f = new StreamFramer(C, null);
      f.push(bytes(payload));
      f.push(trailer());
      expect([what, endError(f)]).toEqual([what, `corrupt: ${want}`]);
    }
  });
});

describe('StreamEncoder', () => {
  it('counts the plaintext bytes pushed, and seals exactly the chunks the layout says', () => {
    const node = getBackend('node');
    const enc = new StreamEncoder(node.aead(1, new Uint8Array(32)), C, node.sha256(), new Uint8Array(128));
    let sealed = 0;
    for (const n of [0, 1, C - 1, C, 3 * C + 7]) for (const b of enc.push(bytes(n))) sealed += b.length;
    const [last, tr] = enc.end();
    const plain = 1 + (C - 1) + C + 3 * C + 7;
    expect(enc.plaintextBytes).toBe(plain);
    expect(enc.chunks).toBe(Math.ceil(plain / C));
    expect(sealed + last!.length).toBe(plain + 16 * Math.ceil(plain / C));
    expect(tr!.length).toBe(40);
  });
});

describe('chunkError', () => {
  it('names the chunk, its offset from the start of the file, and whether it was opened as the last', () => {
    const e = chunkError(3, 9, C);
    expect([e.status, e.message, e.chunk, e.offset]).toEqual(['corrupt', `chunk 3 at offset ${128 + 3 * B} failed authentication: damaged, tampered, reordered or truncated`, 3, 128 + 3 * B]);
    expect(chunkError(9, 9, C).message).toBe(`chunk 9 at offset ${128 + 9 * B} failed authentication (as the last chunk): damaged, tampered, reordered or truncated`);
  });
});
