/** Junction's local OAuth 2.0 authorization server: client credentials, signed JWT access tokens, JWKS, key rotation. */
export {
  type AuthConfig,
  type ClientConfig,
  DEFAULT_KEY_ACTIVATION_DELAY_SECONDS,
  loadAuthConfig,
  parseAuthConfig,
  type SecretSource,
  SIGNING_ALGORITHMS,
  type SigningAlgorithm,
} from './config.ts';
export {
  CLOCK_SKEW_SECONDS,
  type DescribedKey,
  describeKeys,
  KEY_FILE_NAME,
  type KeyFile,
  type KeyState,
  keyFilePath,
  nextActivation,
  readKeyFile,
  retireKeyFile,
  rotateKeyFile,
  type StoredKey,
  signingKey,
} from './keys.ts';
export { generatedSecretFile, resolveClientSecrets } from './secrets.ts';
export { type AuthServer, type AuthServerOptions, startAuthServer } from './server.ts';
