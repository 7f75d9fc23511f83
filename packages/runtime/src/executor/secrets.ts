import { RuntimeError } from '../errors.js'

export { MASK, maskSecrets } from '@kite/sdk/host'

/** The prefix of environment variables that hold secrets. */
export const SECRET_ENV_PREFIX = 'KITE_SECRET_'

/** Reads secrets and knows every value to mask. */
export interface SecretProvider {
  /** The secret's value; throws SECRET_NOT_FOUND naming the variable to set. */
  get(name: string): string
  /** Every secret value, longest first, for masking. */
  values(): readonly string[]
}

/**
 * Secrets from `KITE_SECRET_<NAME>` environment variables, taken as plain text (unlike Kestra,
 * which expects base64: an environment variable can already hold any text, and plain values are
 * what users of Node tools expect). `secret('github_token')` reads `KITE_SECRET_GITHUB_TOKEN`.
 */
export function createEnvSecrets(env: Record<string, string | undefined>): SecretProvider {
  const secrets = new Map<string, string>()
  for (const [key, value] of Object.entries(env)) {
    if (key.startsWith(SECRET_ENV_PREFIX) && value !== undefined && value !== '') {
      secrets.set(key.slice(SECRET_ENV_PREFIX.length), value)
    }
  }
  const values = [...new Set(secrets.values())].sort((a, b) => b.length - a.length)
  return {
    get(name) {
      const value = secrets.get(name) ?? secrets.get(name.toUpperCase())
      if (value === undefined) {
        throw new RuntimeError(
          `secret "${name}" is not set: set the environment variable ${SECRET_ENV_PREFIX}${name.toUpperCase()}`,
          { code: 'SECRET_NOT_FOUND' },
        )
      }
      return value
    },
    values: () => values,
  }
}
