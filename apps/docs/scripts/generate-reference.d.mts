export interface GeneratedPlugin {
  name: string
  group: string
  link: string
  versions: string[]
  types: string[]
}

export interface GenerateOptions {
  /** The VitePress source folder (default `apps/docs/src`). */
  outDir?: string
  /** Where the sidebar JSON goes (default `apps/docs/.vitepress/generated`). */
  generatedDir?: string
  manifestFiles?: string[]
  /** The runtime's OpenAPI document (default: `createOpenApiDocument()` of `@kite/runtime`). */
  openApiDocument?: unknown
}

export function findManifestFiles(root?: string): string[]
export function pluginSlug(group: string): string
export function typeSlug(group: string, type: string): string
export function escapeHtmlOutsideCode(markdown: string): string
export function schemaType(schema: unknown): string
export function generateReference(
  options?: GenerateOptions,
): Promise<{ written: string[]; plugins: GeneratedPlugin[] }>
