// The stream framer (src/stream/decoder.ts) on bytes alone, no cipher: the rule after step 12
// of shared/ENVELOPE.md. It hands out only chunks proven not to be the last (more than a
// trailer's worth of bytes follows them), in blocks of at least minBlock bytes; at the end what
// it holds must be whole chunks (the last one not empty unless it is the only one) and a
// trailer, else the stream is corrupt, "ended early", naming where.

import { describe, expect, it } from 'vitest';
import { TRAILER_MAGIC } from '../src/format/constants.js';
import { StreamFramer } from '../src/stream/decoder.js';

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

  it('minBlock: chunks wait until a block is at least that big', () => {
    const f = new StreamFramer(C, null, 2 * B);
    expect(f.push(bytes(B + 41))).toBeNull();
    expect(f.push(bytes(B))!.bytes.length).toBe(2 * B);
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
