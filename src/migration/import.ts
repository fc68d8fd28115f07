import { AuthplaneError } from '../core/errors';
import type { IdentityLinkStore, NewIdentityLink, NewOrgLink } from '../stores/contracts';
import { StoreError } from '../stores/errors';

/**
 * Formats `importLinks` reads.
 *
 * - `csv`: a header line, then one link per line (RFC 4180 quoting). Columns, in any order:
 *   `type` (optional: `user`, the default, or `org`), `provider`, `external_id` (alias `provider_subject`
 *   or `external_org_id`), `internal_id` (alias `subject` or `org_id`).
 * - `json`: an array of entries, or `{ "links": [...], "orgs": [...] }`. A user entry is
 *   `{ provider, providerSubject, subject }`, an org entry `{ provider, externalOrgId, orgId }`.
 * - `jsonl`: one entry per line.
 *
 * @example
 * ```ts
 * const format: LinkFileFormat = 'csv';
 * ```
 */
export type LinkFileFormat = 'csv' | 'json' | 'jsonl';

/**
 * One problem in an import file: the line (CSV, JSON lines) or 1-based entry number (JSON) and what is
 * wrong. Messages name fields, never values.
 *
 * @example
 * ```ts
 * const issue: LinkImportIssue = { line: 4, message: 'subject is empty' };
 * ```
 */
export interface LinkImportIssue {
  readonly line: number;
  readonly message: string;
}

/**
 * An import refused as a whole (nothing was written): every issue found, in file order.
 *
 * @example
 * ```ts
 * try { await importLinks(store, text, { format: 'csv' }); }
 * catch (e) { if (e instanceof LinkImportError) for (const i of e.issues) console.error(`line ${i.line}: ${i.message}`); }
 * ```
 */
export class LinkImportError extends AuthplaneError {
  readonly issues: readonly LinkImportIssue[];
  constructor(issues: readonly LinkImportIssue[], options?: { cause?: unknown }) {
    const first = issues[0];
    super(
      'link_import_invalid',
      `link import refused: ${issues.length} problem${issues.length === 1 ? '' : 's'}${first ? ` (first: line ${first.line}: ${first.message})` : ''}`,
      options,
    );
    this.issues = Object.freeze([...issues]);
  }
}

/**
 * What an import wrote.
 *
 * @example
 * ```ts
 * const { inserted, unchanged, links, orgs } = await importLinks(store, text, { format: 'json' });
 * ```
 */
export interface LinkFileImportResult {
  readonly links: number;
  readonly orgs: number;
  readonly inserted: number;
  readonly unchanged: number;
}

/**
 * Options of {@link importLinks}.
 *
 * @example
 * ```ts
 * await importLinks(store, text, { format: 'csv', dryRun: true });
 * ```
 */
export interface ImportLinksOptions {
  readonly format: LinkFileFormat;
  /** Validate only; nothing is written (`inserted` and `unchanged` are 0). */
  readonly dryRun?: boolean;
}

/**
 * A parsed, validated link file.
 *
 * @example
 * ```ts
 * const { links, orgs } = parseLinkFile(text, 'csv');
 * ```
 */
export interface ParsedLinkFile {
  readonly links: readonly NewIdentityLink[];
  readonly orgs: readonly NewOrgLink[];
}

const MAX_ID = 512;

/**
 * Parses and validates a link file. Every bad line is reported (not only the first); identical
 * duplicates are merged; two lines that point one identity at different targets are an issue.
 *
 * @throws LinkImportError listing every issue.
 * @example
 * ```ts
 * parseLinkFile('provider,provider_subject,subject\nlegacy,42,usr_42\n', 'csv').links; // [{ provider: 'legacy', … }]
 * ```
 */
export function parseLinkFile(contents: string, format: LinkFileFormat): ParsedLinkFile {
  const issues: LinkImportIssue[] = [];
  const rows: Array<{ line: number; entry: Record<string, unknown> }> = [];
  if (typeof contents !== 'string') throw new LinkImportError([{ line: 0, message: 'the file is not text' }]);
  const text = contents.replace(/^\uFEFF/, '');
  if (format === 'csv') readCsv(text, rows, issues);
  else if (format === 'jsonl') readJsonLines(text, rows, issues);
  else if (format === 'json') readJson(text, rows, issues);
  else throw new LinkImportError([{ line: 0, message: 'format must be csv, json or jsonl' }]);

  const links = new Map<string, { line: number; link: NewIdentityLink }>();
  const orgs = new Map<string, { line: number; link: NewOrgLink }>();
  for (const { line, entry } of rows) {
    const problem = (message: string) => issues.push({ line, message });
    const type =
      entry.type ?? (entry.externalOrgId !== undefined || entry.orgId !== undefined ? 'org' : 'user');
    if (type !== 'user' && type !== 'org') {
      problem('type must be "user" or "org"');
      continue;
    }
    const provider = checkId(entry.provider, 'provider', problem);
    if (type === 'user') {
      const providerSubject = checkId(entry.providerSubject, 'provider_subject', problem);
      const subject = checkId(entry.subject, 'subject', problem);
      if (provider === null || providerSubject === null || subject === null) continue;
      const key = `${provider}\u0000${providerSubject}`;
      const seen = links.get(key);
      if (seen && seen.link.subject !== subject)
        problem(`links the same identity as line ${seen.line} to another subject`);
      else if (!seen) links.set(key, { line, link: { provider, providerSubject, subject } });
    } else {
      const externalOrgId = checkId(entry.externalOrgId, 'external_org_id', problem);
      const orgId = checkId(entry.orgId, 'org_id', problem);
      if (provider === null || externalOrgId === null || orgId === null) continue;
      const key = `${provider}\u0000${externalOrgId}`;
      const seen = orgs.get(key);
      if (seen && seen.link.orgId !== orgId) problem(`maps the same org as line ${seen.line} to another org`);
      else if (!seen) orgs.set(key, { line, link: { provider, externalOrgId, orgId } });
    }
  }
  if (issues.length > 0) throw new LinkImportError(issues.sort((a, b) => a.line - b.line));
  return {
    links: Object.freeze([...links.values()].map((v) => Object.freeze(v.link))),
    orgs: Object.freeze([...orgs.values()].map((v) => Object.freeze(v.link))),
  };
}

/**
 * Bulk-imports identity and org links from a CSV, JSON or JSON-lines file into a link store, all or
 * nothing. Idempotent: re-running the same file inserts nothing. A link that contradicts a stored one is
 * reported with its line, and nothing is written.
 *
 * @throws LinkImportError for invalid lines or conflicts with stored links; `StoreError` when the store fails.
 * @example
 * ```ts
 * const text = await readFile('links.csv', 'utf8');
 * const { inserted, unchanged } = await importLinks(store, text, { format: 'csv' });
 * ```
 */
export async function importLinks(
  store: IdentityLinkStore,
  contents: string,
  options: ImportLinksOptions,
): Promise<LinkFileImportResult> {
  const parsed = parseLinkFile(contents, options.format);
  const counts = { links: parsed.links.length, orgs: parsed.orgs.length };
  if (options.dryRun) return { ...counts, inserted: 0, unchanged: 0 };
  try {
    const result = await store.importLinks({ links: parsed.links, orgs: parsed.orgs });
    return { ...counts, inserted: result.inserted, unchanged: result.unchanged };
  } catch (err) {
    if (!(err instanceof StoreError && err.code === 'store_conflict')) throw err;
    // Only on the error path: find which entries contradict stored links, for a useful report.
    const issues = await conflicts(store, contents, options.format);
    throw new LinkImportError(
      issues.length > 0 ? issues : [{ line: 0, message: 'the import conflicts with stored links' }],
      { cause: err },
    );
  }
}

async function conflicts(
  store: IdentityLinkStore,
  contents: string,
  format: LinkFileFormat,
): Promise<LinkImportIssue[]> {
  const rows: Array<{ line: number; entry: Record<string, unknown> }> = [];
  const text = contents.replace(/^\uFEFF/, '');
  if (format === 'csv') readCsv(text, rows, []);
  else if (format === 'jsonl') readJsonLines(text, rows, []);
  else readJson(text, rows, []);
  const issues: LinkImportIssue[] = [];
  for (const { line, entry } of rows) {
    const provider = String(entry.provider ?? '').trim();
    if (entry.providerSubject !== undefined) {
      const stored = await store.resolve(provider, String(entry.providerSubject).trim());
      if (stored !== null && stored !== String(entry.subject ?? '').trim()) {
        issues.push({ line, message: 'the identity is already linked to another subject' });
      }
    } else if (entry.externalOrgId !== undefined) {
      const stored = await store.resolveOrg(provider, String(entry.externalOrgId).trim());
      if (stored !== null && stored !== String(entry.orgId ?? '').trim()) {
        issues.push({ line, message: 'the org is already mapped to another org' });
      }
    }
  }
  return issues;
}

function checkId(value: unknown, field: string, problem: (message: string) => void): string | null {
  if (value === undefined || value === null) {
    problem(`${field} is missing`);
    return null;
  }
  if (typeof value !== 'string' && typeof value !== 'number') {
    problem(`${field} must be a string`);
    return null;
  }
  const id = String(value).trim();
  if (id === '') problem(`${field} is empty`);
  else if (id.length > MAX_ID) problem(`${field} is longer than ${MAX_ID} characters`);
  // biome-ignore lint/suspicious/noControlCharactersInRegex: rejecting control characters is the point.
  else if (/[\u0000-\u001f\u007f]/.test(id)) problem(`${field} contains control characters`);
  else return id;
  return null;
}

const COLUMN_ALIASES: Readonly<Record<string, string>> = {
  type: 'type',
  provider: 'provider',
  external_id: 'external',
  provider_subject: 'external',
  external_org_id: 'external',
  internal_id: 'internal',
  subject: 'internal',
  org_id: 'internal',
};

function readCsv(
  text: string,
  rows: Array<{ line: number; entry: Record<string, unknown> }>,
  issues: LinkImportIssue[],
): void {
  const records = parseCsv(text, issues);
  const header = records.shift();
  if (!header) {
    issues.push({ line: 1, message: 'the file is empty (a header line is required)' });
    return;
  }
  const columns = header.fields.map((name) => COLUMN_ALIASES[name.trim().toLowerCase()]);
  const unknown = header.fields.filter((_, i) => columns[i] === undefined);
  if (unknown.length > 0) {
    issues.push({
      line: header.line,
      message: `unknown column(s): ${unknown.map((c) => c.slice(0, 40)).join(', ')}; accepted: ${Object.keys(COLUMN_ALIASES).join(', ')}`,
    });
    return;
  }
  for (const needed of ['provider', 'external', 'internal']) {
    if (!columns.includes(needed)) {
      issues.push({
        line: header.line,
        message: `missing column: ${needed === 'provider' ? 'provider' : `${needed}_id`}`,
      });
      return;
    }
  }
  for (const record of records) {
    if (record.fields.length === 1 && record.fields[0]?.trim() === '') continue; // blank line
    if (record.fields.length !== columns.length) {
      issues.push({
        line: record.line,
        message: `expected ${columns.length} fields, found ${record.fields.length}`,
      });
      continue;
    }
    const cell: Record<string, string> = {};
    columns.forEach((column, i) => {
      if (column) cell[column] = record.fields[i] ?? '';
    });
    const type = (cell.type ?? '').trim().toLowerCase() || 'user';
    rows.push({
      line: record.line,
      entry:
        type === 'org'
          ? { type, provider: cell.provider, externalOrgId: cell.external, orgId: cell.internal }
          : { type, provider: cell.provider, providerSubject: cell.external, subject: cell.internal },
    });
  }
}

// RFC 4180: quoted fields may hold commas, quotes (doubled) and line breaks; CRLF or LF line ends.
function parseCsv(text: string, issues: LinkImportIssue[]): Array<{ line: number; fields: string[] }> {
  const records: Array<{ line: number; fields: string[] }> = [];
  let line = 1;
  let start = 1;
  let fields: string[] = [];
  let field = '';
  let quoted = false;
  let i = 0;
  const end = () => {
    fields.push(field);
    records.push({ line: start, fields });
    fields = [];
    field = '';
  };
  while (i < text.length) {
    const c = text[i] as string;
    if (quoted) {
      if (c === '"') {
        if (text[i + 1] === '"') {
          field += '"';
          i += 2;
          continue;
        }
        quoted = false;
      } else {
        if (c === '\n') line++;
        field += c;
      }
      i++;
      continue;
    }
    if (c === '"' && field === '') quoted = true;
    else if (c === ',') {
      fields.push(field);
      field = '';
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      end();
      line++;
      start = line;
    } else field += c;
    i++;
  }
  if (quoted) issues.push({ line: start, message: 'unterminated quoted field' });
  if (field !== '' || fields.length > 0) end();
  return records;
}

function readJsonLines(
  text: string,
  rows: Array<{ line: number; entry: Record<string, unknown> }>,
  issues: LinkImportIssue[],
): void {
  text.split(/\r?\n/).forEach((raw, index) => {
    if (raw.trim() === '') return;
    let value: unknown;
    try {
      value = JSON.parse(raw);
    } catch {
      issues.push({ line: index + 1, message: 'not valid JSON' });
      return;
    }
    pushEntry(value, index + 1, rows, issues);
  });
}

function readJson(
  text: string,
  rows: Array<{ line: number; entry: Record<string, unknown> }>,
  issues: LinkImportIssue[],
): void {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    issues.push({ line: 1, message: 'not valid JSON' });
    return;
  }
  if (Array.isArray(value)) {
    for (const [i, entry] of value.entries()) pushEntry(entry, i + 1, rows, issues);
    return;
  }
  if (value && typeof value === 'object') {
    const { links, orgs, ...rest } = value as Record<string, unknown>;
    if (
      Object.keys(rest).length > 0 ||
      (links !== undefined && !Array.isArray(links)) ||
      (orgs !== undefined && !Array.isArray(orgs))
    ) {
      issues.push({ line: 1, message: 'expected an array, or an object with "links" and/or "orgs" arrays' });
      return;
    }
    let n = 0;
    for (const entry of (links as unknown[] | undefined) ?? []) pushEntry(entry, ++n, rows, issues, 'user');
    for (const entry of (orgs as unknown[] | undefined) ?? []) pushEntry(entry, ++n, rows, issues, 'org');
    return;
  }
  issues.push({ line: 1, message: 'expected an array, or an object with "links" and/or "orgs" arrays' });
}

const USER_FIELDS = new Set(['type', 'provider', 'providerSubject', 'subject']);
const ORG_FIELDS = new Set(['type', 'provider', 'externalOrgId', 'orgId']);

function pushEntry(
  value: unknown,
  line: number,
  rows: Array<{ line: number; entry: Record<string, unknown> }>,
  issues: LinkImportIssue[],
  type?: 'user' | 'org',
): void {
  if (!value || typeof value !== 'object' || Array.isArray(value)) {
    issues.push({ line, message: 'expected an object' });
    return;
  }
  const entry = { ...(value as Record<string, unknown>) };
  if (type !== undefined) entry.type ??= type;
  const isOrg =
    entry.type === 'org' || (entry.type === undefined && ('externalOrgId' in entry || 'orgId' in entry));
  const allowed = isOrg ? ORG_FIELDS : USER_FIELDS;
  const extra = Object.keys(entry).filter((k) => !allowed.has(k));
  if (extra.length > 0) {
    issues.push({ line, message: `unknown field(s): ${extra.map((k) => k.slice(0, 40)).join(', ')}` });
    return;
  }
  rows.push({ line, entry });
}
