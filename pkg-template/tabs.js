// freshtoken/tabs: a TokenCache store shared by the tabs of one origin: IndexedDB for the
// entry, Web Locks for the refresh lock, so the tabs refresh once per expiry and adopt each
// other's tokens. Only plumbing; when to lock, re-read, wait and release is decided by the
// cache (Rust). IndexedDB, not localStorage: Chromium syncs localStorage between tab
// processes asynchronously, so a tab taking the lock could read the entry from before the
// previous holder's write and replay a rotated refresh token (tests/js/tabs.test.mjs saw it).
// A Web Lock is released by the browser when its tab closes, so a closed holder frees the
// others at once; a lock also ends after its TTL. Without Web Locks (old browsers) the store
// has no lock: single flight within each tab, tokens still shared.
export function tabStore({ storage = idb(), locks = globalThis.navigator?.locks } = {}) {
  const store = {
    get: (key) => storage.getItem(key),
    put: (key, value) => storage.setItem(key, value),
  }
  if (!locks?.request) return store
  const held = new Map() // key → { owner, free }
  store.lock = (key, owner, ttlMs) => new Promise((resolve) => {
    // Wait for the lock a bounded while (the cache then re-reads the store and asks again).
    const signal = AbortSignal.timeout(Math.min(ttlMs, 1000))
    locks.request('freshtoken:lock:' + key, { signal }, () => new Promise((done) => {
      const timer = setTimeout(free, ttlMs)
      function free() {
        clearTimeout(timer)
        if (held.get(key)?.free === free) held.delete(key)
        done()
      }
      held.set(key, { owner, free })
      resolve(true)
    })).catch(() => resolve(false))
  })
  store.unlock = (key, owner) => {
    const h = held.get(key)
    if (h?.owner === owner) h.free()
  }
  return store
}

/** getItem/setItem on an IndexedDB object store (opened on first use). */
function idb(name = 'freshtoken') {
  let db
  const open = () => (db ??= new Promise((resolve, reject) => {
    const req = indexedDB.open(name, 1)
    req.onupgradeneeded = () => req.result.createObjectStore('entries')
    req.onsuccess = () => resolve(req.result)
    req.onerror = () => { db = undefined; reject(req.error) }
  }))
  const run = async (mode, op) => {
    const tx = (await open()).transaction('entries', mode)
    const req = op(tx.objectStore('entries'))
    return new Promise((resolve, reject) => {
      tx.oncomplete = () => resolve(req.result)
      tx.onerror = tx.onabort = () => reject(tx.error)
    })
  }
  return {
    getItem: (key) => run('readonly', (s) => s.get(key)).then((v) => v ?? null),
    setItem: (key, value) => run('readwrite', (s) => s.put(value, key)).then(() => {}),
  }
}
