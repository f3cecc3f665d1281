import type { TokenStore } from './index.js'

/** Options of {@link tabStore}; the defaults are the page's own. */
export interface TabStoreOptions {
  /**
   * Where the entry lives. Default: IndexedDB (database `freshtoken`), which every tab sees
   * at once; `localStorage` is synced between tab processes asynchronously, so do not pass
   * it with a rotating server.
   */
  storage?: {
    getItem(key: string): string | null | Promise<string | null>
    setItem(key: string, value: string): void | Promise<void>
  }
  /** Default `navigator.locks`; without it the store has no lock (single flight per tab). */
  locks?: LockManager | null
}

/**
 * A `TokenCache` store shared by the tabs of one origin: the tabs refresh once per expiry and adopt each other's tokens (IndexedDB plus a Web Lock).
 */
export function tabStore(options?: TabStoreOptions): TokenStore
