// The independent implementation's test vectors (test/vectors/, a byte-identical copy of the independent implementation's set: docs/FORMAT.md "Test vectors"), as data.

import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { VECTORS } from './cli.js';

export interface Vector {
  file: string;
  password: string;
  expect: string;
  expect_verify: string;
  expect_nopassword: string;
  note: string;
  plaintext_sha256?: string;
  plaintext_len?: number;
  plaintext_file?: string;
  intermediate?: { master: string; header_key: string; payload_key: string };
}

export const vectors: Vector[] = (JSON.parse(readFileSync(path.join(VECTORS, 'vectors.json'), 'utf8')) as { vectors: Vector[] }).vectors;

export function vectorPath(v: Vector | string): string {
  return path.join(VECTORS, typeof v === 'string' ? v : v.file);
}
