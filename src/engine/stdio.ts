// `decrypt -` and `encrypt -`: standard input to standard output. Decrypting follows the
// stream rule of shared/ENVELOPE.md: only verified chunks are released, and a stream that ends
// early, goes on after its last chunk or fails a tag ends with a non-zero status.

import type { Readable, Writable } from 'node:stream';
import { MIN_ENVELOPE_LEN } from '../format/constants.js';
import { chunkSize, parseHeader } from '../format/header.js';
import { ChunkOpener } from '../stream/chunks.js';
import { StreamDecoder } from '../stream/decoder.js';
import { checkInterrupted, type RunContext } from './context.js';
import { newEncoder, type Sealing } from './files.js';
import { unlock } from './open.js';

export interface StreamOutcome {
  bytes: number;
  digestOk: boolean | null;
}

async function write(out: Writable, data: Uint8Array): Promise<void> {
  if (data.length === 0) return;
  if (!out.write(data)) {
    await new Promise<void>((resolve, reject) => {
      const done = (err?: Error): void => {
        out.off('drain', done);
        out.off('error', done);
        if (err) reject(err);
        else resolve();
      };
      out.on('drain', done);
      out.on('error', done);
    });
  }
}

export async function decryptStream(input: Readable, output: Writable, ctx: RunContext): Promise<StreamOutcome> {
  const it = input[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  // Gather enough to judge the header as a file of the same bytes would be judged (steps 1-6).
  let head = Buffer.alloc(0);
  let ended = false;
  while (head.length < MIN_ENVELOPE_LEN) {
    const r = await it.next();
    if (r.done) {
      ended = true;
      break;
    }
    head = Buffer.concat([head, r.value]);
  }
  const header = parseHeader(head, head.length);
  const keys = await unlock(header, ctx);
  const hash = ctx.backend.sha256();
  hash.update(header.raw);
  const decoder = new StreamDecoder(new ChunkOpener(ctx.backend, header.suite, keys.payloadKey, chunkSize(header)), chunkSize(header), hash);
  let bytes = 0;
  const emit = async (pts: Uint8Array[]): Promise<void> => {
    for (const pt of pts) {
      await write(output, pt);
      bytes += pt.length;
    }
  };
  await emit(decoder.push(head.subarray(128)));
  while (!ended) {
    const r = await it.next();
    if (r.done) break;
    checkInterrupted(ctx);
    await emit(decoder.push(r.value));
    ctx.progress(r.value.length);
  }
  const end = decoder.end();
  await emit([end.plaintext]);
  return { bytes, digestOk: end.digestOk };
}

export async function encryptStream(input: Readable, output: Writable, ctx: RunContext, s: Sealing): Promise<StreamOutcome> {
  const { header, encoder } = newEncoder(ctx, s);
  await write(output, header);
  for await (const chunk of input as AsyncIterable<Buffer>) {
    checkInterrupted(ctx);
    for (const sealed of encoder.push(chunk)) await write(output, sealed);
    ctx.progress(chunk.length);
  }
  for (const sealed of encoder.end()) await write(output, sealed);
  return { bytes: encoder.plaintextBytes, digestOk: null };
}
