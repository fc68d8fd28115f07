// The real Django legacy stack's output (../shared/fixtures/django-legacy beside the repository):
// tokens, API keys, its database and Django's own verdicts. Nothing here is minted by the tests.
import { copyFileSync, existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/**
 * Where the fixtures are: `<repo>/../shared/fixtures/django-legacy` (CI clones the repository with
 * `shared/` beside it). `AUTHPLANE_DJANGO_FIXTURES` points elsewhere, for a git worktree whose parent
 * does not hold `shared/`.
 */
export const FIXTURES_DIR =
  process.env.AUTHPLANE_DJANGO_FIXTURES ?? resolve(repoRoot, '../shared/fixtures/django-legacy');

/** Whether the fixtures are there; suites skip (saying so in their name) when they are not. */
export const FIXTURES_PRESENT =
  existsSync(join(FIXTURES_DIR, 'tokens-and-keys.json')) && existsSync(join(FIXTURES_DIR, 'django.sqlite3'));

/** Suffix of a suite name: empty when the fixtures are present, the reason of the skip otherwise. */
export const SKIP_NOTE = FIXTURES_PRESENT
  ? ''
  : ` (SKIPPED: Django fixtures not found at ${FIXTURES_DIR}; set AUTHPLANE_DJANGO_FIXTURES)`;

/** What Django answered for a credential. */
export interface DjangoVerdict {
  readonly status: number;
  readonly detail?: string | null;
  readonly code?: string | null;
}

interface ApiKeyFixture {
  readonly key: string;
  readonly id?: string;
  readonly prefix?: string;
  readonly user_id?: string;
  readonly django?: DjangoVerdict;
}

/** The parsed `tokens-and-keys.json` (only the members the tests read are typed). */
export interface DjangoFixtures {
  readonly secrets: {
    readonly default: string;
    readonly other: string;
    readonly short: string;
    readonly binary_b64: string;
    readonly rs256_public_pem: string;
    readonly rs256_private_pem: string;
  };
  readonly users: Readonly<Record<'alice' | 'bob' | 'carol', number>>;
  readonly apikeys: Readonly<Record<string, ApiKeyFixture & Record<string, unknown>>>;
  readonly hs256: Record<string, unknown> & {
    readonly access: string;
    readonly refresh: string;
    readonly refreshed_access: string;
    readonly bob_access: string;
    readonly carol_access: string;
    readonly expiring_access: string;
    readonly other_secret_access: string;
    readonly django: Readonly<Record<string, DjangoVerdict>>;
    readonly allauth: { readonly access: string; readonly refresh: string } & Readonly<
      Record<string, unknown>
    >;
  };
  readonly short: { readonly access: string; readonly django: DjangoVerdict };
  readonly binary: { readonly access: string; readonly django: DjangoVerdict };
  readonly rs256: Record<string, unknown> & {
    readonly access: string;
    readonly refresh: string;
    readonly bob_access: string;
    readonly rotated_access: string;
    readonly rotated_refresh: string;
    readonly expiring_access: string;
    readonly django: Readonly<Record<string, DjangoVerdict>>;
  };
}

/** Reads the fixtures (only call when `FIXTURES_PRESENT`). */
export function loadFixtures(): DjangoFixtures {
  return JSON.parse(readFileSync(join(FIXTURES_DIR, 'tokens-and-keys.json'), 'utf8')) as DjangoFixtures;
}

/** A private copy of django.sqlite3 (the fixture directory is read-only and shared). */
export function copyDjangoDatabase(): string {
  const dir = mkdtempSync(join(tmpdir(), 'authplane-django-'));
  const path = join(dir, 'django.sqlite3');
  copyFileSync(join(FIXTURES_DIR, 'django.sqlite3'), path);
  return path;
}

/**
 * Every credential string in the fixtures (JWTs and API keys), with its JSON path: the suites check
 * they covered all of them, so a credential added to the fixtures cannot go untested.
 */
export function everyCredential(fixtures: DjangoFixtures): Map<string, string> {
  const found = new Map<string, string>();
  const walk = (value: unknown, path: string) => {
    if (typeof value === 'string') {
      if (path.startsWith('secrets.')) return;
      if (/^eyJ[\w-]*\.[\w-]+\.[\w-]+$/.test(value) || /^[A-Za-z0-9]{8}\.[A-Za-z0-9]{32}$/.test(value)) {
        found.set(path, value);
      }
      return;
    }
    if (value && typeof value === 'object') {
      for (const [k, v] of Object.entries(value)) walk(v, path ? `${path}.${k}` : k);
    }
  };
  walk(fixtures, '');
  return found;
}

/** Inside the lifetime of every fixture access token (they were issued at ~1796219200-1796219218, 300 s). */
export const FIXTURE_NOW_MS = 1_796_219_300_000;
