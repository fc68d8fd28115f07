import type { IncomingMessage, ServerResponse } from 'node:http';
import type Provider from 'oidc-provider';
import { loginPage } from './login-page';
import { findUser } from './provider-config';
import type { DevLogger, DevUser } from './types';

function wantsHtml(req: IncomingMessage): boolean {
  return /\btext\/html\b/i.test(req.headers.accept ?? '');
}

interface ConsentDetails {
  missingOIDCScope?: string[];
  missingOIDCClaims?: string[];
  missingResourceScopes?: Record<string, string[]>;
}

/**
 * Headless `GET /interaction/:uid`: signs a user in and grants consent without a page, so tests and
 * scripted demos complete browser and device flows over plain HTTP. The account is, in order: the
 * `login` query parameter of the interaction URL (how a scripted user agent chooses), the request's
 * `login_hint`, or the first seeded user. An unknown user ends the flow with `access_denied`. A browser
 * (`Accept: text/html`) with neither gets the login page listing the seeded users instead.
 *
 * @example
 * ```ts
 * if (req.method === 'GET' && /^\/interaction\/[^/]+$/.test(path)) return headlessInteraction(provider, users, req, res, logger);
 * ```
 */
export async function headlessInteraction(
  provider: Provider,
  users: readonly DevUser[],
  req: IncomingMessage,
  res: ServerResponse,
  logger: DevLogger,
): Promise<void> {
  try {
    const details = await provider.interactionDetails(req, res);
    const { prompt, params } = details;

    if (prompt.name === 'login') {
      const query = new URL(req.url ?? '/', 'http://localhost').searchParams.get('login');
      const hint = query ?? (typeof params.login_hint === 'string' ? params.login_hint : undefined);
      // A browser without a choice gets the page; scripts (no text/html in Accept) keep the headless default.
      if (hint === undefined && wantsHtml(req)) {
        const clientId = typeof params.client_id === 'string' ? params.client_id : undefined;
        res
          .writeHead(200, {
            'content-type': 'text/html; charset=utf-8',
            'cache-control': 'no-store',
            // No form-action: Chromium applies it to the redirects after the submit (to the client).
            'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'",
          })
          .end(loginPage(details.uid, users, clientId));
        return;
      }
      const user = hint === undefined ? users[0] : findUser(users, hint);
      const result = user
        ? { login: { accountId: user.id } }
        : { error: 'access_denied', error_description: 'no such dev user' };
      await provider.interactionFinished(req, res, result, { mergeWithLastSubmission: false });
      return;
    }

    if (prompt.name === 'consent') {
      const accountId = details.session?.accountId;
      const clientId = typeof params.client_id === 'string' ? params.client_id : undefined;
      const grant =
        (details.grantId ? await provider.Grant.find(details.grantId) : undefined) ??
        new provider.Grant({ accountId, clientId });
      // Grant exactly what the request is missing, as a user clicking "allow" would.
      const missing = prompt.details as ConsentDetails;
      if (missing.missingOIDCScope?.length) grant.addOIDCScope(missing.missingOIDCScope.join(' '));
      if (missing.missingOIDCClaims?.length) grant.addOIDCClaims(missing.missingOIDCClaims);
      for (const [resource, scopes] of Object.entries(missing.missingResourceScopes ?? {})) {
        grant.addResourceScope(resource, scopes.join(' '));
      }
      const grantId = await grant.save();
      await provider.interactionFinished(
        req,
        res,
        { consent: { grantId } },
        { mergeWithLastSubmission: true },
      );
      return;
    }

    res.writeHead(501, { 'content-type': 'text/plain' }).end(`unsupported prompt: ${prompt.name}`);
  } catch (err) {
    // Typically SessionNotFound: the interaction cookie is missing or was not sent for this path.
    const name = err instanceof Error ? err.name : 'Error';
    logger.warn?.(`authplane dev issuer: interaction failed (${name})`);
    if (!res.headersSent)
      res.writeHead(400, { 'content-type': 'text/plain' }).end(`interaction failed: ${name}`);
  }
}
