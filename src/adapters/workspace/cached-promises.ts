/**
 * The promise kept under `key` in `map`, made by `make` the first time; a failed one is forgotten
 * (asked again next time). With `limit`, the oldest entry goes when the map is full: per-commit
 * answers in a long-lived process, where only the latest runs' commits are asked again.
 */
export function cachedPromise<V>(
  map: Map<string, Promise<V>>,
  key: string,
  make: () => Promise<V>,
  limit = Infinity,
): Promise<V> {
  const kept = map.get(key);
  if (kept) return kept;
  const made = make();
  made.catch(() => map.delete(key));
  if (map.size >= limit) map.delete(map.keys().next().value!);
  map.set(key, made);
  return made;
}
