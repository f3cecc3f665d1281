// The client side of the TokenBroker Durable Object. No wasm here: a Worker that only asks
// the broker for tokens does not load freshtoken's wasm (bundlers drop the rest: the
// package's `sideEffects` lists only the entries that initialise).

/** The access token (a string) from the broker object named `name`. */
export async function brokerAccessToken(namespace, name) {
  return (await brokerToken(namespace, name)).accessToken
}

/** `{ accessToken, tokenType, expiresAt }` from the broker object named `name`. */
export async function brokerToken(namespace, name) {
  return unwrap(await stub(namespace, name).token(name))
}

/** After a 401: the broker drops `accessToken` if it is still its current one. */
export async function brokerInvalidate(namespace, name, accessToken) {
  unwrap(await stub(namespace, name).invalidate(name, accessToken))
}

const stub = (namespace, name) => namespace.get(namespace.idFromName(name))

/** Errors cross the RPC boundary as plain data; rebuild them as `Error`s. An `OAuthError`
 *  keeps its fields, and passes `instanceof OAuthError` (a brand check) where loaded. */
function unwrap(reply) {
  if (!reply.error) return reply.value
  const { message, ...fields } = reply.error
  throw Object.assign(new Error(message), fields)
}
