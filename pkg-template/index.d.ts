/**
 * freshtoken — OAuth 2.0 access-token refresher for browsers, Node and Cloudflare Workers.
 * @packageDocumentation
 */

/** How the client authenticates to the token endpoint (RFC 6749 §2.3.1). */
export type ClientAuth = 'client_secret_basic' | 'client_secret_post' | 'none'

/** Options of one refresh-token grant. */
export interface RefreshOptions {
  /** Absolute `https:` URL of the token endpoint (`http:` only to loopback or with `allowInsecureHttp`). */
  tokenUrl: string
  /** `client_id`. */
  clientId: string
  /** `client_secret`, for confidential clients. */
  clientSecret?: string
  /** The refresh token (RFC 6749 §6). */
  refreshToken: string
  /** Default `'refresh_token'`; see {@link ClientCredentialsOptions} for the other. */
  grant?: 'refresh_token'
  /**
   * Default with a secret (and no `basicAuthEncoding`): auto — Basic §2.3.1-encoded first; on
   * `invalid_client` (or a bare 401) once unencoded, then `client_secret_post`; what worked is
   * remembered per token URL. Without a secret: `'none'`. Given: only that way.
   */
  clientAuth?: ClientAuth
  /**
   * `'form'`: Basic credentials are `urlenc(id) ":" urlenc(secret)` per RFC 6749 §2.3.1 (a
   * space as `%20`). `'raw'`: no urlencoding, for servers that do not decode. Given: only that
   * encoding, no auto mode.
   */
  basicAuthEncoding?: 'form' | 'raw'
  /** Sent as `scope`. */
  scope?: string
  /** Extra form parameters; may not override those the library sets. */
  extraParams?: Record<string, string>
  /** Extra request headers; may not set `Content-Type`, nor `Authorization` with Basic auth. */
  headers?: Record<string, string>
  /** Whole request (headers and body), in ms. Default 10000; `Infinity` disables it. */
  timeoutMs?: number
  /** Aborts the request; rejects with code `aborted`. */
  signal?: AbortSignal
  /** Allow `http:` to hosts that are not loopback. Default false. */
  allowInsecureHttp?: boolean
  /** Injected fetch. Default: `globalThis.fetch`, looked up at each call. */
  fetch?: (input: string, init: RequestInit) => Promise<Response>
  /** Clock in epoch ms. Default `Date.now`. */
  now?: () => number
}

/** A successful token response (RFC 6749 §5.1). */
export interface TokenSet {
  /** Non-empty. */
  accessToken: string
  /** As sent; `'Bearer'` when the server omits it. */
  tokenType: string
  /** Seconds, as sent. */
  expiresIn?: number
  /** Epoch ms: time the request was sent + expiresIn·1000. */
  expiresAt?: number
  /** From `refreshAccessToken`: present only when the server rotated the refresh token. */
  refreshToken?: string
  /** As sent. */
  scope?: string
  /** The whole parsed JSON response. */
  raw: Record<string, unknown>
}

/** Stable error codes: the server's RFC 6749 §5.2 `error`, or one of freshtoken's own. */
export type OAuthErrorCode =
  | 'invalid_options'
  | 'insecure_url'
  | 'network_error'
  | 'timeout'
  | 'aborted'
  | 'http_error'
  | 'invalid_response'
  | 'lock_timeout'
  | 'out_of_memory'
  | 'invalid_request'
  | 'invalid_client'
  | 'invalid_grant'
  | 'unauthorized_client'
  | 'unsupported_grant_type'
  | 'invalid_scope'
  | (string & {})

/**
 * Every rejection of freshtoken. An `Error` (with a stack) whose `name` is `'OAuthError'`.
 * `instanceof OAuthError` is a brand check (an `Error` named `'OAuthError'` with a string
 * `code`), so errors rebuilt by `freshtoken/workers` or made by another copy pass it too.
 * No field, message, `toString()` or `JSON.stringify()` of it contains a secret.
 * @see https://www.rfc-editor.org/rfc/rfc6749#section-5.2
 */
export declare class OAuthError extends Error {
  private constructor()
  readonly name: 'OAuthError'
  readonly code: OAuthErrorCode
  /** HTTP status, when there was a response. */
  readonly status?: number
  /** `error_description` from the server (secrets redacted). */
  readonly description?: string
  /** `error_uri` from the server (secrets redacted). */
  readonly uri?: string
  /** True for network_error, timeout, 408, 429 and 5xx. */
  readonly retryable: boolean
  /** From `Retry-After`, in ms. */
  readonly retryAfterMs?: number
  /** The underlying failure (e.g. fetch's TypeError), when there is one. */
  readonly cause?: unknown
}

/**
 * One refresh-token grant: exactly one `POST tokenUrl` through the host's fetch, no retries.
 * @see https://www.rfc-editor.org/rfc/rfc6749#section-6
 */
export declare function refreshAccessToken(options: RefreshOptions | ClientCredentialsOptions): Promise<TokenSet>

/**
 * The client-credentials grant (RFC 6749 §4.4) instead of a refresh: machine to machine, no
 * refresh token; `scope`, and `audience` / `resource` through `extraParams`. A TokenCache
 * with it caches and single-flights per client, scope and extra parameters.
 */
export type ClientCredentialsOptions = Omit<RefreshOptions, 'refreshToken' | 'grant'> & {
  grant: 'client_credentials'
  clientSecret: string
}

/** PKCE parameters (RFC 7636): keep `codeVerifier` until the code comes back. */
export interface Pkce {
  /** 43 characters of `[A-Za-z0-9-_]` from 32 random bytes (`crypto.getRandomValues`). */
  codeVerifier: string
  /** base64url(SHA-256(codeVerifier)), no padding. */
  codeChallenge: string
  codeChallengeMethod: 'S256'
}

/** A fresh PKCE verifier and its S256 challenge. */
export declare function createPkce(): Pkce

/** Options of `buildAuthorizeUrl`. */
export interface AuthorizeUrlOptions {
  /** The server's authorization endpoint, e.g. EdgeTag's `{app}/oauth/app/login`. Same https rule as `tokenUrl`. */
  authorizeUrl: string
  clientId: string
  redirectUri?: string
  scope?: string
  /** Your CSRF token: check it when the user comes back. */
  state?: string
  /** From `createPkce()`. */
  codeChallenge: string
  /** Extra query parameters; may not override those the library sets. */
  extraParams?: Record<string, string>
  allowInsecureHttp?: boolean
}

/**
 * `authorizeUrl` + `response_type=code&client_id&redirect_uri&scope&state&code_challenge&code_challenge_method=S256`.
 * Throws `invalid_options` / `insecure_url`.
 */
export declare function buildAuthorizeUrl(options: AuthorizeUrlOptions): string

/** Options of `exchangeCode`: those of `refreshAccessToken` without `refreshToken`, plus the code. */
export interface ExchangeCodeOptions extends Omit<RefreshOptions, 'refreshToken' | 'scope'> {
  /** The `code` the server put on the redirect. */
  code: string
  /** The `codeVerifier` of the `createPkce()` whose challenge went into the authorize URL. */
  codeVerifier: string
  /** Sent as `redirect_uri` when given (most servers want the same one as in the authorize URL). */
  redirectUri?: string
}

/**
 * The authorization-code grant with PKCE (RFC 6749 §4.1.3): one request, the same errors
 * and https rule as `refreshAccessToken`.
 */
export declare function exchangeCode(options: ExchangeCodeOptions): Promise<TokenSet>

/** Options of `revokeToken`: the client's, the revocation endpoint and the token. */
export interface RevokeTokenOptions extends Omit<RefreshOptions, 'tokenUrl' | 'refreshToken' | 'scope'> {
  /** The RFC 7009 revocation endpoint; https unless loopback or `allowInsecureHttp`. */
  revocationUrl: string
  /** The token to revoke. */
  token: string
  /** Sent as `token_type_hint`. */
  tokenTypeHint?: 'refresh_token' | 'access_token'
}

/**
 * Revokes a token (RFC 7009): one request, authenticated like a refresh. Resolves on any
 * 2xx (servers answer 200 for unknown tokens too); rejects with an `OAuthError` otherwise.
 */
export declare function revokeToken(options: RevokeTokenOptions): Promise<void>

/** A KV-style store: Workers KV, a Map-backed object, a localStorage wrapper. */
export interface TokenStore {
  get(key: string): string | null | undefined | Promise<string | null | undefined>
  put(key: string, value: string): void | Promise<void>
  /**
   * Optional, with `unlock`: takes the refresh lock of `key` for `owner` for `ttlMs` ms, if
   * free. Resolves true when taken, false when another owner holds it (it may wait a little
   * first). Many processes then share one refresh per expiry (`freshtoken/redis`).
   */
  lock?(key: string, owner: string, ttlMs: number): boolean | Promise<boolean>
  /** Releases the lock of `key` if `owner` still holds it. */
  unlock?(key: string, owner: string): unknown
}

/** What a TokenCache reports: built only from values that are never secret. */
export type CacheEvent =
  | { type: 'refreshStart'; forced: boolean }
  | { type: 'backgroundRefresh' }
  | { type: 'storeRead' | 'storeWrite' | 'lock'; ok: boolean; durationMs: number }
  | { type: 'request'; attempt: number; durationMs: number; ok: boolean; status?: number; code?: string }
  | { type: 'retryScheduled' | 'lockWait'; delayMs: number; attempt: number }
  | { type: 'refreshEnd'; ok: boolean; durationMs: number; attempts: number; code?: string }

/** Retry policy of a TokenCache: network errors, timeouts, 408, 429 and 5xx only. */
export interface RetryOptions {
  /** Retries after the first attempt. Default 2. */
  retries?: number
  /** First backoff delay in ms (exponential, with jitter). Default 200. */
  minDelayMs?: number
  /** Largest delay, and the longest Retry-After waited for. Default 5000. */
  maxDelayMs?: number
}

/** Options of a TokenCache: those of a refresh, plus caching. */
export interface TokenCacheOptions extends RefreshOptions {
  /** A token with less than this left is not fresh (capped at half its lifetime); exactly this left still is. Default 60000. */
  refreshSkewMs?: number
  /** `invalidate(accessToken)` drops a token younger than this (not expired) at most once per this many ms. Default 0 (the TokenBroker uses 10000). */
  minTokenAgeMs?: number
  /**
   * Within refreshSkewMs the token is still served while one background refresh runs,
   * until it has less than this left (capped at the skew); then callers wait. Default 5000.
   */
  expiryMarginMs?: number
  /**
   * After a failed refresh, callers without a servable token get that same rejection for this
   * long (or the server's Retry-After, at most 300000) instead of each sending a request;
   * `refresh()` is not held back. 0 turns it off. Default 1000.
   */
  failureCooldownMs?: number
  /**
   * Called with every {@link CacheEvent} (synchronously; its return value and what it throws
   * are ignored). In Node the same events go to the `freshtoken` diagnostics channel.
   */
  onEvent?: (event: CacheEvent) => void
  /** The RFC 7009 revocation endpoint, for `revoke()`. */
  revocationUrl?: string
  /** Lifetime assumed when the response has no expires_in. Default 3600. */
  defaultExpiresInSec?: number
  /** Shares tokens (and the rotated refresh token) across instances. */
  store?: TokenStore
  /** Default: 'freshtoken:' + base64url SHA-256 of tokenUrl, clientId and refreshToken. */
  storeKey?: string
  /**
   * The TTL of the store's refresh lock: a holder that dies frees it after this. Default:
   * the worst-case refresh, (retries + 1) × timeoutMs × (3 in auto client auth, else 1)
   * + retries × retry.maxDelayMs + 5000, at most 600000.
   */
  lockTtlMs?: number
  /** Called and awaited after every successful refresh, before any caller gets the token. */
  onTokens?: (tokenSet: TokenSet) => void | Promise<void>
  retry?: RetryOptions
}

/**
 * Keeps an access token fresh: cached while fresh, at most one token request at a time for
 * any number of concurrent callers, a rotated refresh token never lost.
 */
export declare class TokenCache {
  /** @throws OAuthError `invalid_options` / `insecure_url`, synchronously. */
  constructor(options: TokenCacheOptions | (Omit<TokenCacheOptions, 'refreshToken' | 'grant'> & { grant: 'client_credentials'; clientSecret: string }))
  /**
   * A cache seeded with a TokenSet you already hold (from `exchangeCode`): no first refresh.
   * `options.refreshToken` defaults to `tokenSet.refreshToken`.
   */
  static fromTokenSet(tokenSet: TokenSet, options: Omit<TokenCacheOptions, 'refreshToken'> & { refreshToken?: string }): TokenCache
  /** The access token: cached while fresh, else one (shared) refresh. */
  getAccessToken(): Promise<string>
  /** The TokenSet (refreshToken is always the one in use), same rules. */
  getToken(): Promise<TokenSet>
  /** Joins a refresh in flight, else always sends one. */
  refresh(): Promise<TokenSet>
  /**
   * Revokes the refresh token at `revocationUrl` (RFC 7009), then forgets the tokens in
   * memory and in the store. Rejects `invalid_options` without a `revocationUrl`.
   */
  revoke(): Promise<void>
  /**
   * Forgets the access token (e.g. after a 401); keeps the refresh token. With `accessToken`,
   * only if that is the held one (see `minTokenAgeMs`). Either way that token
   * is never taken back from the store. Returns whether a token was dropped.
   */
  invalidate(accessToken?: string): boolean
  /** The access token if fresh, else undefined. */
  peek(): string | undefined
  /** Expiry of the held access token, epoch ms. */
  readonly expiresAt: number | undefined
  /** Whether an access token is held. */
  readonly hasToken: boolean
  /** Whether a refresh is in flight. */
  readonly refreshing: boolean
  /** fetch with `Authorization: Bearer …`; on 401 invalidates, refreshes once and retries once. */
  fetch(input: RequestInfo | URL, init?: RequestInit): Promise<Response>
  /** The store key in use: a hash unless set, never a secret. Caches with one key share a grant. */
  readonly storeKey: string
  /** `{ expiresAt, hasToken, refreshing, storeKey }`: never a secret. */
  toJSON(): { expiresAt?: number; hasToken: boolean; refreshing: boolean; storeKey: string }
  /** Releases the wasm memory now (otherwise a FinalizationRegistry does it). */
  free(): void
}
