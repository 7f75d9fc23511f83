/** What a secret's value is replaced with in logs and outputs shown to people. */
export const MASK = '******'

/**
 * Replaces every occurrence of the given secret values with `******`. Longer values are masked
 * first, so a secret that contains another is hidden whole; empty values are ignored.
 */
export function maskSecrets(text: string, values: readonly string[]): string {
  let masked = text
  for (const value of longestFirst(values)) {
    if (masked.includes(value)) masked = masked.replaceAll(value, MASK)
  }
  return masked
}

/** The masking function of a fixed set of secret values (sorted once, for every log line). */
export function createSecretMasker(values: readonly string[]): (text: string) => string {
  const sorted = longestFirst(values)
  if (sorted.length === 0) return (text) => text
  return (text) => maskSecrets(text, sorted)
}

function longestFirst(values: readonly string[]): string[] {
  return [...new Set(values)]
    .filter((value) => value.length > 0)
    .sort((a, b) => b.length - a.length)
}
