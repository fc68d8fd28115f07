import { randomUUID } from 'node:crypto';

/** What a contract suite gets from each implementation: a store, and how to dispose of it. */
export interface Fixture<T> {
  readonly store: T;
  readonly cleanup?: () => Promise<void>;
}

/** Unique ids, so suites also pass against a database shared with other tests. */
export const uid = (label: string): string => `${label}_${randomUUID().slice(0, 8)}`;

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
