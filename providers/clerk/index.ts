// authplane/clerk: the Clerk adapter (flag `clerk`) and the Backend API membership hook. Importing this
// subpath loads `@clerk/backend` (an optional peer dependency).
export {
  CLERK_PROVIDER_NAME,
  type ClerkAdapter,
  type ClerkAdapterHooks,
  createClerkAdapter,
} from './adapter';
export { clerkClaimsToPrincipal } from './claims';
export { CLERK_TOKEN_REASONS, ClerkHttpError, isRetryableClerkError, toClerkRejection } from './errors';
export {
  type ClerkMembership,
  type ClerkMembershipOptions,
  type ClerkOrgMembership,
  createClerkMembership,
} from './membership';
