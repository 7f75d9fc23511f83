import { z } from 'zod'

/**
 * A path a plugin reads or writes: an absolute path, or `config:<key>`, which stands for the
 * directories listed under `<key>` in the plugin's configuration (`plugins.configurations` of the
 * runtime), so a plugin whose roots the operator chooses can declare them without knowing them.
 */
export const PermissionPath = z
  .string()
  .regex(
    /^(\/[^,\0]*|config:[A-Za-z_][\w]*)$/,
    'must be an absolute path (no commas) or config:<key> naming a plugin configuration value',
  )

/** An environment variable a plugin may read: upper-case, never one of the runtime's own. */
export const PermissionEnvName = z
  .string()
  .regex(/^[A-Z_][A-Z0-9_]*$/, 'must be an upper-case environment variable name')
  .refine((name) => !name.startsWith('KITE_'), {
    message: 'KITE_* variables are the runtime’s own (secrets among them) and never reach a plugin',
  })

/**
 * What a plugin needs beyond its sandbox (SPEC 6): by default its code reads only its own
 * directory, the SDK and its working directory, writes only its working directory, starts no
 * process and sees an empty environment. The manifest carries this object as `permissions`; the
 * runtime grants it only when its `plugins.permissions` allow it.
 *
 * @example
 * definePlugin({ group: 'acme.shell', title: 'Shell', permissions: { childProcess: true }, tasks })
 */
export const PluginPermissions = z.strictObject({
  /** Start child processes (`node:child_process`). */
  childProcess: z.boolean().optional(),
  /** Directories (and everything under them) the plugin reads. */
  fsRead: z.array(PermissionPath).optional(),
  /** Directories (and everything under them) the plugin writes. */
  fsWrite: z.array(PermissionPath).optional(),
  /** Environment variables of the runtime the plugin sees in `process.env`. */
  env: z.array(PermissionEnvName).optional(),
})
export type PluginPermissions = z.infer<typeof PluginPermissions>

/** Whether a permission set asks for nothing beyond the sandbox. */
export function isEmptyPermissions(permissions: PluginPermissions | undefined): boolean {
  return (
    !permissions ||
    (!permissions.childProcess &&
      !permissions.fsRead?.length &&
      !permissions.fsWrite?.length &&
      !permissions.env?.length)
  )
}
