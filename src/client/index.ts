// authplane/client: the token manager of CLIs and desktop tools (browser PKCE or device login, an
// encrypted session file, refresh once across processes). openid-client loads only when a login,
// refresh or logout needs it.
export { CLIENT_ERROR_CODES, ClientError, type ClientErrorCode, isClientError } from './errors';
export { createEncryptedFileStorage, type EncryptedFileStorageOptions } from './file-storage';
export type { BrowserLoginOptions, DeviceCodePrompt, DeviceLoginOptions, LoginOptions } from './flows';
export {
  createTokenManager,
  type LogoutResult,
  type SessionEndedEvent,
  type SessionStatus,
  type TokenManager,
  type TokenManagerOptions,
} from './manager';
export { createMemoryStorage } from './memory-storage';
export { defaultOpen } from './opener';
export type { SessionStorage, SessionUser, StoredSession } from './types';
