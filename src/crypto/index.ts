// Both crypto backends by name, loaded eagerly (tests; the CLI uses load.ts).

import type { Backend, BackendName } from './backend.js';
import { nobleBackend } from './noble.js';
import { nodeBackend } from './node.js';

export function getBackend(name: BackendName = 'node'): Backend {
  return name === 'noble' ? nobleBackend : nodeBackend;
}

export type { Aead, Backend, BackendName, Hash } from './backend.js';
export { BACKEND_NAMES } from './backend.js';
