import { describe, expect, it } from 'vitest';
import type { ControlState } from '../../src/migration/control/types';
import { createModeResolver, type ModeControlSource, rolloutBucket } from '../../src/migration/modes';

const entry = (mode: 'legacy' | 'shadow' | 'dual' | 'target', percent?: number) => ({
  value: percent === undefined ? { mode } : { mode, percent },
  version: 1,
  actor: 'ops',
  reason: null,
  at: new Date(),
});

function source(initial: ControlState | null): ModeControlSource & { set(s: ControlState): void } {
  let state = initial;
  return { current: () => state, ready: async () => {}, set: (s) => (state = s) };
}

describe('modes from a control store', () => {
  it('store org, static org, store rollout, static rollout, store default, static default', () => {
    // An org inside a 100 % rollout and one that is in no rollout (0 %).
    const ctl = source({
      version: 3,
      defaultMode: entry('shadow'),
      rollout: entry('dual', 100),
      orgs: { org_stored: entry('target') },
    });
    const r = createModeResolver({
      mode: 'legacy',
      tenants: {
        orgs: { org_stored: 'legacy', org_static: 'shadow' },
        rollout: { mode: 'target', percent: 100 },
      },
      control: ctl,
    });
    expect(r.staticMode('org_stored')).toEqual({ mode: 'target', source: 'control' });
    expect(r.staticMode('org_static')).toEqual({ mode: 'shadow', source: 'org' });
    expect(r.staticMode('org_other')).toEqual({ mode: 'dual', source: 'control' });
    ctl.set({ version: 4, defaultMode: entry('shadow'), rollout: null, orgs: {} });
    expect(r.staticMode('org_other')).toEqual({ mode: 'target', source: 'rollout' });
    expect(r.staticMode(null)).toEqual({ mode: 'shadow', source: 'control' });
    ctl.set({ version: 5, defaultMode: null, rollout: null, orgs: {} });
    expect(r.staticMode(null)).toEqual({ mode: 'legacy', source: 'default' });
    // A rollout below the org's bucket leaves it out.
    const bucket = rolloutBucket('org_edge');
    ctl.set({ version: 6, defaultMode: null, rollout: entry('dual', bucket / 100), orgs: {} });
    const plain = createModeResolver({ mode: 'legacy', control: ctl });
    expect(plain.staticMode('org_edge').mode).toBe('legacy');
  });

  it('waits for the first read before deciding', async () => {
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => (release = resolve));
    let state: ControlState | null = null;
    const r = createModeResolver({ mode: 'legacy', control: { current: () => state, ready: () => gate } });
    const pending = r.resolve('org_a');
    expect(pending).toBeInstanceOf(Promise);
    state = { version: 1, defaultMode: entry('dual'), rollout: null, orgs: {} };
    release();
    expect(await pending).toBe('dual');
    expect(r.resolve('org_a')).toBe('dual');
  });

  it('sees a store change under a cached flag answer (cacheUntilChanged)', async () => {
    const ctl = source({ version: 1, defaultMode: entry('shadow'), rollout: null, orgs: {} });
    const r = createModeResolver({
      mode: 'legacy',
      control: ctl,
      modeFlag: {
        cacheUntilChanged: true,
        client: { getStringDetails: async (_k, fallback) => ({ value: fallback, reason: 'DEFAULT' }) },
      },
    });
    expect(await r.resolve('org_a')).toBe('shadow');
    ctl.set({ version: 2, defaultMode: entry('target'), rollout: null, orgs: {} });
    expect(await r.resolve('org_a')).toBe('target');
  });
});
