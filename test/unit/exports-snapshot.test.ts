// The public names of every entry point. A change here is a change to the contract: review it, then
// update the snapshot on purpose (`npx vitest run test/unit/exports-snapshot.test.ts -u`).
import { describe, expect, it } from 'vitest';
import { ENTRIES } from '../../entries';

describe('public exports', () => {
  for (const [subpath, file] of Object.entries(ENTRIES)) {
    const name = subpath === '.' ? 'authplane' : `authplane/${subpath.slice(2)}`;
    it(`${name} exports the same names`, async () => {
      const mod = (await import(`../../${file}`)) as Record<string, unknown>;
      const shape = Object.keys(mod)
        .sort()
        .map((key) => `${key}: ${typeof mod[key]}`);
      expect(shape).toMatchSnapshot();
    });
  }
});
