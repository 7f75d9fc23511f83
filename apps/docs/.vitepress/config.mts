import { existsSync, readFileSync } from 'node:fs'
import { type DefaultTheme, defineConfig } from 'vitepress'
import { resolveSiteUrls } from '../../../scripts/ports.mjs'
import { portsInMarkdown } from '../scripts/ports-in-markdown.mjs'

// Written by scripts/generate-reference.mjs (run by `npm run build` and `npm run dev`).
const sidebarFile = new URL('./generated/sidebar.json', import.meta.url)
const referenceSidebar: DefaultTheme.SidebarItem[] = existsSync(sidebarFile)
  ? JSON.parse(readFileSync(sidebarFile, 'utf8'))
  : []

const guide: DefaultTheme.SidebarItem[] = [
  {
    text: 'Start',
    items: [
      { text: 'Getting started', link: '/guide/' },
      { text: 'Write your first plugin', link: '/guide/first-plugin' },
      { text: 'Testing plugins', link: '/guide/testing-plugins' },
      { text: 'Testing a plugin inside a flow', link: '/guide/testing-flows' },
      { text: 'Publishing and releasing', link: '/guide/publishing' },
      { text: 'Writing migrations', link: '/guide/migrations' },
      { text: 'Permissions', link: '/guide/permissions' },
    ],
  },
  {
    text: 'Flows',
    items: [
      { text: 'Flows', link: '/guide/flows' },
      { text: 'Expressions', link: '/guide/expressions' },
      { text: 'Typed flows and precise errors', link: '/guide/typed-flows' },
      { text: 'Plugin versions and pinning', link: '/guide/versions' },
      { text: 'Upgrading plugins safely', link: '/guide/upgrading' },
      { text: 'Hot reload and sync', link: '/guide/hot-reload' },
    ],
  },
]

// The registry's browse UI, linked from the nav: KITE_REGISTRY_URL, else the one `npm start`
// runs (its port comes from scripts/ports.mjs, like every port the docs mention).
const registryUrl = resolveSiteUrls().registry

export default defineConfig({
  title: 'Kite',
  head: [['link', { rel: 'icon', type: 'image/svg+xml', href: '/favicon.svg' }]],
  description: 'Typed plugins for workflow orchestration, in TypeScript.',
  srcDir: 'src',
  cleanUrls: true,
  markdown: {
    // Inline code often shows `{{ expressions }}`: keep Vue from interpolating them.
    config(md) {
      // `{{ports.registry}}` and the like: the ports of scripts/ports.mjs.
      portsInMarkdown(md)
      const render = md.renderer.rules.code_inline!
      md.renderer.rules.code_inline = (tokens, index, options, env, self) =>
        render(tokens, index, options, env, self).replace(/^<code/, '<code v-pre')
    },
  },
  lastUpdated: false,
  themeConfig: {
    nav: [
      { text: 'Guide', link: '/guide/', activeMatch: '^/guide/' },
      { text: 'Plugins', link: '/reference/', activeMatch: '^/reference/' },
      { text: 'Registry', link: '/registry/', activeMatch: '^/registry/' },
      { text: 'Runtime', link: '/runtime/', activeMatch: '^/runtime/' },
      { text: 'CLI', link: '/cli/', activeMatch: '^/cli/' },
      { text: 'API', link: '/api/', activeMatch: '^/api/' },
      { text: 'Browse plugins', link: `${registryUrl}-/kite/` },
    ],
    sidebar: {
      '/guide/': guide,
      '/reference/': referenceSidebar,
      '/registry/': [
        {
          text: 'Registry',
          items: [
            { text: 'The registry', link: '/registry/' },
            { text: 'Security', link: '/registry/security' },
            { text: 'Publishing and releasing', link: '/guide/publishing' },
          ],
        },
      ],
      '/runtime/': [
        {
          text: 'Runtime',
          items: [
            { text: 'Runtime configuration', link: '/runtime/' },
            { text: 'Executions, workers and crashes', link: '/runtime/scaling' },
            { text: 'Scaling out', link: '/runtime/scaling-out' },
            { text: 'Restart, replay and resume', link: '/runtime/restart-replay-resume' },
            { text: 'Authentication', link: '/runtime/authentication' },
            { text: 'What a plugin can reach', link: '/runtime/plugin-reach' },
            { text: 'Plugin versions and pinning', link: '/guide/versions' },
            { text: 'Hot reload and sync', link: '/guide/hot-reload' },
            { text: 'HTTP API', link: '/api/' },
          ],
        },
      ],
      '/cli/': [{ text: 'CLI', items: [{ text: 'Commands', link: '/cli/' }] }],
      '/api/': [
        {
          text: 'API',
          items: [
            { text: 'HTTP API', link: '/api/' },
            { text: 'Runtime configuration', link: '/runtime/' },
          ],
        },
      ],
    },
    search: { provider: 'local' },
    outline: { level: [2, 3] },
    footer: { message: 'Kite — typed plugins for workflow orchestration.' },
  },
})
