// A minimal W3C WebDriver client (fetch over loopback) for the browsers playwright-core cannot
// drive from Debian's packages: Firefox ESR through geckodriver, WebKitGTK's MiniBrowser through
// WebKitWebDriver (under Xvfb: MiniBrowser needs a display). Every wait is bounded.
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { createServer } from 'node:net'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

const sleep = (ms) => new Promise((r) => setTimeout(r, ms))

export async function freePort() {
  const s = createServer()
  s.listen(0, '127.0.0.1')
  await once(s, 'listening')
  const { port } = s.address()
  await new Promise((r) => s.close(r))
  return port
}

/** Starts `cmd` and waits (bounded) until `port` answers WebDriver's /status. */
async function startDriver(cmd, args, port, env) {
  const child = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, ...env } })
  let stderr = ''
  child.stderr.on('data', (d) => { stderr = (stderr + d).slice(-4000) })
  const base = `http://127.0.0.1:${port}`
  for (let i = 0; i < 100; i++) {
    if (child.exitCode !== null) throw new Error(`${cmd} exited ${child.exitCode}: ${stderr}`)
    try {
      const r = await fetch(base + '/status')
      if (r.ok) return { base, child, stderr: () => stderr }
    } catch {}
    await sleep(100)
  }
  child.kill('SIGKILL')
  throw new Error(`${cmd} did not answer on ${port} within 10 s: ${stderr}`)
}

async function call(base, method, path, body) {
  const r = await fetch(base + path, {
    method,
    headers: { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(60_000),
  })
  const json = await r.json()
  if (!r.ok) throw new Error(`WebDriver ${method} ${path}: ${JSON.stringify(json.value).slice(0, 500)}`)
  return json.value
}

/** Opens a session; `page(url)` loads a page and returns what `window.result` settles to. */
async function session(driver, capabilities, cleanup) {
  let id
  try {
    id = (await call(driver.base, 'POST', '/session', { capabilities: { alwaysMatch: capabilities } })).sessionId
    await call(driver.base, 'POST', `/session/${id}/timeouts`, { script: 30_000, pageLoad: 30_000 })
  } catch (e) {
    driver.child.kill('SIGKILL')
    cleanup()
    throw new Error(`${e.message}\n${driver.stderr()}`)
  }
  return {
    async page(url) {
      await call(driver.base, 'POST', `/session/${id}/url`, { url })
      // Waits (bounded by the script timeout) for the page's module to set window.result.
      return call(driver.base, 'POST', `/session/${id}/execute/async`, {
        script: `const done = arguments[arguments.length - 1]; let n = 0;
          (function wait() {
            if (window.result) Promise.resolve(window.result).then(done, (e) => done('ERR ' + e))
            else if (++n > 500) done('ERR window.result never set')
            else setTimeout(wait, 50)
          })()`,
        args: [],
      })
    },
    async close() {
      await call(driver.base, 'DELETE', `/session/${id}`).catch(() => {})
      driver.child.kill('SIGTERM')
      await Promise.race([once(driver.child, 'exit'), sleep(5000)])
      driver.child.kill('SIGKILL')
      cleanup()
    },
  }
}

/** Headless Firefox ESR through geckodriver (crates.io), with a throwaway profile home. */
export async function firefox() {
  const port = await freePort()
  const home = mkdtempSync(join(tmpdir(), 'freshtoken-firefox-'))
  const driver = await startDriver('geckodriver', ['--host', '127.0.0.1', '--port', String(port)], port, { HOME: home, MOZ_HEADLESS: '1' })
  return session(driver, {
    browserName: 'firefox',
    'moz:firefoxOptions': { binary: '/usr/bin/firefox-esr', args: ['-headless'], prefs: { 'network.proxy.type': 0 } },
  }, () => rmSync(home, { recursive: true, force: true }))
}

/** WebKitGTK's MiniBrowser through WebKitWebDriver, on a private Xvfb display. */
export async function webkit() {
  const display = `:${90 + Math.floor(Math.random() * 400)}`
  const xvfb = spawn('Xvfb', [display, '-screen', '0', '1024x768x24', '-nolisten', 'tcp'], { stdio: 'ignore' })
  await sleep(500)
  if (xvfb.exitCode !== null) throw new Error(`Xvfb ${display} exited ${xvfb.exitCode}`)
  const port = await freePort()
  let driver
  try {
    driver = await startDriver('WebKitWebDriver', [`--port=${port}`], port, { DISPLAY: display, WEBKIT_DISABLE_COMPOSITING_MODE: '1' })
  } catch (e) {
    xvfb.kill('SIGKILL')
    throw e
  }
  return session(driver, {
    browserName: 'MiniBrowser',
    'webkitgtk:browserOptions': { binary: '/usr/lib/x86_64-linux-gnu/webkit2gtk-4.1/MiniBrowser', args: ['--automation'] },
  }, () => xvfb.kill('SIGKILL'))
}
