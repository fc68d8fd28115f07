import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { IdentityLinkStore } from '../../src/stores/contracts';
import { StoreError } from '../../src/stores/errors';
import { type Fixture, uid } from './fixture';

const isConflict = (e: unknown) => e instanceof StoreError && e.code === 'store_conflict';

/**
 * The IdentityLinkStore contract, for every implementation.
 *
 * @example
 * ```ts
 * identityLinkStoreContract('sqlite', async () => ({ store: (await openSqliteStores({ filename })).links }));
 * ```
 */
export function identityLinkStoreContract(
  name: string,
  factory: () => Promise<Fixture<IdentityLinkStore>>,
): void {
  describe(`IdentityLinkStore contract: ${name}`, () => {
    let fixture: Fixture<IdentityLinkStore>;
    let store: IdentityLinkStore;
    beforeEach(async () => {
      fixture = await factory();
      store = fixture.store;
    });
    afterEach(async () => {
      await fixture.cleanup?.();
    });

    it('links a provider subject to a subject and resolves it', async () => {
      const provider = uid('auth0');
      const link = await store.link({ provider, providerSubject: 'auth0|42', subject: 'usr_42' });
      expect(link).toMatchObject({ provider, providerSubject: 'auth0|42', subject: 'usr_42' });
      expect(link.createdAt).toBeInstanceOf(Date);
      expect(await store.resolve(provider, 'auth0|42')).toBe('usr_42');
      expect(await store.resolve(provider, 'auth0|43')).toBeNull();
      expect(await store.resolve(uid('other'), 'auth0|42')).toBeNull();
    });

    it('is idempotent for the same link and refuses to re-point an existing one', async () => {
      const provider = uid('legacy');
      const first = await store.link({ provider, providerSubject: '7', subject: 'usr_7' });
      const again = await store.link({ provider, providerSubject: '7', subject: 'usr_7' });
      expect(again.createdAt.getTime()).toBe(first.createdAt.getTime());
      const error = await store
        .link({ provider, providerSubject: '7', subject: 'usr_8' })
        .catch((e: unknown) => e);
      expect(isConflict(error)).toBe(true);
      expect(await store.resolve(provider, '7')).toBe('usr_7');
    });

    it('lists every provider identity of a subject', async () => {
      const subject = uid('usr');
      const a = uid('legacy');
      const b = uid('oidc');
      await store.link({ provider: a, providerSubject: '1', subject });
      await store.link({ provider: b, providerSubject: 'abc', subject });
      await store.link({ provider: a, providerSubject: '2', subject: uid('usr') });
      const links = await store.listBySubject(subject);
      expect(links.map((l) => `${l.provider}:${l.providerSubject}`).sort()).toEqual(
        [`${a}:1`, `${b}:abc`].sort(),
      );
    });

    it('unlinks', async () => {
      const provider = uid('legacy');
      await store.link({ provider, providerSubject: '9', subject: 'usr_9' });
      expect(await store.unlink(provider, '9')).toBe(true);
      expect(await store.unlink(provider, '9')).toBe(false);
      expect(await store.resolve(provider, '9')).toBeNull();
      await store.link({ provider, providerSubject: '9', subject: 'usr_other' });
      expect(await store.resolve(provider, '9')).toBe('usr_other');
    });

    it('maps provider org ids to internal org ids, idempotently, refusing to re-point', async () => {
      const provider = uid('auth0');
      await store.linkOrg({ provider, externalOrgId: 'org_abc', orgId: 'org_1' });
      expect((await store.linkOrg({ provider, externalOrgId: 'org_abc', orgId: 'org_1' })).orgId).toBe(
        'org_1',
      );
      expect(await store.resolveOrg(provider, 'org_abc')).toBe('org_1');
      expect(await store.resolveOrg(provider, 'org_zzz')).toBeNull();
      const error = await store
        .linkOrg({ provider, externalOrgId: 'org_abc', orgId: 'org_2' })
        .catch((e: unknown) => e);
      expect(isConflict(error)).toBe(true);
    });

    it('imports links and org links in bulk; re-running the import changes nothing', async () => {
      const provider = uid('legacy');
      const links = Array.from({ length: 2_500 }, (_, i) => ({
        provider,
        providerSubject: String(i),
        subject: `usr_${i}`,
      }));
      const orgs = [{ provider, externalOrgId: 'ext_1', orgId: 'org_1' }];
      await store.link({ provider, providerSubject: '0', subject: 'usr_0' }); // already there: unchanged
      expect(await store.importLinks({ links, orgs })).toEqual({ inserted: 2_500, unchanged: 1 });
      expect(await store.importLinks({ links, orgs })).toEqual({ inserted: 0, unchanged: 2_501 });
      expect(await store.resolve(provider, '2499')).toBe('usr_2499');
      expect(await store.resolveOrg(provider, 'ext_1')).toBe('org_1');
      expect(await store.importLinks({})).toEqual({ inserted: 0, unchanged: 0 });
    });

    it('imports all or nothing: a conflict with a stored link writes none of the batch', async () => {
      const provider = uid('legacy');
      await store.link({ provider, providerSubject: 'x', subject: 'usr_x' });
      const error = await store
        .importLinks({
          links: [
            { provider, providerSubject: 'new_1', subject: 'usr_1' },
            { provider, providerSubject: 'x', subject: 'usr_other' },
          ],
          orgs: [{ provider, externalOrgId: 'ext', orgId: 'org' }],
        })
        .catch((e: unknown) => e);
      expect(isConflict(error)).toBe(true);
      expect(await store.resolve(provider, 'new_1')).toBeNull();
      expect(await store.resolveOrg(provider, 'ext')).toBeNull();
      expect(await store.resolve(provider, 'x')).toBe('usr_x');
    });

    it('imports all or nothing: a conflict inside the batch writes none of it', async () => {
      const provider = uid('legacy');
      const error = await store
        .importLinks({
          links: [
            { provider, providerSubject: 'a', subject: 'usr_a' },
            { provider, providerSubject: 'b', subject: 'usr_b' },
            { provider, providerSubject: 'a', subject: 'usr_not_a' },
          ],
        })
        .catch((e: unknown) => e);
      expect(isConflict(error)).toBe(true);
      expect(await store.resolve(provider, 'a')).toBeNull();
      expect(await store.resolve(provider, 'b')).toBeNull();
    });

    it('refuses empty fields', async () => {
      await expect(store.link({ provider: '', providerSubject: '1', subject: 'u' })).rejects.toThrow(
        TypeError,
      );
      await expect(
        store.importLinks({ links: [{ provider: 'p', providerSubject: '', subject: 'u' }] }),
      ).rejects.toThrow(TypeError);
    });
  });
}
