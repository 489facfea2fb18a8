// The bounded, password-scrubbing capture of a tool's standard error (src/foreign/tail.ts):
// memory bound whatever the input, the last line, sanitising, and the password never kept,
// however the stream is cut into reads (property test over random cuts).

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { sanitizeLine, Tail } from '../src/foreign/tail.js';

const feed = (t: Tail, s: string | Buffer, cuts: number[] = []) => {
  const b = Buffer.isBuffer(s) ? s : Buffer.from(s);
  let at = 0;
  for (const c of [...cuts].sort((x, y) => x - y)) {
    if (c <= at || c >= b.length) continue;
    t.push(b.subarray(at, c));
    at = c;
  }
  t.push(b.subarray(at));
  t.end();
  return t;
};

describe('Tail', () => {
  it('keeps only the last bytes: 50 MiB in, at most limit + secret held', () => {
    const t = new Tail(64 * 1024, Buffer.from('pw'));
    const block = Buffer.alloc(1024 * 1024, 'a');
    let peak = 0;
    for (let i = 0; i < 50; i++) {
      t.push(block);
      peak = Math.max(peak, t.retained);
    }
    t.push(Buffer.from('\nthe last line\n'));
    t.end();
    expect(t.total).toBe(50 * 1024 * 1024 + 15);
    expect(peak).toBeLessThanOrEqual(64 * 1024 + 2);
    expect(t.retained).toBeLessThanOrEqual(64 * 1024);
    expect(t.lastLine()).toBe('the last line');
  });

  it('the ring keeps exactly the last bytes across wrap-arounds', () => {
    const t = new Tail(10);
    let all = '';
    for (const piece of ['abc', 'defghij', 'k', 'lmnopqrstu', 'vw', 'xyz0123456789ABCDEF', 'G']) {
      t.push(Buffer.from(piece));
      all += piece;
      expect(t.text()).toBe(all.slice(-10));
    }
    expect(t.truncated).toBe(true);
    expect(new Tail(10).truncated).toBe(false);
  });

  it('last line: skips empty lines, handles CR, CRLF, and a line cut at the front', () => {
    expect(feed(new Tail(100), 'one\r\ntwo\r\n\n  \n').lastLine()).toBe('two');
    expect(feed(new Tail(100), 'progress 10%\rprogress 90%\rdone').lastLine()).toBe('done');
    expect(feed(new Tail(100), '').lastLine()).toBe('');
    expect(feed(new Tail(8), 'abcdefghijklmnop').lastLine()).toBe('…ijklmnop');
  });

  it('scrubs the password, also split over reads, and at the very end', () => {
    const pw = 'hunter2-secret';
    const text = `error: password '${pw}' rejected\nagain ${pw}\n`;
    for (let cut = 1; cut < text.length; cut++) {
      const t = feed(new Tail(1024, Buffer.from(pw)), text, [cut]);
      expect(t.text()).not.toContain(pw);
      expect(t.text()).toBe("error: password '***' rejected\nagain ***\n");
    }
    // a stream that ends on the password's start is redacted too
    expect(feed(new Tail(1024, Buffer.from(pw)), 'typed: hunter2-se').text()).toBe('typed: ***');
  });

  it('property: no read pattern lets the password through, and the rest is kept as it was', () => {
    fc.assert(fc.property(
      fc.string({ minLength: 1, maxLength: 12 }).filter((s) => !s.includes('*')),
      fc.array(fc.string({ maxLength: 60 }), { maxLength: 6 }),
      fc.array(fc.nat(200), { maxLength: 8 }),
      (pw, pieces, cuts) => {
        const text = pieces.join(pw);
        const t = feed(new Tail(4096, Buffer.from(pw)), text, cuts);
        // (reads of 2 x password length or more take the no-copy path, shorter ones the joined one)
        expect(t.text().includes(pw)).toBe(false);
        // what remains equals a plain left-to-right replacement (no cut changes the result)
        const expected = text.split(pw).join('***');
        const endsWithStart = [...Array(pw.length).keys()].some((k) => k >= Math.min(3, pw.length) && k < pw.length && expected.endsWith(pw.slice(0, k)));
        if (!endsWithStart) expect(t.text()).toBe(expected);
      },
    ), { numRuns: 500 });
  });
});

describe('sanitizeLine', () => {
  it('removes control and reordering characters, bounds the length', () => {
    expect(sanitizeLine('\u001b[31mred\u001b[0m\tand\u0007bell')).toBe('[31mred [0m and bell');
    expect(sanitizeLine('evil\u202efdp.exe')).toBe('evil fdp.exe');
    expect(sanitizeLine('a'.repeat(500), 200)).toBe(`${'a'.repeat(199)}…`);
    expect(Array.from(sanitizeLine('é'.repeat(300), 50))).toHaveLength(50);
  });
});
