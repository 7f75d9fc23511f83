// The flow editor: CodeMirror 6 with YAML, inline errors from the runtime's validation (as you
// type, debounced), and completion and hover docs from the flow JSON Schema.
import {
  autocompletion,
  type Completion,
  type CompletionContext,
  closeBrackets,
  completionKeymap,
} from '@codemirror/autocomplete'
import { defaultKeymap, history, historyKeymap } from '@codemirror/commands'
import { yaml } from '@codemirror/lang-yaml'
import {
  bracketMatching,
  defaultHighlightStyle,
  indentOnInput,
  syntaxHighlighting,
} from '@codemirror/language'
import { type Diagnostic, linter, lintKeymap } from '@codemirror/lint'
import { EditorState } from '@codemirror/state'
import {
  drawSelection,
  EditorView,
  highlightActiveLine,
  hoverTooltip,
  keymap,
  lineNumbers,
} from '@codemirror/view'
import { describe, locate, parseLoose, type SchemaWalker, valueAt } from './schema-walker'

export interface EditorIssue {
  message: string
  line?: number
  column?: number
}

export interface FlowEditorOptions {
  parent: HTMLElement
  doc: string
  label: string
  /** Validates the text; resolves to its problems (empty: valid). */
  validate(text: string): Promise<EditorIssue[]>
  onChange(text: string): void
  /** The schema walker; undefined until the schema has loaded. */
  walker(): SchemaWalker | undefined
  /** Milliseconds after the last keystroke before validating. */
  delay?: number
}

const kindOf = (path: readonly (string | number)[]): 'task' | 'trigger' | 'condition' =>
  path.includes('conditions') ? 'condition' : path[0] === 'triggers' ? 'trigger' : 'task'

function diagnostics(view: EditorView, issues: EditorIssue[]): Diagnostic[] {
  const { doc } = view.state
  return issues.map((issue) => {
    const line = doc.line(Math.min(Math.max(issue.line ?? 1, 1), doc.lines))
    const from = Math.min(line.from + Math.max((issue.column ?? 1) - 1, 0), line.to)
    const word = /^[^\s:,]+/.exec(doc.sliceString(from, line.to))?.[0].length ?? 0
    return {
      from,
      to: issue.line ? from + word : line.to,
      severity: 'error',
      message: issue.message,
    }
  })
}

function complete(options: FlowEditorOptions) {
  return (context: CompletionContext) => {
    const walker = options.walker()
    if (!walker) return null
    const word = context.matchBefore(/[\w.@-]*/)
    if (!word || (word.from === word.to && !context.explicit)) return null
    const text = context.state.doc.toString()
    const line = context.state.doc.lineAt(context.pos)
    const before = text.slice(line.from, word.from)
    // Typing a key: make the line a `key: x` pair so the document parses around it.
    const onValue = /:\s*$/.test(before)
    const patched = onValue ? text : `${text.slice(0, word.to)}: x${text.slice(line.to)}`
    const { doc, data } = parseLoose(patched)
    const where = locate(doc, word.from)
    if (onValue) {
      const key = where.path.at(-1)
      if (key !== 'type') return null
      const kind = kindOf(where.path)
      return {
        from: word.from,
        options: walker.types(kind).map((type): Completion => ({ label: type, type: 'type' })),
        validFor: /^[\w.]*$/,
      }
    }
    const parent = where.path.slice(0, -1)
    const schema = walker.at(parent, data)
    const present = new Set(Object.keys((valueAt(data, parent) ?? {}) as object))
    const items = Object.entries(schema?.properties ?? {})
      .filter(([name]) => !present.has(name) || name === where.path.at(-1))
      .map(
        ([name, property]): Completion => ({
          label: name,
          type: 'property',
          detail: schema?.required?.includes(name) ? 'required' : undefined,
          info: describe(property) || undefined,
          apply: `${name}: `,
        }),
      )
    return items.length > 0 ? { from: word.from, options: items, validFor: /^[\w-]*$/ } : null
  }
}

function hover(options: FlowEditorOptions) {
  return hoverTooltip((view, pos) => {
    const walker = options.walker()
    if (!walker) return null
    const { doc, data } = parseLoose(view.state.doc.toString())
    const where = locate(doc, pos)
    if (where.from === undefined || where.to === undefined) return null
    let title = ''
    let body = ''
    if (where.onKey) {
      const property = walker.at(where.path.slice(0, -1), data)?.properties?.[
        String(where.path.at(-1))
      ]
      title = String(where.path.at(-1))
      body = describe(property)
    } else if (where.path.at(-1) === 'type') {
      const object = walker.at(where.path.slice(0, -1), data)
      title = where.text ?? ''
      body = object?.description ?? ''
    }
    if (!body) return null
    return {
      pos: where.from,
      end: where.to,
      above: true,
      create() {
        const dom = document.createElement('div')
        dom.className = 'cm-doc'
        const strong = document.createElement('strong')
        strong.textContent = title
        const text = document.createElement('div')
        text.textContent = body
        dom.append(strong, text)
        return { dom }
      },
    }
  })
}

export function createFlowEditor(options: FlowEditorOptions): EditorView {
  return new EditorView({
    parent: options.parent,
    state: EditorState.create({
      doc: options.doc,
      extensions: [
        lineNumbers(),
        history(),
        drawSelection(),
        indentOnInput(),
        bracketMatching(),
        closeBrackets(),
        highlightActiveLine(),
        syntaxHighlighting(defaultHighlightStyle),
        yaml(),
        EditorState.tabSize.of(2),
        keymap.of([...defaultKeymap, ...historyKeymap, ...completionKeymap, ...lintKeymap]),
        autocompletion({ override: [complete(options)] }),
        hover(options),
        linter(
          async (view) => diagnostics(view, await options.validate(view.state.doc.toString())),
          {
            delay: options.delay ?? 400,
          },
        ),
        EditorView.contentAttributes.of({ 'aria-label': options.label }),
        EditorView.updateListener.of((update) => {
          if (update.docChanged) options.onChange(update.state.doc.toString())
        }),
        EditorView.theme({
          '&': { border: '1px solid #aab3c0', borderRadius: '4px', background: '#fff' },
          '&.cm-focused': { outline: '3px solid #f0a400' },
          '.cm-scroller': { minHeight: '18rem', maxHeight: '34rem', fontSize: '13px' },
          '.cm-doc': { maxWidth: '28rem', padding: '4px 8px' },
        }),
      ],
    }),
  })
}
