// decrypt: an output that ends in the extension and lands inside a walked folder could be taken
// as an input later in the same (streaming) walk: refused. The -o folder is never walked, so
// outputs below it are safe when it lies inside the walked folder. With a --files-from list that
// cannot be read twice (checked beforehand, engine/prepass.ts, otherwise), an output that
// exists and would be replaced may be another input: refused too.

import { lstatSync } from 'node:fs';
import * as path from 'node:path';
import { PlanError } from '../../fsops/errors.js';
import type { Planned } from '../../fsops/plan.js';
import type { FoundFile } from '../../fsops/walk.js';
import type { Check, CheckModule, CheckSetup } from './check.js';

export const ownOutputs: CheckModule = {
  applies: (job) => job.command === 'decrypt',
  start: async (setup) => new OwnOutputs(setup),
};

function exists(p: string): boolean {
  try {
    return lstatSync(p, { throwIfNoEntry: false }) !== undefined;
  } catch {
    return false;
  }
}

const under = (x: string, d: string): boolean => x.startsWith(d.endsWith(path.sep) ? d : d + path.sep);

class OwnOutputs implements Check {
  /** The folder PATHs begun so far, resolved. */
  private readonly roots: string[] = [];

  constructor(private readonly o: CheckSetup) {}

  async begin(root: string): Promise<void> {
    this.roots.push(path.resolve(root));
  }

  plan(_f: FoundFile, p: Planned): Planned {
    const ext = this.o.inputs.extension;
    if (!path.basename(p.output).endsWith(ext)) return p;
    const replace = this.o.job.command === 'decrypt' && this.o.job.output.existing === 'replace';
    const risky = !this.o.stream.rereadable && replace && exists(p.output);
    const o = path.resolve(p.output);
    const out = this.o.out?.dir ?? null;
    const od = out === null ? null : path.resolve(out);
    const inTree = this.roots.some((r) => under(o, r) && !(od !== null && under(od, r) && under(o, od)));
    if (inTree || risky) {
      throw new PlanError(`its output ${JSON.stringify(p.output)} ends in ${ext} and ${inTree ? 'would land inside a walked folder, where this run could take it as an input' : 'exists: it may be another input of this run'}`,
        'decrypt it in a separate run, or use -o DIR outside the walked folders');
    }
    return p;
  }
}
