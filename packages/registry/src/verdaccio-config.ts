import { join } from 'node:path'

export interface VerdaccioConfigOptions {
  storageDir: string
  packagesDir: string
  upstream?: string
}

/** The access rule every package gets: anyone reads, accounts publish (maintainers: see the gateway). */
const ACCESS = { access: '$all', publish: '$authenticated', unpublish: '$authenticated' }

/**
 * verdaccio's configuration, generated from the registry's options: local storage, htpasswd
 * accounts (no user limit), no web UI of its own (Kite serves one), logs to a file in the
 * storage directory (logging to stdout kills the process on EPIPE when stdout goes away), JWT
 * API tokens, and
 * an uplink only when an upstream is configured — never for `@kite/*`.
 */
export function createVerdaccioConfig(options: VerdaccioConfigOptions) {
  const proxy = options.upstream ? { proxy: 'upstream' } : {}
  return {
    // verdaccio resolves relative paths against this file; every path below is absolute.
    self_path: join(options.storageDir, 'config.yaml'),
    storage: options.packagesDir,
    auth: { htpasswd: { file: join(options.storageDir, 'htpasswd') } },
    // JWT tokens are checked by signature; verdaccio's default (AES "legacy") tokens carry the
    // password and cost a bcrypt comparison (~90 ms) on every authenticated request. They do
    // not expire: like npm tokens, they stay valid until the secret in storage changes.
    security: { api: { jwt: { sign: {} } }, web: { sign: {}, verify: {} } },
    uplinks: options.upstream ? { upstream: { url: options.upstream, timeout: '30s' } } : {},
    packages: {
      '@kite/*': { ...ACCESS },
      '**': { ...ACCESS, ...proxy },
    },
    publish: { allow_offline: true },
    web: { enable: false },
    max_body_size: '100mb',
    log: {
      type: 'file',
      path: join(options.storageDir, 'verdaccio.log'),
      format: 'json',
      level: 'warn',
    },
  }
}
