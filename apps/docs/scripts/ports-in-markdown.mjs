/**
 * The docs' Markdown writes ports as `{{ports.registry}}`, `{{ports.runtime}}` and
 * `{{ports.docs}}`; this fills them in from scripts/ports.mjs (the defaults `npm start` uses)
 * before markdown-it parses a page, so code blocks, inline code, links and text all get the
 * number, and the docs cannot disagree with `npm start`. apps/docs/test/ports.test.ts fails if a
 * port is written as a literal again.
 */
import { DEFAULT_PORTS } from '../../../scripts/ports.mjs'

/** `{{ports.NAME}}`, spaces allowed inside the braces. */
const PLACEHOLDER = /\{\{\s*ports\.([^\s}]*)\s*\}\}/g

/**
 * Replaces every `{{ports.NAME}}` in `source`. An unknown NAME is an error naming the page (so a
 * typo fails the build instead of printing a wrong URL).
 */
export function fillPorts(source, ports = DEFAULT_PORTS, where = 'a page') {
  return source.replace(PLACEHOLDER, (placeholder, name) => {
    if (!Object.hasOwn(ports, name)) {
      const known = Object.keys(ports)
        .map((key) => `{{ports.${key}}}`)
        .join(', ')
      throw new Error(`${where}: unknown port placeholder ${placeholder} (known: ${known})`)
    }
    return String(ports[name])
  })
}

/** markdown-it plugin: fills the port placeholders of each page before it is parsed. */
export function portsInMarkdown(md, ports = DEFAULT_PORTS) {
  md.core.ruler.before('normalize', 'kite-ports', (state) => {
    state.src = fillPorts(state.src, ports, state.env?.relativePath ?? 'a page')
  })
}
