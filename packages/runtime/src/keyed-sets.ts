/** Adds `value` to the set kept under `key` in `map`, making the set for the first one. */
export function addToSet<K, V>(map: Map<K, Set<V>>, key: K, value: V): void {
  let set = map.get(key)
  if (!set) {
    set = new Set()
    map.set(key, set)
  }
  set.add(value)
}

/** Removes `value` from the set kept under `key` in `map`, and the set once it is empty. */
export function removeFromSet<K, V>(map: Map<K, Set<V>>, key: K, value: V): void {
  const set = map.get(key)
  if (!set?.delete(value)) return
  if (set.size === 0) map.delete(key)
}
