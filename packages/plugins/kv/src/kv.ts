import { defineTask, isDuration, KiteError, z } from '@kite/sdk'

const key = z.string().min(1).max(255).describe("The key, in the flow's namespace store.")
const errorOnMissing = z.boolean().default(false).describe('Fail when the key does not exist.')

/** The error of a task told to fail on a missing key. */
const missingKey = (name: string, namespace: string) =>
  new KiteError(`key "${name}" does not exist in namespace ${namespace}`, {
    code: 'KV_MISSING',
    kind: 'user',
  })

export const set = defineTask({
  name: 'Set',
  title: 'Set a key',
  description:
    "Stores a JSON value under a key of the namespace's key-value store, optionally expiring after `ttl`. Flows read it back with `kite.kv.Get` or `{{ kv('key') }}`.",
  properties: z
    .object({
      key,
      value: z
        .unknown()
        .nonoptional('required: give any JSON value (text, number, boolean, list, map)')
        .describe(
          'The value: any JSON (text, number, boolean, list, map); an expression keeps its type.',
        ),
      ttl: z
        .string()
        .refine(isDuration, 'must be an ISO-8601 duration such as PT1H or P7D')
        .optional()
        .describe('How long the key lives, as an ISO-8601 duration. Default: forever.'),
      overwrite: z
        .boolean()
        .default(true)
        .describe('Replace an existing value. When false, an existing key fails the task.'),
    })
    .refine((props) => props.value !== undefined, {
      message: 'value is required',
      path: ['value'],
    }),
  examples: [
    {
      title: 'Remember a cursor',
      code: 'key: last-order-id\nvalue: "{{ outputs.fetch.body.lastId }}"',
    },
    {
      title: 'Set once, for a day',
      code: 'key: "lock-{{ inputs.day }}"\nvalue: { owner: "{{ execution.id }}" }\nttl: P1D\noverwrite: false',
    },
  ],
  async run(props, ctx) {
    if (!props.overwrite && (await ctx.kv.get(props.key)) !== undefined) {
      throw new KiteError(
        `key "${props.key}" already exists in namespace ${ctx.execution.namespace}; set overwrite: true to replace it`,
        { code: 'KV_EXISTS', kind: 'user' },
      )
    }
    await ctx.kv.set(
      props.key,
      props.value,
      props.ttl === undefined ? undefined : { ttl: props.ttl },
    )
    ctx.logger.info(`set "${props.key}"${props.ttl ? ` for ${props.ttl}` : ''}`)
  },
})

export const get = defineTask({
  name: 'Get',
  title: 'Get a key',
  description:
    "Reads a key of the namespace's key-value store. A missing (or expired) key gives `exists: false` and `value: null`, or fails the task with `errorOnMissing`.",
  properties: z.object({
    key,
    errorOnMissing,
  }),
  outputs: z.object({
    value: z.unknown().describe('The value, or null when the key does not exist.'),
    exists: z.boolean().describe('Whether the key exists.'),
  }),
  examples: [
    { title: 'Read a cursor', code: 'key: last-order-id' },
    { title: 'Require a setting', code: 'key: api-base-url\nerrorOnMissing: true' },
  ],
  async run(props, ctx) {
    const value = await ctx.kv.get(props.key)
    if (value !== undefined) return { value, exists: true }
    if (props.errorOnMissing) {
      throw missingKey(props.key, ctx.execution.namespace)
    }
    return { value: null, exists: false }
  },
})

export const deleteKey = defineTask({
  name: 'Delete',
  title: 'Delete a key',
  description:
    "Deletes a key of the namespace's key-value store; `deleted` says whether it existed.",
  properties: z.object({
    key,
    errorOnMissing,
  }),
  outputs: z.object({
    deleted: z.boolean().describe('Whether the key existed and was deleted.'),
  }),
  examples: [{ title: 'Release a lock', code: 'key: "lock-{{ inputs.day }}"' }],
  async run(props, ctx) {
    const deleted = await ctx.kv.delete(props.key)
    if (!deleted && props.errorOnMissing) {
      throw missingKey(props.key, ctx.execution.namespace)
    }
    return { deleted }
  },
})

export const keys = defineTask({
  name: 'Keys',
  title: 'List keys',
  description: "Lists the live keys of the namespace's key-value store, optionally by prefix.",
  properties: z.object({
    prefix: z.string().default('').describe('Only keys starting with this text.'),
  }),
  outputs: z.object({
    keys: z.array(z.string()).describe('The keys, sorted.'),
    count: z.number().int().describe('How many keys.'),
  }),
  examples: [{ title: 'All locks', code: 'prefix: lock-' }],
  async run(props, ctx) {
    const found = [...(await ctx.kv.keys(props.prefix))].sort()
    return { keys: found, count: found.length }
  },
})
