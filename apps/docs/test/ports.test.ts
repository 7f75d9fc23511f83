import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import fc from 'fast-check'
import MarkdownIt from 'markdown-it'
import { describe, expect, it } from 'vitest'
import { DEFAULT_PORTS } from '../../../scripts/ports.mjs'
import { fillPorts, portsInMarkdown } from '../scripts/ports-in-markdown.mjs'

const docsDir = resolve(import.meta.dirname, '..')

/** The hand-written Markdown of the docs (what git tracks; generated pages are gitignored). */
function trackedMarkdown(): string[] {
  return execFileSync('git', ['ls-files', '-z', 'src'], { cwd: docsDir, encoding: 'utf8' })
    .split('\0')
    .filter((file) => file.endsWith('.md'))
}

describe('ports in the docs', () => {
  it('writes no default port as a literal in any Markdown page', () => {
    const files = trackedMarkdown()
    expect(files.length).toBeGreaterThan(10)
    const literal = new RegExp(`\\b(${Object.values(DEFAULT_PORTS).join('|')})\\b`)
    const offenders = files.flatMap((file) =>
      readFileSync(join(docsDir, file), 'utf8')
        .split('\n')
        .flatMap((line, index) => (literal.test(line) ? [`${file}:${index + 1}: ${line}`] : [])),
    )
    expect(offenders, 'write {{ports.registry}}, {{ports.runtime}} or {{ports.docs}}').toEqual([])
  })

  it('uses only placeholders that name a port, and does use them', () => {
    const used = new Set<string>()
    for (const file of trackedMarkdown()) {
      const text = readFileSync(join(docsDir, file), 'utf8')
      for (const match of text.matchAll(/\{\{\s*ports\.([^\s}]*)\s*\}\}/g)) used.add(match[1] ?? '')
      expect(() => fillPorts(text, DEFAULT_PORTS, file)).not.toThrow()
    }
    expect([...used].sort()).toEqual(Object.keys(DEFAULT_PORTS).sort())
  })

  it('fills them in text, inline code, code blocks and links when the site renders a page', async () => {
    const { default: config } = await import('../.vitepress/config.mts')
    const md = new MarkdownIt()
    config.markdown?.config?.(md as never)
    const html = md.render(
      [
        'Open http://127.0.0.1:{{ports.registry}}/-/kite/ and `--port {{ ports.runtime }}`.',
        '',
        '```sh',
        'curl http://127.0.0.1:{{ports.runtime}}/api/v1/health',
        '```',
        '',
        '[docs](http://127.0.0.1:{{ports.docs}}/)',
      ].join('\n'),
      { relativePath: 'test.md' },
    )
    expect(html).toContain(`http://127.0.0.1:${DEFAULT_PORTS.registry}/-/kite/`)
    expect(html).toContain(`--port ${DEFAULT_PORTS.runtime}</code>`)
    expect(html).toContain(`curl http://127.0.0.1:${DEFAULT_PORTS.runtime}/api/v1/health`)
    expect(html).toContain(`href="http://127.0.0.1:${DEFAULT_PORTS.docs}/"`)
    expect(html).not.toContain('ports.')
  })

  it('takes the numbers from what it is given (scripts/ports.mjs by default)', () => {
    const md = new MarkdownIt()
    portsInMarkdown(md, { registry: 1111, runtime: 2222, docs: 3333 })
    expect(md.render('{{ports.registry}} {{ports.runtime}} {{ports.docs}}')).toBe(
      '<p>1111 2222 3333</p>\n',
    )
  })

  it('refuses an unknown placeholder, naming the page and the known ones', () => {
    const md = new MarkdownIt()
    portsInMarkdown(md)
    expect(() => md.render('see {{ports.regsitry}}', { relativePath: 'guide/x.md' })).toThrow(
      'guide/x.md: unknown port placeholder {{ports.regsitry}} (known: {{ports.registry}}, {{ports.runtime}}, {{ports.docs}})',
    )
    expect(() => fillPorts('{{ports.}}')).toThrow(/unknown port placeholder \{\{ports\.\}\}/)
    expect(() => fillPorts('{{ports.toString}}')).toThrow(/unknown port placeholder/)
  })

  it('changes nothing but the placeholders (property)', () => {
    const names = Object.keys(DEFAULT_PORTS) as Array<keyof typeof DEFAULT_PORTS>
    // Text without `{` cannot form a placeholder, even joined with the pieces around it.
    const text = fc.string().map((s) => s.replaceAll('{', '('))
    const piece = fc.oneof(
      text.map((s) => ({ source: s, expected: s })),
      fc.constantFrom(...names).map((name) => ({
        source: `{{ports.${name}}}`,
        expected: String(DEFAULT_PORTS[name]),
      })),
    )
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 12 }), (pieces) => {
        const source = pieces.map((p) => p.source).join('')
        expect(fillPorts(source)).toBe(pieces.map((p) => p.expected).join(''))
      }),
    )
  })
})
