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
  /** The registry the pages link to (default: `resolveSiteUrls().registry` of scripts/ports.mjs). */
  registryUrl?: string
}

interface ManifestLike {
  name: string
  version: string
}

export function registryLinks(registryUrl: string): {
  pluginUrl(manifest: ManifestLike): string
  typeUrl(manifest: ManifestLike, type: string): string
  diffUrl(manifest: ManifestLike, from: ManifestLike): string
  pluginLine(manifest: ManifestLike, versions: ManifestLike[]): string
  typeLine(manifest: ManifestLike, type: string): string
}

export function findManifestFiles(root?: string): string[]
export function pluginSlug(group: string): string
export function typeSlug(group: string, type: string): string
export function escapeHtmlOutsideCode(markdown: string): string
export function schemaType(schema: unknown): string
export function generateReference(
  options?: GenerateOptions,
): Promise<{ written: string[]; plugins: GeneratedPlugin[] }>
