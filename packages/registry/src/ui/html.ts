/** HTML that is already safe to emit (built by `html` or `raw`). */
export class SafeHtml {
  constructor(readonly value: string) {}
  toString(): string {
    return this.value
  }
}

const ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
}

/** Escapes text for element content and quoted attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => ESCAPES[char] ?? char)
}

/** Marks a string as HTML. Only for markup this module or the templates produced. */
export function raw(markup: string): SafeHtml {
  return new SafeHtml(markup)
}

/**
 * Tagged template that escapes every interpolated value, except `SafeHtml`. Arrays are joined;
 * `null`, `undefined` and `false` render nothing.
 *
 * @example
 * html`<a href="${url}">${name}</a>`
 */
export function html(strings: TemplateStringsArray, ...values: unknown[]): SafeHtml {
  let out = strings[0] ?? ''
  for (let index = 0; index < values.length; index++) {
    out += render(values[index]) + (strings[index + 1] ?? '')
  }
  return new SafeHtml(out)
}

function render(value: unknown): string {
  if (value === null || value === undefined || value === false) return ''
  if (value instanceof SafeHtml) return value.value
  if (Array.isArray(value)) return value.map(render).join('')
  return escapeHtml(String(value))
}

/**
 * The little Markdown found in titles and descriptions: `code`, **bold**, _emphasis_ and
 * [links](https://…). Text is escaped first, so nothing a plugin author writes becomes markup.
 */
export function inlineMarkdown(text: string): SafeHtml {
  const escaped = escapeHtml(text)
  const out = escaped
    .replace(/`([^`]+)`/g, '<code>$1</code>')
    .replace(/\*\*([^*]+)\*\*/g, '<strong>$1</strong>')
    .replace(/(^|[\s(])_([^_]+)_(?=$|[\s).,;:!?])/g, '$1<em>$2</em>')
    .replace(
      /\[([^\]]+)\]\((https?:\/\/[^\s)"]+)\)/g,
      '<a href="$2" rel="nofollow noopener" target="_blank">$1</a>',
    )
  return new SafeHtml(out)
}

/** Paragraphs of inline Markdown, split on blank lines. */
export function paragraphs(text: string): SafeHtml {
  const blocks = text
    .split(/\n\s*\n/)
    .map((block) => block.trim())
    .filter(Boolean)
  return html`${blocks.map((block) => html`<p>${inlineMarkdown(block)}</p>`)}`
}
