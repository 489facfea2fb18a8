// Interruption of a run (docs/CLI.md "Exit status"): SIGINT sets the run's flag, so files in
// flight clean up and no new one starts, and stops IBM's tools (`abort`); a second SIGINT exits
// at once. A stream (`decrypt -`, `encrypt -`) leaves no file behind, and a read from an idle pipe
// or terminal would never see the flag: it ends at once.

import { EXIT } from './statuses.js';
import type { RunContext } from './context.js';

/** Handles SIGINT for a run over files until the returned function is called. */
export function onInterrupt(ctx: RunContext, abort: AbortController): () => void {
  const handler = (): void => {
    if (ctx.interrupted) process.exit(EXIT.interrupted);
    ctx.interrupted = true;
    abort.abort();
  };
  process.on('SIGINT', handler);
  return () => process.off('SIGINT', handler);
}

/** Handles SIGINT for a stream until the returned function is called: `say` tells, then the process exits. */
export function onStreamInterrupt(ctx: RunContext, say: () => void): () => void {
  const handler = (): void => {
    ctx.interrupted = true;
    say();
    process.exit(EXIT.interrupted);
  };
  process.on('SIGINT', handler);
  return () => process.off('SIGINT', handler);
}
