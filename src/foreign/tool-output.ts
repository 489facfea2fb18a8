// Where IBM's tool writes its output (issue 21): never a name another user can change. aenv
// creates a private folder in the output folder (fsops/private-folder.ts: 0700, aenv's user,
// aenv's temporary naming, same file system as the final name) and gives the tool a path inside
// it. On Linux that path goes through a descriptor the tool inherits as fd 3
// (`-o /proc/self/fd/3/NAME`), so renaming or replacing names in the output folder (the private
// folder's own name included) cannot redirect the write, and nobody else can enter the folder
// to plant a file or a link, or to read one. A tool that writes a file of its own and renames it
// over NAME stays inside the folder too. aenv then judges what it left (output-check.ts) through
// its own descriptor of the folder, links it under the final name with the usual checks
// (fsops/atomic.ts placeFile), and removes the private folder whatever happened.
//
// Where no descriptor path exists (not Linux, or no /proc) the tool can only be given a name;
// then the output folder and every folder above it must be changeable by nobody but root and
// aenv's user (foreign/trust.ts), else the file is refused with a one-line error saying where it
// would be safe. verify's private folder lives in the system's temporary folder.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { createTemp, placeFile, settleName } from '../fsops/atomic.js';
import type { OutputDir } from '../fsops/dirs.js';
import { PlanError } from '../fsops/errors.js';
import { fdPathsWork, MARKER, PrivateFolder, type Reach } from '../fsops/private-folder.js';
import { settleToolOutput, type FileIdentity, type Settled } from './output-check.js';
import { folderChainProblem } from './trust.js';

/** New names tried when the private folder is swapped as it is made. */
const SWAP_TRIES = 5;

export class ToolOutput {
  private file: { fd: number; id: FileIdentity } | null = null;
  private constructor(readonly dir: OutputDir, readonly folder: PrivateFolder, private readonly inner: string, readonly finalPath: string) {}

  /**
   * A private folder in `dir` for the output that will be named `name` there. Throws a PlanError
   * (io-error with a hint) where the tool could only be given a name that another user can
   * redirect, ETAMPERED when the folder was swapped as it was made.
   */
  static create(dir: OutputDir, name: string, reach: Reach = fdPathsWork() ? 'fd' : 'name'): ToolOutput {
    if (reach === 'name') {
      const problem = folderChainProblem(dir.path);
      if (problem) {
        throw new PlanError(`refusing to run IBM's tool into ${dir.path}: ${problem}, and on this system the tool can only be given a file name there, which another user could redirect`,
          'give -o a folder that nobody but root and you can change (e.g. one in your home folder), or run on Linux, where aenv hands the tool a descriptor instead');
      }
    }
    const inner = name === MARKER ? `_${name}` : name;
    // Another user who can rename names in `dir` may swap the new folder's name before aenv opens
    // it (nothing leaks: it is empty, and what aenv opened instead is refused): a few new names.
    for (let attempt = 1; ; attempt++) {
      try {
        return createTemp(dir, (tmp) => new ToolOutput(dir, PrivateFolder.create(dir.path, path.basename(tmp), reach), inner, path.join(dir.path, name)));
      } catch (e) {
        if (!(e as { swapped?: boolean }).swapped || attempt >= SWAP_TRIES) throw e;
      }
    }
  }

  /** The output path the tool is given (with `fds` as its fd 3 onwards). */
  get toolPath(): string {
    return this.folder.forChild(this.inner);
  }

  get fds(): number[] {
    return this.folder.childFds();
  }

  /** The same file as aenv reaches it (through its own descriptor of the folder on Linux). */
  get ownPath(): string {
    return this.folder.own(this.inner);
  }

  /** The accepted file's device and inode (after settle()). */
  get identity(): FileIdentity {
    if (!this.file) throw new Error('identity before settle()');
    return this.file.id;
  }

  /** Judges what the tool left (output-check.ts); accepted: kept open, mode 0600, flushed. */
  async settle(): Promise<Settled> {
    const s = await settleToolOutput(this.ownPath, this.folder.dev);
    if (s.ok) this.file = { fd: s.fd, id: s.identity };
    return s;
  }

  /**
   * Links the accepted file under the final name (renames it over an existing one with
   * `replace`), with placeFile()'s checks; then the private folder goes and the output folder is
   * flushed now (`durableName`) or marked for the end of the run.
   */
  /** The accepted file's modification time set to `mtimeMs` (its input's) through aenv's descriptor, before commit(). */
  keepTime(mtimeMs: number): void {
    if (!this.file) throw new Error('keepTime() before settle()');
    fs.futimesSync(this.file.fd, Date.now() / 1000, mtimeMs / 1000);
  }

  async commit(replace: boolean, durableName: boolean): Promise<void> {
    if (!this.file) throw new Error('commit() before settle()');
    placeFile(this.dir, this.ownPath, this.finalPath, this.file.id, replace);
    fs.closeSync(this.file.fd);
    this.file = null;
    this.folder.remove();
    await settleName(this.dir, durableName);
  }

  /**
   * Not committed: the accepted file (if any) is truncated through aenv's descriptor, so its
   * plaintext is gone from any name it went to, then the private folder and everything in it
   * go. Never throws.
   */
  discard(): void {
    if (this.file) {
      try {
        fs.ftruncateSync(this.file.fd, 0);
      } catch {
        /* a read-only or failing medium: the removal below still applies */
      }
      fs.closeSync(this.file.fd);
      this.file = null;
    }
    this.folder.remove();
  }
}
