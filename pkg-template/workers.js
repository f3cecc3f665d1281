// `freshtoken/workers`: the TokenBroker Durable Object and its wasm-free client helpers.
export { TokenBroker } from './broker-object.js'
export { brokerAccessToken, brokerToken, brokerInvalidate } from './broker.js'
