import { existsSync, readdirSync, statSync } from 'node:fs'

/**
 * Why `dir` cannot take a new package, or undefined when it can: it must not exist, or be an
 * empty directory (a `.git` folder alone is fine, so `git init` first works).
 */
export function checkTargetDir(dir: string): string | undefined {
  if (!existsSync(dir)) return undefined
  if (!statSync(dir).isDirectory()) {
    return `${dir} exists and is not a directory: choose another name`
  }
  const entries = readdirSync(dir)
    .filter((entry) => entry !== '.git')
    .sort()
  if (entries.length === 0) return undefined
  const shown = entries.slice(0, 3).join(', ')
  const more = entries.length > 3 ? ` and ${entries.length - 3} more` : ''
  return `${dir} is not empty (${shown}${more}): choose a new directory, or empty this one`
}
