// Running many files: up to `jobs` at once (keys shared through the run's key cache), results
// delivered in input order so the human report reads like the file list, and no new file
// started once the run is interrupted.

import { Interrupted, type RunContext } from './context.js';

export async function runAll<T, R>(items: readonly T[], jobs: number, ctx: RunContext,
  work: (item: T) => Promise<R>, deliver: (result: R, index: number) => void): Promise<void> {
  const done = new Map<number, R>();
  let next = 0;
  let delivered = 0;
  let stop: unknown = null;
  const flush = (): void => {
    while (done.has(delivered)) {
      const r = done.get(delivered)!;
      done.delete(delivered);
      deliver(r, delivered++);
    }
  };
  const lane = async (): Promise<void> => {
    while (stop === null && !ctx.interrupted && next < items.length) {
      const i = next++;
      try {
        done.set(i, await work(items[i]!));
      } catch (e) {
        stop ??= e;
        return;
      }
      flush();
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(jobs, items.length)) }, lane));
  if (stop !== null) throw stop;
  if (ctx.interrupted) throw new Interrupted();
}
