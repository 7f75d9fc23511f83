import { definePlugin } from '@kite/sdk'
import { decrypt, encrypt } from './cipher.js'
import { hash, hmac } from './hash.js'

export default definePlugin({
  group: 'kite.crypto',
  title: 'Crypto',
  description:
    "Hashes, HMAC signatures and AES-256-GCM encryption of values and stored files, with keys from secrets. Built on Node's own crypto.",
  tasks: [hash, hmac, encrypt, decrypt],
})
