// The stream framer's byte queue (src/stream/queue.ts): bytes come out in the order they went
// in, whatever the pieces; a run that lies in one piece is a view of it (not copied), every
// other byte is copied exactly once (`copied` counts them: the stream decoder's linear cost,
// docs/FORMAT.md "Decoding a stream"); used-up pieces are dropped so the queue's own bookkeeping stays bounded over
// a long stream.

import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ByteQueue } from '../src/stream/queue.js';

/** The queue's list of pieces (white box: what it keeps for bytes already taken). */
const pieces = (q: ByteQueue): number => (q as unknown as { pieces: unknown[] }).pieces.length;

describe('ByteQueue', () => {
  it('gives back the bytes in order for any pieces and any runs taken', () => {
    fc.assert(fc.property(fc.array(fc.uint8Array({ maxLength: 300 }), { maxLength: 40 }), fc.array(fc.nat(400), { maxLength: 60 }), (ins, takes) => {
      const q = new ByteQueue();
      const all = Buffer.concat(ins);
      for (const p of ins) q.push(p);
      expect(q.length).toBe(all.length);
      let at = 0;
      for (const t of takes) {
        const n = Math.min(t, q.length);
        expect(Buffer.from(q.take(n)).equals(all.subarray(at, at + n))).toBe(true);
        at += n;
        expect(q.length).toBe(all.length - at);
      }
      expect(q.copied).toBeLessThanOrEqual(at);
    }));
  });

  it('a run inside one piece, or exactly one whole piece, is a view of it: nothing copied', () => {
    const q = new ByteQueue();
    const a = randomBytes(10);
    const b = randomBytes(6);
    q.push(a);
    q.push(new Uint8Array(0)); // an empty piece changes nothing
    q.push(b);
    const first = q.take(4);
    expect(first.buffer).toBe(a.buffer);
    expect(q.take(6).buffer).toBe(a.buffer); // the rest of a, exactly
    expect(q.take(6).buffer).toBe(b.buffer); // b whole, after the empty piece
    expect(q.copied).toBe(0);
    expect(q.length).toBe(0);
  });

  it('an empty piece first does not make the next run a copy', () => {
    const q = new ByteQueue();
    q.push(new Uint8Array(0));
    q.push(randomBytes(8));
    q.take(8);
    expect(q.copied).toBe(0);
  });

  it('a run across pieces is copied once, and counted exactly', () => {
    const q = new ByteQueue();
    q.push(Buffer.from('abc'));
    q.push(Buffer.from('defg'));
    q.push(Buffer.from('h'));
    expect(Buffer.from(q.take(5)).toString()).toBe('abcde');
    expect(q.copied).toBe(5);
    expect(Buffer.from(q.take(3)).toString()).toBe('fgh');
    expect(q.copied).toBe(8);
  });

  it('taking more than it holds is a RangeError naming both sizes, and takes nothing', () => {
    const q = new ByteQueue();
    q.push(Buffer.from('abc'));
    expect(() => q.take(4)).toThrow(new RangeError('take(4) of 3 bytes'));
    expect(q.length).toBe(3);
    expect(Buffer.from(q.take(3)).toString()).toBe('abc');
    expect(q.take(0).length).toBe(0);
  });

  it('keeps no bookkeeping for used-up pieces over a long stream, even after many pieces at once', () => {
    const q = new ByteQueue();
    for (let i = 0; i < 1000; i++) q.push(Buffer.of(i & 255));
    q.take(1000);
    for (let i = 0; i < 20_000; i++) {
      q.push(Buffer.of(1, 2, 3));
      expect(q.take(3).length).toBe(3);
    }
    expect(pieces(q)).toBeLessThan(200);
    expect(q.moved).toBeGreaterThan(0); // the list was compacted ...
    expect(q.moved).toBeLessThanOrEqual(21_000); // ... at a cost linear in the pieces pushed
  });

  it('200,000 one-byte pieces taken at once: linear (a queue that re-joined or re-sliced its list per piece would not finish)', () => {
    const q = new ByteQueue();
    const n = 200_000;
    for (let i = 0; i < n; i++) q.push(new Uint8Array(1).fill(i & 255));
    const run = q.take(n);
    expect(run.length).toBe(n);
    expect(run[n - 1]).toBe((n - 1) & 255);
    expect(q.copied).toBe(n);
    expect(pieces(q)).toBeLessThan(200);
    expect(q.moved).toBeLessThanOrEqual(n); // the list's compaction is linear too
  });
});
