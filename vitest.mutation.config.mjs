// The vitest configuration Stryker uses (stryker.config.mjs): only the test files that run the
// mutated code in process. The CLI tests run the built dist/js in child processes, which Stryker
// does not mutate, so they could not kill a mutant; leaving them out keeps a run short. The CLI
// tests inside these files see AENV_MUTATION=1 and skip (test/helpers/cli.ts UNDER_MUTATION).
//
// Files run one at a time in the order of stryker.config.mjs's TESTS, the fast and precise ones
// first: Stryker stops a mutant's run at its first failing test, so most mutants are killed
// before the large-payload files start.
import { BaseSequencer } from 'vitest/node';
import { defineConfig } from 'vitest/config';
import strykerConfig from './stryker.config.mjs';

const ORDER = strykerConfig.testFiles;
const rank = (spec) => {
  const i = ORDER.findIndex((t) => spec.moduleId.endsWith(t));
  return i < 0 ? ORDER.length : i;
};

class InListedOrder extends BaseSequencer {
  async sort(files) {
    return [...files].sort((a, b) => rank(a) - rank(b));
  }
}

export default defineConfig({
  test: {
    include: ORDER,
    env: { AENV_MUTATION: '1' },
    fileParallelism: false,
    sequence: { sequencer: InListedOrder },
    // Keep the suite's own time limits, which allow for a loaded machine.
    testTimeout: 60_000,
    hookTimeout: 120_000,
  },
});
