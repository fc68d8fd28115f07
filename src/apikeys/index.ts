// `authplane/apikeys`: scoped API keys. Loads no database driver: stores come from `authplane/stores*`.
export {
  API_KEY_PATTERN,
  apiKeyPattern,
  CHECKSUM_LENGTH,
  generateApiKey,
  hashApiKey,
  isValidPrefix,
  KEY_ID_LENGTH,
  type ParsedApiKey,
  parseApiKey,
  SECRET_LENGTH,
} from './format';
export {
  ApiKeyError,
  type ApiKeyInfo,
  type ApiKeys,
  type ApiKeysOptions,
  type ApiKeyVerifyOptions,
  createApiKeys,
  type IssueApiKeyInput,
  type IssuedApiKey,
  type LegacyKeyRefusal,
} from './keys';
