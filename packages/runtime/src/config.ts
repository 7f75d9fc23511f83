import { readFile } from 'node:fs/promises'
import { PluginPermissions, z } from '@kite/sdk'
import { LineCounter, parseDocument } from 'yaml'
import { RuntimeError, type ValidationIssue } from './errors.js'
import type { PluginDefaultEntry } from './flow/flow-model.js'
import { Duration, Namespace, PluginDefaultSchema } from './flow/flow-schema.js'
import { formatPath, lineOf, type PathSegment } from './flow/parse-flow.js'
import type { NamespaceDefaults } from './plugins/version-resolver.js'

const PluginConfiguration = z.strictObject({
  type: z.string().min(1),
  values: z.record(z.string(), z.unknown()),
})

const DEFAULT_MAX_WORKERS = 8
const DEFAULT_CALLS_PER_WORKER = 64
const DEFAULT_IDLE_TIMEOUT = 'PT5S'

/** `kite.yaml`: the instance configuration (SPEC section 6). Unknown keys are refused. */
export const InstanceConfig = z.strictObject({
  plugins: z
    .strictObject({
      /** LATEST (default), OLDEST, NONE (strict mode) or a version/range. */
      defaultVersion: z.union([z.string().min(1), z.number().transform(String)]).default('LATEST'),
      /** Instance plugin defaults. */
      defaults: z.array(PluginDefaultSchema).default([]),
      /** Installing from the registry: every published version, or explicit installs only. */
      sync: z.enum(['all', 'manual']).default('all'),
      reconcileInterval: Duration.default('PT30S'),
      /** The Kite registry the plugin store installs from (used by the plugin store). */
      registry: z.string().optional(),
      security: z
        .strictObject({
          includes: z.array(z.string()).default([]),
          excludes: z.array(z.string()).default([]),
        })
        .default({ includes: [], excludes: [] }),
      /** What a plugin tarball may hold (SPEC 5); the registry's defaults when unset. */
      limits: z
        .strictObject({
          maxUnpackedBytes: z.number().int().positive().optional(),
          maxManifestBytes: z.number().int().positive().optional(),
          maxTypes: z.number().int().positive().optional(),
          maxStringLength: z.number().int().positive().optional(),
        })
        .default({}),
      /** `ctx.pluginConfig` per type or group (most specific wins, merged over less specific). */
      configurations: z.array(PluginConfiguration).default([]),
      /**
       * What plugins may have beyond their sandbox, per package name or `*` pattern (SPEC 6):
       * a version whose manifest asks for more is refused at install.
       */
      permissions: z.record(z.string().min(1), PluginPermissions).default({}),
      /** `sandbox` (default): plugin threads live in permission-limited processes; `threads`: in this process. */
      isolation: z.enum(['sandbox', 'threads']).default('sandbox'),
      // ── bounded isolation (SPEC 9): the pool of plugin threads ──
      /** The most plugin threads alive at once, all versions together (the spare included). */
      maxWorkers: z.int().min(1).max(1024).default(DEFAULT_MAX_WORKERS),
      /** Concurrent calls one plugin thread serves. */
      callsPerWorker: z.int().min(1).max(10_000).default(DEFAULT_CALLS_PER_WORKER),
      /** An idle plugin thread ends after this long without calls. */
      idleTimeout: Duration.default(DEFAULT_IDLE_TIMEOUT),
    })
    .default({
      defaultVersion: 'LATEST',
      defaults: [],
      sync: 'all',
      reconcileInterval: 'PT30S',
      security: { includes: [], excludes: [] },
      limits: {},
      configurations: [],
      permissions: {},
      isolation: 'sandbox',
      maxWorkers: DEFAULT_MAX_WORKERS,
      callsPerWorker: DEFAULT_CALLS_PER_WORKER,
      idleTimeout: DEFAULT_IDLE_TIMEOUT,
    }),
  /** The worker role: how many task runs it runs at once and how lost ones are resubmitted (SPEC 9). */
  worker: z
    .strictObject({
      /** Task runs this process runs at once; more wait in the queue. */
      slots: z.number().int().min(1).max(10_000).default(32),
      /** A worker whose heartbeat is older than this is gone: its task runs are resubmitted. */
      heartbeatTimeout: Duration.default('PT30S'),
      /** Times a task run is resubmitted after its worker was lost before it fails. */
      maxResubmissions: z.number().int().min(0).max(100).default(3),
    })
    .default({ slots: 32, heartbeatTimeout: 'PT30S', maxResubmissions: 3 }),
  /** The scheduler role in a cluster (SPEC 9): one active scheduler, holding a lease. */
  scheduler: z
    .strictObject({
      /** An active scheduler silent this long loses the lease to another: the longest failover. */
      leaseTimeout: Duration.default('PT5S'),
    })
    .default({ leaseTimeout: 'PT5S' }),
  /**
   * Where executions, flows and the queue live (SPEC 9): the data dir's SQLite file by default, or
   * PostgreSQL (`url: postgres://…`), shared by every node of a cluster.
   */
  store: z
    .strictObject({
      url: z
        .string()
        .regex(/^postgres(ql)?:\/\/./, 'expected a postgres:// URL')
        .optional(),
      /** Connections each node keeps to PostgreSQL. */
      maxConnections: z.number().int().min(1).max(1000).default(10),
    })
    .default({ maxConnections: 10 }),
  /**
   * SECRET inputs are stored encrypted (AES-256-GCM) with this key (or `KITE_ENCRYPTION_KEY`);
   * without one, flows with SECRET inputs are refused.
   */
  secrets: z.strictObject({ encryptionKey: z.string().min(32).optional() }).default({}),
  /** Executions: the largest upload of FILE inputs (multipart/form-data), in bytes. */
  executions: z
    .strictObject({
      maxUploadBytes: z
        .number()
        .int()
        .min(1)
        .default(50 * 1024 * 1024),
    })
    .default({ maxUploadBytes: 50 * 1024 * 1024 }),
  namespaces: z
    .record(Namespace, z.strictObject({ pluginDefaults: z.array(PluginDefaultSchema).default([]) }))
    .default({}),
})
export type InstanceConfig = z.output<typeof InstanceConfig>
/** What a caller may write: every key optional. */
export type InstanceConfigInput = z.input<typeof InstanceConfig>

/** Parses an instance configuration object (already decoded). */
export function parseConfig(value: unknown, file = 'the configuration'): InstanceConfig {
  const result = InstanceConfig.safeParse(value ?? {})
  if (result.success) return result.data
  const issues = result.error.issues.flatMap((issue) =>
    issue.code === 'unrecognized_keys'
      ? issue.keys.map((key) => ({
          path: formatPath([...(issue.path as PathSegment[]), key]),
          message: `unknown key "${key}"`,
        }))
      : [
          {
            path: formatPath(issue.path as PathSegment[]),
            message: issue.message.replace(/^Invalid input: /, '').replace(/^Invalid option: /, ''),
          },
        ],
  )
  throw configError(file, issues)
}

/** Reads and parses `kite.yaml`; errors carry the YAML path and line. */
export async function loadConfig(path: string): Promise<InstanceConfig> {
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (error) {
    throw new RuntimeError(`cannot read the configuration ${path}: ${(error as Error).message}`, {
      code: 'CONFIG_INVALID',
      kind: 'operational',
      cause: error,
    })
  }
  const lineCounter = new LineCounter()
  const doc = parseDocument(text, { lineCounter, uniqueKeys: true })
  if (doc.errors.length > 0) {
    const issues = doc.errors.map((error) => ({
      path: '',
      message: `invalid YAML: ${error.message.split('\n')[0]}`,
      ...(error.linePos ? { line: error.linePos[0].line } : {}),
    }))
    throw configError(path, issues)
  }
  try {
    return parseConfig(doc.toJS() ?? {}, path)
  } catch (error) {
    if (error instanceof RuntimeError) {
      for (const issue of error.issues) {
        const line = lineOf(doc, lineCounter, pathSegments(issue.path))
        if (line !== undefined) issue.line = line
      }
      throw configError(path, error.issues)
    }
    throw error
  }
}

function pathSegments(path: string): PathSegment[] {
  return path
    .split(/\.|\[(\d+)\]/)
    .filter((part) => part !== undefined && part !== '')
    .map((part) => (/^\d+$/.test(part) ? Number(part) : part))
}

function configError(file: string, issues: ValidationIssue[]): RuntimeError {
  const lines = issues.map((issue) => {
    const where = issue.line === undefined ? issue.path : `${issue.path} (line ${issue.line})`
    return `${where ? `${where}: ` : ''}${issue.message}`
  })
  return new RuntimeError(`${file} is invalid:\n- ${lines.join('\n- ')}`, {
    code: 'CONFIG_INVALID',
    kind: 'user',
    issues,
  })
}

/** Namespace plugin defaults that apply to a namespace, nearest first (`a.b.c`, `a.b`, `a`). */
export function namespaceDefaults(config: InstanceConfig, namespace: string): NamespaceDefaults[] {
  const found: NamespaceDefaults[] = []
  const parts = namespace.split('.')
  for (let length = parts.length; length > 0; length--) {
    const name = parts.slice(0, length).join('.')
    const entry = config.namespaces[name]
    if (entry && entry.pluginDefaults.length > 0) {
      found.push({ namespace: name, defaults: entry.pluginDefaults as PluginDefaultEntry[] })
    }
  }
  return found
}
