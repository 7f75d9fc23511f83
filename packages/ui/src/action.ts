import { ref } from 'vue'
import { messageOf } from './api'

/**
 * What a page or dialog does on load or on a click: `busy` while it runs (disables buttons,
 * shows "Loading…"), and the failure's message in `error`, cleared when it starts again.
 */
export function useAction(options: { busy?: boolean } = {}) {
  const busy = ref(options.busy ?? false)
  const error = ref('')
  async function act(work: () => Promise<unknown>): Promise<void> {
    busy.value = true
    error.value = ''
    try {
      await work()
    } catch (caught) {
      error.value = messageOf(caught)
    } finally {
      busy.value = false
    }
  }
  return { busy, error, act }
}
