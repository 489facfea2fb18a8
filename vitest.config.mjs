// `vitest run` (npm test): every test file under test/, never the copies in a Stryker sandbox
// (.stryker-tmp, present while `npm run mutate` runs) or in release/.
import { configDefaults, defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    exclude: [...configDefaults.exclude, '.stryker-tmp/**', 'release/**', 'reports/**'],
  },
});
