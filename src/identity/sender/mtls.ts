import { createHash, X509Certificate } from 'node:crypto';
import type { RequestLike } from '../types';

/**
 * What a `getCertificate(request)` hook may return for the TLS client certificate of a request: an
 * `X509Certificate`, its DER bytes, a PEM string (also URL-encoded, as nginx's `$ssl_client_escaped_cert`),
 * an RFC 9440 `Client-Cert` value (`:base64-DER:`), or null/undefined when the client sent none.
 *
 * @example
 * ```ts
 * const getCertificate: GetCertificate = (req) => (req as IncomingMessage).socket.getPeerCertificate?.().raw ?? null;
 * ```
 */
export type ClientCertificate = X509Certificate | Uint8Array | string | null | undefined;

/**
 * Reads the client certificate of a request. TLS usually ends at a proxy that forwards the certificate
 * in a header; only trust that header when the proxy strips it from client requests.
 *
 * @example
 * ```ts
 * const getCertificate: GetCertificate = (req) => req.headers instanceof Headers ? req.headers.get('client-cert') : null;
 * ```
 */
export type GetCertificate = (request: RequestLike) => ClientCertificate | Promise<ClientCertificate>;

const MAX_CERT_CHARS = 32 * 1024;

/**
 * The RFC 8705 `x5t#S256` of a client certificate: base64url(SHA-256(DER)); null when there is no
 * certificate or it cannot be parsed.
 *
 * @example
 * ```ts
 * certificateThumbprint(new X509Certificate(pem)); // 'A4DtL2JmUMhAsvJj5tKyn64SqzmuXbMrJa0n761y5v0'
 * ```
 */
export function certificateThumbprint(cert: ClientCertificate): string | null {
  const der = toDer(cert);
  return der ? createHash('sha256').update(der).digest('base64url') : null;
}

function toDer(cert: ClientCertificate): Buffer | null {
  if (cert === null || cert === undefined) return null;
  try {
    if (cert instanceof X509Certificate) return cert.raw;
    if (cert instanceof Uint8Array) return new X509Certificate(cert).raw;
    if (typeof cert !== 'string' || cert.length === 0 || cert.length > MAX_CERT_CHARS) return null;
    let text = cert.trim();
    // RFC 9440 byte sequence: the DER certificate in base64 between colons.
    if (text.startsWith(':') && text.endsWith(':')) {
      return new X509Certificate(Buffer.from(text.slice(1, -1), 'base64')).raw;
    }
    if (text.includes('%')) text = decodeURIComponent(text);
    return new X509Certificate(text).raw;
  } catch {
    return null;
  }
}
