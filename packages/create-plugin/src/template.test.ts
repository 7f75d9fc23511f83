import { describe, expect, it } from 'vitest'
import { outputPath, renderTemplate, type TemplateInput } from './template.js'

const input: TemplateInput = {
  values: { NAME: 'Fetch', QUOTED: "it's \\ here\nnow", MISSING: undefined },
  flags: { on: true, off: false },
}

describe('renderTemplate', () => {
  it('replaces placeholders, escaping values for single-quoted strings when asked', () => {
    expect(renderTemplate('name: __NAME__', input)).toBe('name: Fetch')
    const quote = (value: string) => value.replace(/'/g, "\\'")
    expect(renderTemplate("'__QUOTED__'", input, { escape: quote })).toBe("'it\\'s \\ here\nnow'")
  })

  it('keeps a line marked #if only when its flag is on, and #if ! only when it is off', () => {
    const text = ['a // #if on', 'b // #if off', 'c # #if !off', 'd <!-- #if !on -->', 'e'].join(
      '\n',
    )
    expect(renderTemplate(text, input)).toBe('a\nc\ne')
  })

  it('keeps a block between #if and #endif comment lines only when its flag is on', () => {
    const text = [
      '<!-- #if on -->',
      'kept',
      '// #if off',
      'dropped',
      'dropped too // #if on',
      '// #endif',
      'kept too',
      '<!-- #endif -->',
      '# #if !on',
      'dropped as well',
      '# #endif',
      'end',
    ].join('\n')
    expect(renderTemplate(text, input)).toBe('kept\nkept too\nend')
  })

  it('names the file and line of a broken template', () => {
    expect(() => renderTemplate('__MISSING__', input, { file: 'x.ts' })).toThrow(
      'broken template: x.ts: placeholder __MISSING__ has no value',
    )
    expect(() => renderTemplate('a\n// #if nope', input, { file: 'x.ts' })).toThrow(
      'x.ts:2: #if needs a known flag, got "nope"',
    )
    expect(() => renderTemplate('// #if on', input)).toThrow('#if without #endif')
    expect(() => renderTemplate('// #endif', input)).toThrow('#endif without #if')
  })
})

describe('outputPath', () => {
  it('fills placeholders, restores dotfiles and drops .tmpl', () => {
    expect(outputPath('src/__NAME__.ts', input)).toBe('src/Fetch.ts')
    expect(outputPath('src/__NAME__.test.tmpl.ts', input)).toBe('src/Fetch.test.ts')
    expect(outputPath('gitignore', input)).toBe('.gitignore')
    expect(outputPath('npmrc', input)).toBe('.npmrc')
    expect(outputPath('src/gitignore.ts', input)).toBe('src/gitignore.ts')
  })

  it('leaves out a file whose path names a placeholder without a value', () => {
    expect(outputPath('src/__MISSING__.ts', input)).toBeUndefined()
  })
})
