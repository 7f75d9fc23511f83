import {
  type Document,
  isMap,
  isScalar,
  isSeq,
  LineCounter,
  type Node,
  Parser,
  parseDocument,
  Scalar,
  type YAMLError,
} from 'yaml'

export type PathSegment = string | number

/** A 1-based place in a flow's YAML, the form editors understand (`flow.yml:12:7`). */
export interface Position {
  line: number
  column: number
}

/**
 * Finds places in one flow's YAML: the node at a path (`tasks[2].retry`), or a character inside
 * a string value (where an expression reads an unknown name). The YAML is parsed once.
 */
export interface FlowLocator {
  /** The value at `path` (its key with `atKey`), or the deepest ancestor that exists. */
  at(path: readonly PathSegment[], atKey?: boolean): Position | undefined
  /**
   * The place of a character inside the string at `path`, given by its 1-based line and column
   * in the string's text. Falls back to the value's start when the YAML form does not map one to
   * one (folded scalars, escapes).
   */
  inValue(path: readonly PathSegment[], line: number, column: number): Position | undefined
}

export function createFlowLocator(source: string): FlowLocator {
  const lineCounter = new LineCounter()
  const doc = parseDocument(source, { lineCounter, uniqueKeys: false })
  return createLocator(doc, lineCounter, source)
}

export function createLocator(
  doc: Document,
  lineCounter: LineCounter,
  source: string,
): FlowLocator {
  const position = (offset: number): Position => {
    const { line, col } = lineCounter.linePos(offset)
    return { line, column: col }
  }
  return {
    at(path, atKey = false) {
      const offset = offsetOf(doc, path, atKey).offset
      return offset === undefined ? undefined : position(offset)
    },
    inValue(path, line, column) {
      const found = offsetOf(doc, path, false)
      if (found.offset === undefined) return undefined
      if (!found.exact || !isScalar(found.node) || typeof found.node.value !== 'string') {
        return position(found.offset)
      }
      const inside = offsetInScalar(found.node, source, line, column)
      return position(inside ?? found.offset)
    },
  }
}

/** The 1-based line of the YAML node at `path` (or of its deepest existing ancestor). */
export function lineOf(
  doc: Document,
  lineCounter: LineCounter,
  path: readonly PathSegment[],
  atKey = false,
): number | undefined {
  const { offset } = offsetOf(doc, path, atKey)
  return offset === undefined ? undefined : lineCounter.linePos(offset).line
}

function offsetOf(
  doc: Document,
  path: readonly PathSegment[],
  atKey: boolean,
): { offset: number | undefined; node: unknown; exact: boolean } {
  let node: unknown = doc.contents
  let offset = rangeStart(node)
  for (const [index, segment] of path.entries()) {
    const last = index === path.length - 1
    if (isMap(node)) {
      const pair = node.items.find((item) => isScalar(item.key) && item.key.value === segment)
      if (!pair) return { offset, node, exact: false }
      if (last && atKey)
        return { offset: rangeStart(pair.key) ?? offset, node: pair.key, exact: true }
      node = pair.value
      offset = rangeStart(node) ?? rangeStart(pair.key) ?? offset
    } else if (isSeq(node) && typeof segment === 'number') {
      const item = node.items[segment]
      if (item === undefined) return { offset, node, exact: false }
      node = item
      offset = rangeStart(node) ?? offset
    } else {
      return { offset, node, exact: false }
    }
  }
  return { offset, node, exact: true }
}

/**
 * Maps a place in a string's text to the source, for the forms where characters map one to one:
 * one-line plain and quoted scalars without escapes, and literal block scalars (`|`).
 */
function offsetInScalar(
  node: Scalar,
  source: string,
  line: number,
  column: number,
): number | undefined {
  const range = node.range
  if (!range) return undefined
  const raw = source.slice(range[0], range[1])
  switch (node.type) {
    case Scalar.PLAIN:
      return line === 1 && !raw.includes('\n') ? range[0] + column - 1 : undefined
    case Scalar.QUOTE_DOUBLE:
      return line === 1 && !/[\n\\]/.test(raw) ? range[0] + column : undefined
    case Scalar.QUOTE_SINGLE:
      return line === 1 && !raw.includes('\n') && !raw.slice(1, -1).includes("''")
        ? range[0] + column
        : undefined
    case Scalar.BLOCK_LITERAL: {
      const header = raw.indexOf('\n')
      if (header === -1) return undefined
      const lines = raw.slice(header + 1).split('\n')
      const first = lines.find((text) => text.trim() !== '')
      if (first === undefined) return undefined
      const indent = first.length - first.trimStart().length
      const target = lines[line - 1]
      if (target === undefined || target.length < indent + column - 1) return undefined
      let offset = range[0] + header + 1
      for (const text of lines.slice(0, line - 1)) offset += text.length + 1
      return offset + indent + column - 1
    }
    default:
      return undefined
  }
}

function rangeStart(node: unknown): number | undefined {
  const range = (node as Node | null | undefined)?.range
  return range ? range[0] : undefined
}

/**
 * Where a YAML syntax error starts. For a quote that is never closed, the `yaml` library reports
 * the end of the file; the place that needs fixing is where the quote opened, found in the CST.
 */
export function yamlErrorPosition(
  error: YAMLError,
  source: string,
  lineCounter: LineCounter,
): Position | undefined {
  if (error.code === 'MISSING_CHAR' && /quote/i.test(error.message)) {
    const opened = unclosedQuote(source)
    if (opened !== undefined) {
      const { line, col } = lineCounter.linePos(opened)
      return { line, column: col }
    }
  }
  const start = error.linePos?.[0]
  return start ? { line: start.line, column: start.col } : undefined
}

/** The offset of the first quoted scalar whose closing quote is missing. */
function unclosedQuote(source: string): number | undefined {
  let found: number | undefined
  const visit = (token: unknown): void => {
    if (found !== undefined || typeof token !== 'object' || token === null) return
    if (Array.isArray(token)) {
      for (const item of token) visit(item)
      return
    }
    const {
      type,
      offset,
      source: text,
    } = token as { type?: unknown; offset?: unknown; source?: unknown }
    if (
      (type === 'double-quoted-scalar' || type === 'single-quoted-scalar') &&
      typeof offset === 'number' &&
      typeof text === 'string' &&
      !closes(text)
    ) {
      found = offset
      return
    }
    for (const value of Object.values(token)) visit(value)
  }
  for (const token of new Parser().parse(source)) visit(token)
  return found
}

function closes(text: string): boolean {
  const quote = text[0]
  if (text.length < 2 || text.at(-1) !== quote) return false
  if (quote === "'") return true
  // `"a\"` ends with an escaped quote, not a closing one.
  let backslashes = 0
  for (let index = text.length - 2; index > 0 && text[index] === '\\'; index--) backslashes++
  return backslashes % 2 === 0
}
