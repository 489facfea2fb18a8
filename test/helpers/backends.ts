// Both crypto backends, loaded once through the one loader (src/crypto/load.ts), for tests that
// pick one by name synchronously.

import { loadBackend, type Backend, type BackendName } from '../../src/crypto/load.js';

const loaded: Record<BackendName, Backend> = { node: await loadBackend('node'), noble: await loadBackend('noble') };

export function getBackend(name: BackendName = 'node'): Backend {
  return loaded[name];
}

export { BACKEND_NAMES, type Backend } from '../../src/crypto/load.js';
