import { describe, expect, it } from 'vitest';
import { AuthplaneError } from '../../src/core/errors';
import { loadPeer } from '../../src/stores/peer';

describe('optional peer dependencies', () => {
  it('name the package to install when it is missing', async () => {
    const missing = 'authplane-no-such-driver';
    const error = await loadPeer(missing, 'Test stores', () => import(/* @vite-ignore */ missing)).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(AuthplaneError);
    expect((error as AuthplaneError).code).toBe('peer_missing');
    expect((error as Error).message).toContain(`npm install ${missing}`);
  });

  it('pass the module through when it is installed', async () => {
    const mod = await loadPeer('pg', 'PostgreSQL stores', () => import('pg'));
    expect(mod).toBeDefined();
  });
});
