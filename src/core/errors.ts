/**
 * Base of every error authplane throws. Thrown errors are for programmer and configuration
 * mistakes; a bad credential is never thrown, it is an `AuthResult`.
 *
 * @example
 * ```ts
 * try { await createIdentityPlane(config); } catch (e) { if (e instanceof AuthplaneError) console.error(e.code); }
 * ```
 */
export class AuthplaneError extends Error {
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/**
 * A configuration field is missing or wrong. `path` names the field (`jwks.cooldownSec`, `audience`).
 *
 * @example
 * ```ts
 * throw new ConfigError('issuer', 'must be an https URL');
 * ```
 */
export class ConfigError extends AuthplaneError {
  readonly path: string;
  constructor(path: string, message: string, options?: { cause?: unknown }) {
    super('config_invalid', path ? `${path}: ${message}` : message, options);
    this.path = path;
  }
}
