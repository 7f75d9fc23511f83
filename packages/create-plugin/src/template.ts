import { readdir, readFile } from 'node:fs/promises'
import { join, relative, sep } from 'node:path'
import { fileURLToPath } from 'node:url'
import { ScaffoldError } from './errors.js'

/**
 * The template: real files under `packages/create-plugin/template/`, shipped in the package.
 * (`../template` from `src/` in tests and from `dist/` once built: both sit one level down.)
 *
 * The rules, kept few so the template stays readable:
 * - `__UPPER_CASE__` is a placeholder. In `.ts` files values are escaped for single-quoted
 *   strings. A file whose path holds a placeholder with no value is not written (that is how
 *   the trigger and condition files drop out), and a placeholder with no value in a written
 *   file's text is an error.
 * - A line ending in a comment `#if flag` (or `#if !flag`) is kept only when the flag is on
 *   (off); a line that is only such a comment opens a block that a `#endif` comment line closes.
 *   The markers themselves are never written.
 * - `gitignore` and `npmrc` become `.gitignore` and `.npmrc` (npm leaves dotfiles like these out
 *   of published packages), and `.tmpl` before the extension is dropped (`x.test.tmpl.ts` →
 *   `x.test.ts`, so the monorepo's own test run does not pick up template tests).
 */
export const TEMPLATE_DIR = fileURLToPath(new URL('../template/', import.meta.url))

export interface TemplateInput {
  /** Placeholder values, keyed without the underscores: `{ GROUP: 'acme.pokemon' }`. */
  values: Record<string, string | undefined>
  /** Flags for `#if` lines and blocks. */
  flags: Record<string, boolean>
}

export interface RenderedFile {
  /** Path relative to the package root, with `/` separators. */
  path: string
  text: string
}

const PLACEHOLDER = /__([A-Z][A-Z0-9_]*[A-Z0-9])__/g
const MARKER = /(?:\/\/|#|<!--)\s*#(if|endif)\b\s*(!?)([A-Za-z]\w*)?\s*(?:-->)?\s*$/
const DOTFILES: Record<string, string> = { gitignore: '.gitignore', npmrc: '.npmrc' }

/** Reads every template file and renders the ones the input selects. */
export async function renderTemplateDir(
  input: TemplateInput,
  dir: string = TEMPLATE_DIR,
): Promise<RenderedFile[]> {
  const files: RenderedFile[] = []
  for (const source of await listFiles(dir)) {
    const path = outputPath(source, input)
    if (path === undefined) continue
    const text = await readFile(join(dir, source), 'utf8')
    files.push({
      path,
      text: renderTemplate(text, input, { file: source, escape: escaperFor(path) }),
    })
  }
  return files
}

/**
 * Where a template file is written, or undefined when it is left out because its path names a
 * placeholder without a value.
 */
export function outputPath(source: string, input: TemplateInput): string | undefined {
  const parts = source.split('/')
  const last = parts.pop() ?? ''
  parts.push(DOTFILES[last] ?? last.replace(/\.tmpl(?=\.[^.]+$)/, ''))
  let missing = false
  const path = parts.join('/').replace(PLACEHOLDER, (_, key: string) => {
    const value = input.values[key]
    if (value === undefined) missing = true
    return value ?? ''
  })
  return missing ? undefined : path
}

/** Renders one template text: `#if` lines and blocks first, then placeholders. */
export function renderTemplate(
  text: string,
  input: TemplateInput,
  options: { file?: string; escape?: (value: string) => string } = {},
): string {
  const where = options.file ?? 'template'
  const kept: string[] = []
  const stack: boolean[] = []
  text.split('\n').forEach((line, index) => {
    const marker = MARKER.exec(line)
    const active = stack.every(Boolean)
    if (!marker) {
      if (active) kept.push(line)
      return
    }
    const [, keyword, negated, flag] = marker
    const alone = line.slice(0, marker.index).trim() === ''
    if (keyword === 'endif') {
      if (!alone || stack.pop() === undefined) {
        throw templateError(`${where}:${index + 1}: #endif without #if`)
      }
      return
    }
    if (!flag || !(flag in input.flags)) {
      throw templateError(`${where}:${index + 1}: #if needs a known flag, got "${flag ?? ''}"`)
    }
    const on = input.flags[flag] === (negated !== '!')
    if (alone) stack.push(on)
    else if (active && on) kept.push(line.slice(0, marker.index).trimEnd())
  })
  if (stack.length > 0) throw templateError(`${where}: #if without #endif`)
  const escapeValue = options.escape ?? ((value: string) => value)
  return kept.join('\n').replace(PLACEHOLDER, (_, key: string) => {
    const value = input.values[key]
    if (value === undefined) throw templateError(`${where}: placeholder __${key}__ has no value`)
    return escapeValue(value)
  })
}

/** Values in `.ts` templates sit inside single-quoted strings (or are checked identifiers). */
function escaperFor(path: string): ((value: string) => string) | undefined {
  if (!path.endsWith('.ts')) return undefined
  return (value) => value.replace(/\\/g, '\\\\').replace(/'/g, "\\'").replace(/\r?\n/g, '\\n')
}

async function listFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true })
  return entries
    .filter((entry) => entry.isFile())
    .map((entry) => relative(dir, join(entry.parentPath, entry.name)).split(sep).join('/'))
    .sort()
}

function templateError(message: string): ScaffoldError {
  return new ScaffoldError(`broken template: ${message}`, {
    code: 'TEMPLATE_INVALID',
    kind: 'internal',
  })
}
