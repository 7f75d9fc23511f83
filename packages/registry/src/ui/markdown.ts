import MarkdownIt from 'markdown-it'
import { raw, type SafeHtml } from './html.js'

// Raw HTML in a README is shown as text (`html: false`), and markdown-it's link check refuses
// `javascript:`, `vbscript:`, `file:` and non-image `data:` URLs, so nothing an author writes
// runs in the page. External images stay blocked by the pages' CSP (`img-src 'self' data:`).
const markdown = new MarkdownIt({ html: false, linkify: true, typographer: false })

// The page already has its h1 and h2s: a README's headings start below them.
markdown.renderer.rules.heading_open = (tokens, index, options, _env, self) => {
  const token = tokens[index]
  if (token) token.tag = `h${Math.min(6, Number(token.tag.slice(1)) + 2)}`
  return self.renderToken(tokens, index, options)
}
markdown.renderer.rules.heading_close = (tokens, index, options, _env, self) => {
  const token = tokens[index]
  if (token) token.tag = `h${Math.min(6, Number(token.tag.slice(1)) + 2)}`
  return self.renderToken(tokens, index, options)
}
markdown.renderer.rules.link_open = (tokens, index, options, _env, self) => {
  tokens[index]?.attrSet('rel', 'nofollow noopener')
  return self.renderToken(tokens, index, options)
}

/** A README or CHANGELOG as HTML that is safe to put in a page. */
export function renderMarkdown(text: string): SafeHtml {
  return raw(markdown.render(text))
}
