// RFC 9728 OAuth 2.0 Protected Resource Metadata: the document a resource server publishes so that a
// client (an MCP client, an agent) can find which authorization server issues tokens for it.
import { ConfigError } from '../core/errors';

/**
 * The RFC 9728 §2 document, as served at `/.well-known/oauth-protected-resource{/path}`. Field names
 * are the RFC's; absent fields are omitted, never `null`.
 *
 * @example
 * ```ts
 * const doc: ProtectedResourceMetadata = plane.resourceMetadata();
 * doc.authorization_servers; // ['https://id.example']
 * ```
 */
export interface ProtectedResourceMetadata {
  /** The resource identifier: the URL clients use, and the `resource` they ask tokens for (RFC 8707). */
  readonly resource: string;
  /** Issuers (RFC 8414 identifiers) whose access tokens this resource accepts. */
  readonly authorization_servers?: readonly string[];
  readonly scopes_supported?: readonly string[];
  /** How the access token may be presented: always `['header']` (query and body tokens are refused). */
  readonly bearer_methods_supported: readonly string[];
  readonly resource_name?: string;
  readonly resource_documentation?: string;
  readonly resource_policy_uri?: string;
  readonly resource_tos_uri?: string;
  /** RFC 9449: the DPoP proof algorithms accepted, when DPoP is configured. */
  readonly dpop_signing_alg_values_supported?: readonly string[];
  /** RFC 9449: true when every access token must be DPoP-bound. */
  readonly dpop_bound_access_tokens_required?: boolean;
}

/**
 * What `plane.resourceMetadata(options)` and the framework handlers accept; the same fields as the
 * plane option `resourceMetadata`, which gives their defaults. Options win over the plane's
 * configuration, field by field.
 *
 * @example
 * ```ts
 * plane.resourceMetadata({ resource: 'https://api.example/mcp', scopesSupported: ['read', 'write'] });
 * ```
 */
export interface ResourceMetadataOptions {
  /**
   * The URL clients use to reach the resource (behind a proxy: the public one). Default: the
   * configured `audience` when it is a single http(s) URL.
   */
  readonly resource?: string;
  /** Issuers to advertise instead of the ones derived from the provider configuration. */
  readonly authorizationServers?: readonly string[];
  readonly scopesSupported?: readonly string[];
  readonly resourceName?: string;
  readonly resourceDocumentation?: string;
  readonly resourcePolicyUri?: string;
  readonly resourceTosUri?: string;
}

/**
 * What a provider configuration says about the resource server: the issuers it trusts and the
 * audiences it accepts. Built by `createIdentityPlane`; `createPlane` callers may pass their own.
 *
 * @example
 * ```ts
 * const description: ResourceDescription = { authorizationServers: ['https://id.example'], audiences: ['https://api.example'] };
 * ```
 */
export interface ResourceDescription {
  readonly authorizationServers: readonly string[];
  /** The configured audiences; `[]` when the provider checks none (legacy without `audience`, Clerk). */
  readonly audiences: readonly string[];
  /** Present when DPoP is configured on the plane. */
  readonly dpop?: { readonly algorithms: readonly string[]; readonly required: boolean };
}

/** The well-known prefix of RFC 9728 §3. */
export const RESOURCE_METADATA_PREFIX = '/.well-known/oauth-protected-resource';

const FIELDS = [
  ['resourceName', 'resource_name'],
  ['resourceDocumentation', 'resource_documentation'],
  ['resourcePolicyUri', 'resource_policy_uri'],
  ['resourceTosUri', 'resource_tos_uri'],
] as const;

/**
 * Builds the RFC 9728 document from a resource description, the configured defaults and per-call
 * options.
 *
 * @internal Used by `plane.resourceMetadata`.
 * @throws ConfigError when no resource URL can be determined or a URL is not absolute http(s).
 * @example
 * ```ts
 * buildResourceMetadata({ authorizationServers: [issuer], audiences: [api] }, {}, {});
 * ```
 */
export function buildResourceMetadata(
  description: ResourceDescription | undefined,
  defaults: ResourceMetadataOptions,
  options: ResourceMetadataOptions = {},
): ProtectedResourceMetadata {
  if (!options || typeof options !== 'object') {
    throw new TypeError('resourceMetadata: options must be an object');
  }
  const pick = <K extends keyof ResourceMetadataOptions>(key: K): ResourceMetadataOptions[K] =>
    options[key] ?? defaults[key];
  const resource = pick('resource') ?? defaultResource(description);
  if (resource === undefined) {
    throw new ConfigError(
      'resourceMetadata.resource',
      'is required: the audience is not a single http(s) URL, so name the URL clients use',
    );
  }
  checkResource(resource);
  const servers = pick('authorizationServers') ?? description?.authorizationServers ?? [];
  for (const server of servers) checkUrl('resourceMetadata.authorizationServers', server);
  const doc: Record<string, unknown> = { resource };
  if (servers.length > 0) doc.authorization_servers = Object.freeze([...new Set(servers)]);
  const scopes = pick('scopesSupported');
  if (scopes && scopes.length > 0) doc.scopes_supported = Object.freeze([...scopes]);
  doc.bearer_methods_supported = Object.freeze(['header']);
  for (const [key, field] of FIELDS) {
    const value = pick(key);
    if (value === undefined) continue;
    if (key !== 'resourceName') checkUrl(`resourceMetadata.${key}`, value);
    doc[field] = value;
  }
  if (description?.dpop) {
    doc.dpop_signing_alg_values_supported = Object.freeze([...description.dpop.algorithms]);
    if (description.dpop.required) doc.dpop_bound_access_tokens_required = true;
  }
  return Object.freeze(doc) as unknown as ProtectedResourceMetadata;
}

/**
 * The path-aware well-known path of a resource (RFC 9728 §3.1): the resource's path is appended to
 * the prefix, so `https://api.example/mcp` publishes at `/.well-known/oauth-protected-resource/mcp`.
 *
 * @example
 * ```ts
 * resourceMetadataPath('https://api.example/mcp'); // '/.well-known/oauth-protected-resource/mcp'
 * resourceMetadataPath('https://api.example');     // '/.well-known/oauth-protected-resource'
 * ```
 */
export function resourceMetadataPath(resource: string): string {
  const { pathname } = new URL(resource);
  const path = pathname === '/' ? '' : pathname.replace(/\/$/, '');
  return `${RESOURCE_METADATA_PREFIX}${path}`;
}

/**
 * The absolute URL of the metadata document of a resource: what `resourceMetadataUrl` should be.
 *
 * @example
 * ```ts
 * resourceMetadataUrlFor('https://api.example/mcp'); // 'https://api.example/.well-known/oauth-protected-resource/mcp'
 * ```
 */
export function resourceMetadataUrlFor(resource: string): string {
  checkResource(resource);
  return new URL(resourceMetadataPath(resource), resource).href;
}

function defaultResource(description: ResourceDescription | undefined): string | undefined {
  const audiences = description?.audiences ?? [];
  const only = audiences.length === 1 ? audiences[0] : undefined;
  return only !== undefined && /^https?:\/\//i.test(only) && URL.canParse(only) ? only : undefined;
}

function checkResource(resource: string): void {
  checkUrl('resourceMetadata.resource', resource);
  // RFC 9728 §1.2: a resource identifier has no fragment.
  if (resource.includes('#')) throw new ConfigError('resourceMetadata.resource', 'must not have a fragment');
}

function checkUrl(path: string, value: unknown): void {
  if (typeof value !== 'string' || !/^https?:\/\//i.test(value) || !URL.canParse(value)) {
    throw new ConfigError(path, 'must be an absolute http(s) URL');
  }
}
