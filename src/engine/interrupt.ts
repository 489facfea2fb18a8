// Interruption of a run (docs/CLI.md "Exit status"): SIGINT, SIGTERM and SIGHUP set the run's
// flag, so files in flight clean up and no new one starts, and stop IBM's tools (`abort`: their
// whole process groups); a second one exits at once. A stream (`decrypt -`, `encrypt -`) leaves
// no file behind, and a read from an idle pipe or terminal would never see the flag: it ends at
// once. Each signal ends the run with its own exit status (statuses.ts INTERRUPTS).

import type { RunContext } from './context.js';
import { INTERRUPTS } from './statuses.js';

type Signal = keyof typeof INTERRUPTS;

/** Calls `handler` with each interrupting signal's exit status until the returned function is called. */
function onSignals(handler: (code: number) => void): () => void {
  const handlers = (Object.keys(INTERRUPTS) as Signal[]).map((sig) => {
    const h = (): void => handler(INTERRUPTS[sig]);
    process.on(sig, h);
    return [sig, h] as const;
  });
  return () => {
    for (const [sig, h] of handlers) process.off(sig, h);
  };
}

/**
 * Handles the interrupting signals of a run over files until `stop()`; `code()` is the exit
 * status of the first one received (130 until then).
 */
export function onInterrupt(ctx: RunContext, abort: AbortController): { stop: () => void; code: () => number } {
  let first: number = INTERRUPTS.SIGINT;
  const stop = onSignals((code) => {
    if (ctx.interrupted) process.exit(first);
    first = code;
    ctx.interrupted = true;
    abort.abort();
  });
  return { stop, code: () => first };
}

/** Handles the interrupting signals of a stream until the returned function is called: `say` tells, then the process exits. */
export function onStreamInterrupt(ctx: RunContext, say: () => void): () => void {
  return onSignals((code) => {
    ctx.interrupted = true;
    say();
    process.exit(code);
  });
}
