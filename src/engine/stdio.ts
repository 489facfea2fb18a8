// `decrypt -` and `encrypt -`: standard input to standard output. Decrypting follows the
// stream rule of docs/FORMAT.md "Decoding a stream": the header is judged as a file of the same bytes would be
// (steps 1-6 before any output), then the stream framer (stream/decoder.ts) hands whole chunks
// to the same pipeline as files (engine/pipeline.ts), and only verified plaintext is written; a
// stream that ends early, goes on after its last chunk or fails a tag ends with a failure.

import type { Readable, Writable } from 'node:stream';
import { HEADER_LEN, MIN_ENVELOPE_LEN } from '../format/constants.js';
import { chunkSize, constantTimeEqual, parseHeader } from '../format/header.js';
import { endedEarly, noteStreamFile } from '../fsops/stream-file.js';
import { StreamFramer, type SealedBlock, type StreamEnd } from '../stream/decoder.js';
import { checkInterrupted, type RunContext } from './context.js';
import { newEncoder, unlock, type Sealing } from './aenv.js';
import { openStream } from './pipeline.js';

export interface StreamOutcome {
  bytes: number;
  digestOk: boolean | null;
  /** Which of the run's passwords opened it (its index). */
  password?: number;
}

/** Writes `data` and resolves once the stream has taken it off aenv's hands (the buffer may then be reused). */
function write(out: Writable, data: Uint8Array): Promise<void> {
  if (data.length === 0) return Promise.resolve();
  return new Promise<void>((resolve, reject) => {
    out.write(data, (err) => (err ? reject(err) : resolve()));
  });
}

export async function decryptStream(input: Readable, output: Writable, run: RunContext): Promise<StreamOutcome> {
  const file = noteStreamFile(input); // a regular file still being written ends early: said so, not "truncated"
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
  const keys = await unlock(header, run);
  const hash = run.backend.sha256();
  hash.update(header.raw);
  const C = chunkSize(header);
  const framer = new StreamFramer(C, hash); // each chunk out as soon as it is known not to be the last
  let digestOk: boolean | null = null;
  async function* blocks(): AsyncGenerator<SealedBlock> {
    const first = framer.push(head.subarray(HEADER_LEN));
    if (first) yield first;
    while (!ended) {
      const r = await it.next();
      if (r.done) break;
      checkInterrupted(run);
      const b = framer.push(r.value);
      if (b) yield b;
    }
    let end: StreamEnd;
    try {
      end = framer.end();
    } catch (e) {
      throw endedEarly(file, e);
    }
    digestOk = constantTimeEqual(end.computed!, end.digest);
    yield end.last;
  }
  let bytes = 0;
  for await (const p of openStream(header.suite, keys.payloadKey, C, blocks(), run)) {
    await write(output, p.plaintext);
    p.release();
    bytes += p.plaintext.length;
    run.progress(p.sealedBytes);
  }
  return { bytes, digestOk, password: keys.password };
}

export async function encryptStream(input: Readable, output: Writable, run: RunContext, s: Sealing): Promise<StreamOutcome> {
  const { header, encoder } = newEncoder(run, s);
  await write(output, header);
  for await (const chunk of input as AsyncIterable<Buffer>) {
    checkInterrupted(run);
    for (const sealed of encoder.push(chunk)) await write(output, sealed);
    run.progress(chunk.length);
  }
  for (const sealed of encoder.end()) await write(output, sealed);
  return { bytes: encoder.plaintextBytes, digestOk: null };
}
