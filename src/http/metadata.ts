// The framework-neutral part of every adapter's `resourceMetadata(plane, options)`: which path is
// served and what each method gets. Each adapter only reads its request and writes its response.
import type { ResourceMetadataOptions } from '../identity/resource-metadata';
import { resourceMetadataPath } from '../identity/resource-metadata';
import type { IdentityPlane } from '../identity/types';

/**
 * Options of the framework subpaths' `resourceMetadata(plane, options)`: the RFC 9728 fields (they
 * override the plane's `resourceMetadata` configuration) and where the document is served.
 *
 * @example
 * ```ts
 * app.use(resourceMetadata(plane, { resource: 'https://api.example/mcp', path: '/.well-known/oauth-protected-resource/mcp' }));
 * ```
 */
export interface ResourceMetadataHandlerOptions extends ResourceMetadataOptions {
  /**
   * The local path served. Default: the path-aware well-known path of `resource`
   * (`/.well-known/oauth-protected-resource{/path}`). Set it when a proxy rewrites paths.
   */
  readonly path?: string;
  /** `Cache-Control: max-age` of the document in seconds. Default 300. */
  readonly maxAgeSec?: number;
}

/** One answer of the metadata endpoint. @internal */
export interface MetadataAnswer {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}

/** What an adapter needs: the path it serves and the answer per method. @internal */
export interface MetadataEndpoint {
  readonly path: string;
  answer(method: string): MetadataAnswer;
}

/**
 * Builds the document once (so a bad configuration fails at start-up, not at the first client) and
 * the answers of its endpoint: GET/HEAD the JSON, OPTIONS a CORS preflight (browser-based MCP clients
 * fetch it cross-origin with an `MCP-Protocol-Version` header), anything else 405.
 *
 * @internal
 * @example
 * ```ts
 * const endpoint = metadataEndpoint(plane, options);
 * if (path === endpoint.path) { const { status, headers, body } = endpoint.answer(method); }
 * ```
 */
export function metadataEndpoint(
  plane: IdentityPlane,
  options: ResourceMetadataHandlerOptions = {},
): MetadataEndpoint {
  if (!plane || typeof plane.resourceMetadata !== 'function') {
    throw new TypeError('resourceMetadata: the first argument must be an IdentityPlane');
  }
  const { path, maxAgeSec = 300, ...fields } = options;
  if (!Number.isSafeInteger(maxAgeSec) || maxAgeSec < 0) {
    throw new TypeError('resourceMetadata: maxAgeSec must be a non-negative integer');
  }
  const doc = plane.resourceMetadata(fields);
  const served = path ?? resourceMetadataPath(doc.resource);
  if (typeof served !== 'string' || !served.startsWith('/')) {
    throw new TypeError('resourceMetadata: path must start with /');
  }
  const cors = {
    'access-control-allow-origin': '*',
    'access-control-allow-methods': 'GET, HEAD, OPTIONS',
    'access-control-allow-headers': '*',
  };
  const ok: MetadataAnswer = Object.freeze({
    status: 200,
    headers: Object.freeze({
      'content-type': 'application/json',
      'cache-control': `public, max-age=${maxAgeSec}`,
      ...cors,
    }),
    body: JSON.stringify(doc),
  });
  const head: MetadataAnswer = Object.freeze({ ...ok, body: '' });
  const preflight: MetadataAnswer = Object.freeze({ status: 204, headers: Object.freeze(cors), body: '' });
  const refused: MetadataAnswer = Object.freeze({
    status: 405,
    headers: Object.freeze({ allow: 'GET, HEAD, OPTIONS', 'content-type': 'application/json' }),
    body: JSON.stringify({ error: 'method_not_allowed' }),
  });
  return Object.freeze({
    path: served,
    answer(method: string): MetadataAnswer {
      if (method === 'GET') return ok;
      if (method === 'HEAD') return head;
      if (method === 'OPTIONS') return preflight;
      return refused;
    },
  });
}

/**
 * The path of a request URL without its query (`/a/b?x=1` → `/a/b`).
 *
 * @internal
 * @example
 * ```ts
 * pathOf('/.well-known/oauth-protected-resource?x=1'); // '/.well-known/oauth-protected-resource'
 * ```
 */
export function pathOf(url: string | undefined): string {
  const value = url ?? '/';
  const q = value.indexOf('?');
  return q === -1 ? value : value.slice(0, q);
}
