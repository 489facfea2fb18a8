// A one-line progress display on a terminal's standard error: files done/total, bytes,
// throughput and ETA. Redrawn at most 10 times a second; cleared before any other line is
// printed, so failures never garble it. Only used when standard error is a terminal. Without a
// total (a --files-from list on standard input cannot be counted first) it shows what is done.

import type { Writable } from 'node:stream';
import { bytesText, durationText, rateText } from './text.js';

export class Progress {
  private files = 0;
  private totalFiles = 0;
  private bytes = 0;
  private totalBytes = 0;
  private t0 = Date.now();
  private last = 0;
  private shown = false;
  /** After the summary: never drawn again (a note printed after it, such as the interruption's, leaves no bar behind). */
  private ended = false;

  constructor(private readonly out: Writable, private readonly verb: string) {}

  /** `files` < 0: the total is unknown. */
  start(files: number, bytes: number): void {
    this.totalFiles = files;
    this.totalBytes = bytes;
    this.t0 = Date.now();
  }

  add(n: number, quiet = false): void {
    this.bytes += n;
    if (quiet) return;
    const now = Date.now();
    if (now - this.last >= 100) {
      this.last = now;
      this.draw();
    }
  }

  fileDone(): void {
    this.files++;
  }

  line(): string {
    const secs = (Date.now() - this.t0) / 1000;
    if (this.totalFiles < 0) return `${this.verb} ${this.files} files  ${bytesText(this.bytes)}  ${rateText(this.bytes, secs)}`;
    const rate = secs > 0 ? this.bytes / secs : 0;
    // No ETA in the first second: the key derivation and the first reads make the rate meaningless.
    const eta = secs >= 1 && rate > 0 && this.totalBytes > this.bytes ? (this.totalBytes - this.bytes) / rate : NaN;
    const pct = this.totalBytes ? Math.floor((100 * this.bytes) / this.totalBytes) : 100;
    return `${this.verb} ${this.files}/${this.totalFiles} files  ${bytesText(this.bytes)} of ${bytesText(this.totalBytes)} (${pct}%)  ${rateText(this.bytes, secs)}  ETA ${durationText(eta)}`;
  }

  draw(): void {
    if (this.ended) return;
    // A terminal that reports no width (0, as under `script`) is taken as 80 columns wide.
    const cols = (this.out as { columns?: number }).columns || 80;
    this.out.write(`\r\x1b[K${this.line().slice(0, Math.max(10, cols - 1))}`);
    this.shown = true;
  }

  clear(): void {
    if (this.shown) this.out.write('\r\x1b[K');
    this.shown = false;
  }

  finish(): void {
    this.clear();
    this.ended = true;
  }
}
