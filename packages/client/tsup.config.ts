import { defineKiteConfig } from '../../tsup.config.base'

export default defineKiteConfig({ index: 'src/index.ts' })
