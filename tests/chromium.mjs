// Debian's Chromium (or $CHROMIUM_PATH) driven by playwright-core, launched the one way the
// browser tests (registry browse UI, runtime UI tour) and `bench/ui` use it. Plain JavaScript so
// the benchmark scripts can import it too; the types are in chromium.d.mts.
import { chromium } from 'playwright-core'

/** Launches a headless Chromium with no sandbox, GPU or background traffic. */
export function launchChromium() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  })
}
