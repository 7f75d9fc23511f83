import type { Browser } from 'playwright-core'

/** Launches a headless Chromium with no sandbox, GPU or background traffic. */
export declare function launchChromium(): Promise<Browser>
