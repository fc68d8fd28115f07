// authplane/auth0: the Auth0 adapter (flag `auth0`), client-credentials tokens and the Management API
// membership hook. Importing this subpath loads the `auth0` SDK (an optional peer dependency); without
// it the import fails with a ConfigError that says `npm install auth0`.
import './sdk';

export {
  AUTH0_PROVIDER_NAME,
  type Auth0Adapter,
  type Auth0AdapterHooks,
  createAuth0Adapter,
} from './adapter';
export { isRetryableAuth0Error, toAuth0Rejection } from './errors';
export { type Auth0Membership, type Auth0MembershipOptions, createAuth0Membership } from './membership';
export {
  type Auth0ServiceTokenOptions,
  type Auth0ServiceTokens,
  createAuth0ServiceTokens,
} from './service-tokens';
