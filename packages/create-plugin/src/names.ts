import { basename } from 'node:path'

// These three patterns are copied from @kite/sdk/host (packages/sdk/src/names.ts) so the scaffolder
// has no runtime dependency on the SDK; names.test.ts fails if they drift apart.

/** A plugin group: dotted lower-case segments, at least two, e.g. `kite.http`, `acme.pokemon`. */
export const GROUP_PATTERN =
  /^[a-z][a-z0-9]*(?:[-_][a-z0-9]+)*(?:\.[a-z][a-z0-9]*(?:[-_][a-z0-9]+)*)+$/

/** A task/trigger/condition name: PascalCase, with optional dotted lower-case sub-groups. */
export const NAME_PATTERN = /^(?:[a-z][a-z0-9]*\.)*[A-Z][A-Za-z0-9]*$/

/** An npm package name, scoped or not. */
export const PACKAGE_NAME_PATTERN = /^(?:@[a-z0-9][a-z0-9._~-]*\/)?[a-z0-9][a-z0-9._~-]*$/

/**
 * The first group segment that stands for "no npm scope": an unscoped package `kite-plugin-x`
 * gets the group `community.x`, and the group `community.x` gets the package `kite-plugin-x`.
 */
export const UNSCOPED_GROUP = 'community'

const PREFIX = 'kite-plugin-'
const SEGMENT = /^[a-z][a-z0-9]*(?:[-_][a-z0-9]+)*$/

/** Why `group` is not a valid plugin group, or undefined when it is. */
export function checkGroup(group: string): string | undefined {
  if (GROUP_PATTERN.test(group)) return undefined
  return `group "${group}" is not valid: use two or more dotted lower-case segments, e.g. acme.pokemon`
}

/** Why `name` is not a valid npm package name, or undefined when it is. */
export function checkPackageName(name: string): string | undefined {
  if (PACKAGE_NAME_PATTERN.test(name) && name.length <= 214) return undefined
  return `package name "${name}" is not valid: use lower-case letters, digits and - . _ ~, optionally with a scope, e.g. @acme/kite-plugin-pokemon`
}

/** Why `name` is not a valid task, trigger or condition name, or undefined when it is. */
export function checkTypeName(name: string, what = 'task'): string | undefined {
  if (NAME_PATTERN.test(name)) return undefined
  return `${what} name "${name}" is not valid: use PascalCase, e.g. Fetch (optionally with lower-case sub-groups, e.g. log.Log)`
}

/**
 * The package name a group suggests: `acme.pokemon` → `@acme/kite-plugin-pokemon` (the first
 * segment becomes the npm scope, the rest the name), `community.pokemon` → `kite-plugin-pokemon`.
 */
export function packageNameFromGroup(group: string): string {
  const [first = '', ...rest] = group.split('.')
  const name = `${PREFIX}${rest.join('-')}`
  return first === UNSCOPED_GROUP ? name : `@${first}/${name}`
}

/**
 * The group a package name suggests, or undefined when none can be derived:
 * `@acme/kite-plugin-pokemon` → `acme.pokemon`, `kite-plugin-pokemon` → `community.pokemon`.
 */
export function groupFromPackageName(name: string): string | undefined {
  const scoped = /^@([^/]+)\/(.+)$/.exec(name)
  const scope = scoped ? scoped[1] : UNSCOPED_GROUP
  const bare = scoped ? (scoped[2] as string) : name
  const rest = toSegment(stripPrefix(bare))
  const group = `${toSegment(scope ?? '')}.${rest}`
  return GROUP_PATTERN.test(group) ? group : undefined
}

/**
 * The package name a directory suggests: its base name when it already starts with
 * `kite-plugin-`, else `kite-plugin-<base name>`; undefined when nothing usable is left.
 */
export function packageNameFromDir(dir: string): string | undefined {
  const base = toSegment(basename(dir))
  if (!base) return undefined
  return base.startsWith(PREFIX) ? base : `${PREFIX}${base}`
}

/** The directory a package name suggests: `@acme/kite-plugin-pokemon` → `kite-plugin-pokemon`. */
export function dirFromPackageName(name: string): string {
  return name.replace(/^@[^/]+\//, '')
}

// Names a generated variable may not take: reserved words, and what the generated files import.
const TAKEN = new Set(
  (
    'break case catch class const continue debugger default delete do else enum export extends ' +
    'false finally for function if import in instanceof new null return super switch this throw ' +
    'true try typeof var void while with yield let static implements interface package private ' +
    'protected public await arguments eval undefined ' +
    'z definePlugin defineTask defineTrigger defineCondition plugin runTask pollTrigger ' +
    'testCondition describe expect it'
  ).split(' '),
)

/**
 * The variable and file a type name suggests: `FetchPokemon` → `fetchPokemon` in
 * `fetch-pokemon.ts`. A variable that would be a reserved word or clash with an import gets the
 * kind as suffix (`Delete` → `deleteTask`), and a file that would be `index` becomes `index-task`.
 */
export function identifiersFor(
  typeName: string,
  kind: 'task' | 'trigger' | 'condition' = 'task',
): { variable: string; file: string } {
  const words = typeName
    .split('.')
    .flatMap((part) => part.split(/(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])/))
    .filter(Boolean)
    .map((word) => word.toLowerCase())
  const capitalize = (word: string) => word.charAt(0).toUpperCase() + word.slice(1)
  const camel = words.map((word, index) => (index === 0 ? word : capitalize(word))).join('')
  const file = words.join('-')
  return {
    variable: TAKEN.has(camel) ? `${camel}${capitalize(kind)}` : camel,
    file: file === 'index' ? `index-${kind}` : file,
  }
}

/** A human title from a type name: `FetchPokemon` → `Fetch pokemon`, `log.Log` → `Log`. */
export function titleFor(typeName: string): string {
  const last = typeName.split('.').at(-1) ?? typeName
  const words = last.split(/(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])/)
  return words.map((word, index) => (index === 0 ? word : word.toLowerCase())).join(' ')
}

/** A group's title: `acme.pokemon` → `Pokemon`, `acme.pokemon-cards` → `Pokemon cards`. */
export function titleForGroup(group: string): string {
  const last = group.split('.').at(-1) ?? group
  const text = last.replace(/[-_]+/g, ' ')
  return text.charAt(0).toUpperCase() + text.slice(1)
}

function stripPrefix(name: string): string {
  if (name.startsWith(PREFIX) && name.length > PREFIX.length) return name.slice(PREFIX.length)
  if (name.endsWith('-kite-plugin')) return name.slice(0, -'-kite-plugin'.length)
  return name
}

/** Lower-cases and replaces what a group segment cannot hold, so `My.Plugin` → `my-plugin`. */
function toSegment(text: string): string {
  const segment = text
    .toLowerCase()
    .replace(/[^a-z0-9_-]+/g, '-')
    .replace(/([-_])[-_]+/g, '$1')
    .replace(/^[^a-z]+|[-_]+$/g, '')
  return SEGMENT.test(segment) ? segment : ''
}
