// The -o folder of a run: its identity once it exists, so that the walk never enters it (a run
// never takes its own outputs as inputs) and its outputs land in the folder the run found.

import { promises as fsp } from 'node:fs';
import { UsageError } from './job.js';
import { showPath } from './show.js';

export class OutFolder {
  private id: { dev: number; ino: number; real: string } | null = null;
  /** The run made the folder itself (it did not exist when the run began). */
  private made = false;

  /** `dir` null: outputs go beside their inputs. */
  constructor(readonly dir: string | null) {}

  /** The folder as it is now, if it exists already. */
  async look(): Promise<void> {
    if (this.dir === null) return;
    const st = await fsp.stat(this.dir).catch(() => null);
    if (st?.isDirectory()) this.id = { dev: st.dev, ino: st.ino, real: await fsp.realpath(this.dir) };
  }

  /** Creates it if needed; a usage error when it cannot be a folder. */
  async make(): Promise<void> {
    if (this.dir === null) return;
    try {
      const existed = this.id !== null || (await fsp.lstat(this.dir).then(() => true, () => false));
      await fsp.mkdir(this.dir, { recursive: true });
      this.made = !existed;
      if (!(await fsp.stat(this.dir)).isDirectory()) throw Object.assign(new Error('not a folder'), { code: 'ENOTDIR' });
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code ?? String(e);
      throw new UsageError(`cannot use ${showPath(this.dir)} as the output folder (${code === 'EEXIST' || code === 'ENOTDIR' ? 'it exists and is not a folder' : code})`,
        'give -o a folder that exists or can be created');
    }
    await this.look();
  }

  /**
   * At the end of a run that committed nothing (every file failed, as with a wrong password): the
   * folder the run made is removed again, so that no empty output folder suggests work was done.
   * Only the folder the run made (not folders above it that mkdir -p made too), only while its
   * name still leads to the folder the run found (device and inode), and only when empty (rmdir
   * removes nothing else: a file anyone put there keeps it).
   */
  async removeIfMadeAndEmpty(): Promise<void> {
    if (this.dir === null || !this.made || this.id === null) return;
    const st = await fsp.lstat(this.dir).catch(() => null);
    if (!st?.isDirectory() || st.dev !== this.id.dev || st.ino !== this.id.ino) return;
    await fsp.rmdir(this.dir).catch(() => undefined); // ENOTEMPTY: outputs (or anything else) are there
  }

  /** The folder the walk never enters (null until it exists). */
  readonly skip = (): { dev: number; ino: number; real: string } | null => this.id;

  /** Its device and inode as the run found it. */
  get baseId(): { dev: number; ino: number } | null {
    return this.id && { dev: this.id.dev, ino: this.id.ino };
  }
}
