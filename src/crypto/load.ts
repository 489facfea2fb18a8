// The one way to get a crypto backend by name. The pure-JS backend is imported only when asked
// for: building @noble's AES tables costs start-up time every run would pay.

import type { Backend, BackendName } from './backend.js';
import { nodeBackend } from './node.js';

export async function loadBackend(name: BackendName = 'node'): Promise<Backend> {
  return name === 'noble' ? (await import('./noble.js')).nobleBackend : nodeBackend;
}

export type { Aead, Backend, BackendName, Hash } from './backend.js';
export { BACKEND_NAMES } from './backend.js';
