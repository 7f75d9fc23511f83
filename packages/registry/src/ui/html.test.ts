import { describe, expect, it } from 'vitest'
import { html, inlineMarkdown, paragraphs, raw } from './html.js'

describe('html', () => {
  it('escapes every interpolation but SafeHtml, and drops empty values', () => {
    const name = '<script>alert("x")</script>'
    expect(
      html`<p title="${name}">${name}${raw('<br>')}${[1, '&', null, false, undefined]}</p>`.value,
    ).toBe(
      '<p title="&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;">&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;<br>1&amp;</p>',
    )
  })

  it('renders the Markdown of descriptions without letting markup through', () => {
    expect(
      inlineMarkdown(
        'Use `a<b>` with **care** and _taste_, see [docs](https://kite.dev/x?a=1&b=2).',
      ).value,
    ).toBe(
      'Use <code>a&lt;b&gt;</code> with <strong>care</strong> and <em>taste</em>, see <a href="https://kite.dev/x?a=1&amp;b=2" rel="nofollow noopener" target="_blank">docs</a>.',
    )
    expect(inlineMarkdown('[click](javascript:alert(1))').value).toBe(
      '[click](javascript:alert(1))',
    )
    expect(inlineMarkdown('[x](https://a.b/"onmouseover="y)').value).not.toContain('"onmouseover')
    expect(paragraphs('one\n\n two <i>').value).toBe('<p>one</p><p>two &lt;i&gt;</p>')
  })
})
