/**
 * `freshtoken/workers`: a Durable Object that owns the refresh for a named client, and the
 * wasm-free helpers a Worker uses to ask it.
 * @packageDocumentation
 */
import type { DurableObject } from 'cloudflare:workers'
import type { TokenCacheOptions } from './index.js'

/** What the broker hands out: never the refresh token nor the client secret. */
export interface BrokerToken {
  accessToken: string
  tokenType: string
  /** Epoch ms, when known. */
  expiresAt?: number
}

/** Options the broker takes; `store` is always its Durable Object storage. */
export type BrokerOptions = Omit<TokenCacheOptions, 'store'>

/** Extend it and define `static options(env, name)`; bind it as a Durable Object class. */
export declare class TokenBroker<Env = unknown> extends DurableObject<Env> {
  /** The options for the client `name`, from `env`. Static: no RPC caller can reach it. */
  static options(env: any, name: string): BrokerOptions | Promise<BrokerOptions>
  /** RPC, used by the helpers below. */
  token(name: string): Promise<{ value?: BrokerToken; error?: Record<string, unknown> }>
  /** RPC, used by the helpers below. */
  invalidate(name: string, accessToken: string): Promise<{ error?: Record<string, unknown> }>
}

/** A Durable Object namespace binding of a `TokenBroker` class. */
export interface BrokerNamespace {
  idFromName(name: string): unknown
  get(id: any): any
}

/** The access token from the broker object named `name`. Rejects with an `OAuthError`-shaped error. */
export declare function brokerAccessToken(namespace: BrokerNamespace, name: string): Promise<string>
/** `{ accessToken, tokenType, expiresAt }` from the broker object named `name`. */
export declare function brokerToken(namespace: BrokerNamespace, name: string): Promise<BrokerToken>
/** After a 401: drops `accessToken` if it is still the broker's current token. */
export declare function brokerInvalidate(namespace: BrokerNamespace, name: string, accessToken: string): Promise<void>
