import type * as Auth0Sdk from 'auth0';
import { requireVendorSdk } from '../shared/vendor-sdk';

/**
 * The `auth0` SDK, loaded once for every file of this adapter; a clear "npm install auth0" error when
 * it is not installed.
 *
 * @example
 * ```ts
 * const client = new auth0.ManagementClient({ domain, clientId, clientSecret });
 * ```
 */
export const auth0: typeof Auth0Sdk = requireVendorSdk<typeof Auth0Sdk>('auth0', 'authplane/auth0');
