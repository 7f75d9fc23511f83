import { KiteError } from '@kite/sdk'

/**
 * Reads the text an expression rendered to as a boolean: `true` or `false` (any case, spaces
 * around ignored); empty text (an expression giving null) is false. Anything else is an error
 * naming `what`, because a typo must not silently count as false.
 */
export function renderedBoolean(text: string, what: string): boolean {
  const value = text.trim().toLowerCase()
  if (value === 'true') return true
  if (value === 'false' || value === '') return false
  const shown = text.length > 80 ? `${text.slice(0, 80)}…` : text
  throw new KiteError(`${what} rendered to "${shown}", not true or false`, {
    code: 'NOT_A_BOOLEAN',
    kind: 'user',
  })
}
