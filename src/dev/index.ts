// authplane/dev: a local OIDC issuer for development, demos and tests. NOT FOR PRODUCTION.
// oidc-provider is an optional peer dependency, loaded only when startDevIssuer runs.
export { DEFAULT_DEV_USERS, startDevIssuer } from './issuer';
export {
  DEV_SIGNING_ALGORITHMS,
  type DevCliClient,
  type DevClients,
  type DevIssuer,
  type DevIssuerOptions,
  type DevIssuerStats,
  type DevLogger,
  type DevServiceClient,
  type DevSigningAlgorithm,
  type DevUser,
  type DevWebClient,
} from './types';
