import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/core/errors';
import { livenessSettings, startHeartbeat } from '../../src/stores/liveness';
import { sleep } from '../contract/fixture';

describe('channel heartbeat', () => {
  it('is alive while pings are answered, not once one is overdue, and says when it recovers', async () => {
    let answer: (() => void) | null = null;
    let answering = true;
    let pings = 0;
    let recovered = 0;
    let dead = 0;
    const beat = startHeartbeat(
      {
        ping: () => {
          pings++;
          if (answering) return Promise.resolve();
          return new Promise<void>((resolve) => {
            answer = resolve;
          });
        },
        onRecovered: () => recovered++,
        onDead: () => dead++,
      },
      livenessSettings({ heartbeatMs: 10, staleAfterMs: 60, reconnectAfterMs: 10_000 }),
    );
    try {
      await sleep(100);
      expect(beat.alive).toBe(true);
      expect(pings).toBeGreaterThan(2);
      answering = false;
      await sleep(150); // one ping hangs; no second one piles up behind it
      expect(beat.alive).toBe(false);
      const stalledPings = pings;
      await sleep(50);
      expect(pings).toBe(stalledPings);
      (answer as (() => void) | null)?.();
      answering = true;
      await sleep(5);
      expect(beat.alive).toBe(true);
      expect(recovered).toBe(1);
      expect(dead).toBe(0);
    } finally {
      beat.stop();
    }
  });

  it('gives the connection up after reconnectAfterMs of silence', async () => {
    let dead = 0;
    const beat = startHeartbeat(
      { ping: () => new Promise(() => {}), onRecovered: () => {}, onDead: () => dead++ },
      livenessSettings({ heartbeatMs: 10, staleAfterMs: 30, reconnectAfterMs: 80 }),
    );
    try {
      await sleep(200);
      expect(dead).toBeGreaterThanOrEqual(1);
    } finally {
      beat.stop();
    }
  });

  it('refuses settings that could not detect a stall', () => {
    expect(() => livenessSettings({ heartbeatMs: 0 })).toThrow(ConfigError);
    expect(() => livenessSettings({ heartbeatMs: 500, staleAfterMs: 400 })).toThrow(/staleAfterMs/);
    expect(() => livenessSettings({ staleAfterMs: 2_000, reconnectAfterMs: 1_000 })).toThrow(
      /reconnectAfterMs/,
    );
  });
});
