// Runs the token server, optionally around a command:
//   node tests/server/serve.mjs [--port N] [--lifetime S] [--rotate] [-- cmd args...]
// With a command, the server stops when the command ends, and the exit code is the command's.
import { spawn } from 'node:child_process'
import { startTokenServer } from './token-server.mjs'

const args = process.argv.slice(2)
const dash = args.indexOf('--')
const own = dash < 0 ? args : args.slice(0, dash)
const cmd = dash < 0 ? [] : args.slice(dash + 1)
const flag = (name, dflt) => { const i = own.indexOf(name); return i < 0 ? dflt : own[i + 1] }

const server = await startTokenServer({
  port: Number(flag('--port', 0)),
  lifetimeSec: Number(flag('--lifetime', 7200)),
  rotate: own.includes('--rotate'),
})
console.error(`token server: ${server.tokenUrl}`)
if (cmd.length === 0) {
  const stop = () => server.close().then(() => process.exit(0))
  process.on('SIGINT', stop)
  process.on('SIGTERM', stop)
} else {
  const child = spawn(cmd[0], cmd.slice(1), { stdio: 'inherit', env: { ...process.env, FRESHTOKEN_TEST_ORIGIN: server.origin } })
  child.on('exit', async (code, signal) => {
    await server.close()
    process.exit(code ?? (signal ? 1 : 0))
  })
}
