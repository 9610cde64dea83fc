// A real `asa sim` + `asa serve` pair (SQLite on a temp dir, an admin listener on loopback)
// and a headless Debian Chromium driven by playwright-core, for the dashboard's tests.
import { execFileSync, spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, openSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

const HERE = path.dirname(fileURLToPath(import.meta.url));
export const ARTIFACTS = path.join(HERE, "artifacts");
export const ADMIN_TOKEN = "e2e-operator-token-0123456789";

export function asaBin() {
  return process.env.ASA_BIN ?? path.resolve(HERE, "..", "..", "target", "debug", "asa");
}

function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

async function waitHealthy(url, child, name) {
  const until = Date.now() + 30000;
  while (Date.now() < until) {
    if (child.exitCode !== null) throw new Error(`${name} exited with ${child.exitCode}`);
    try {
      if ((await fetch(url)).status === 200) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`${name} not healthy at ${url} within 30 s`);
}

/** Starts the servers; returns their URLs, account helpers and `stop`. */
export async function startServer() {
  const bin = asaBin();
  const dir = mkdtempSync(path.join(tmpdir(), "asa-dashboard-e2e-"));
  const [simPort, apiPort, adminPort] = [await freePort(), await freePort(), await freePort()];
  // `asa` refuses unknown ASA_* variables: pass only ours.
  const inherited = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("ASA_")));
  const env = {
    ...inherited,
    ASA_LISTEN: `127.0.0.1:${apiPort}`,
    ASA_DATABASE_URL: `sqlite://${dir}/asa.db`,
    ASA_UPSTREAM_URL_TEMPLATE: `http://127.0.0.1:${simPort}/amazon.{domain}`,
    ASA_UPSTREAM_TIMEOUT: "3s",
    ASA_FAILURES_DIR: `${dir}/failures`,
    ASA_SANDBOX_BOOTSTRAP: "false",
    ASA_ADMIN_TOKEN: ADMIN_TOKEN,
    ASA_ADMIN_LISTEN: `127.0.0.1:${adminPort}`,
  };
  const log = (name) => openSync(path.join(dir, name), "w");
  const sim = spawn(bin, ["sim", "--listen", `127.0.0.1:${simPort}`], { env, stdio: ["ignore", log("sim.log"), log("sim.err")] });
  const api = spawn(bin, ["serve"], { env, stdio: ["ignore", log("api.log"), log("api.err")] });
  const stop = async () => {
    for (const child of [api, sim]) {
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once("exit", r));
        child.kill("SIGTERM");
        await exited;
      }
    }
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const baseUrl = `http://127.0.0.1:${apiPort}`;
    await waitHealthy(`${baseUrl}/healthz`, api, "asa serve");
    const admin = (...args) => execFileSync(bin, ["admin", ...args], { env, encoding: "utf8" });
    const account = (plan, credits, test) => {
      const id = JSON.parse(admin("account", "create", "--plan", plan, "--credits", String(credits), "--json")).id;
      const k = JSON.parse(admin("key", "create", "--account", id, ...(test ? ["--test"] : []), "--json"));
      return { account: id, key: k.key, keyId: k.id };
    };
    return {
      baseUrl,
      adminUrl: `http://127.0.0.1:${adminPort}`,
      /** A new account with a live key (billed, fetched from the simulator). */
      live: (credits = 1000, plan = "vibe") => account(plan, credits, false),
      /** A new account with a sandbox key (the built-in simulator, never billed). */
      sandbox: () => account("free", 0, true),
      /** Calls the API with a key, as a user's program would. */
      api: async (key, pathAndQuery, init = {}) => {
        const r = await fetch(`${baseUrl}${pathAndQuery}`, {
          ...init,
          headers: { authorization: `Bearer ${key}`, ...(init.headers ?? {}) },
        });
        return { status: r.status, body: await r.json(), headers: r.headers };
      },
      stop,
    };
  } catch (e) {
    const tail = ["sim.err", "api.err"].map((f) => `${f}:\n${readFileSync(path.join(dir, f), "utf8").slice(-2000)}`).join("\n");
    await stop();
    throw new Error(`${String(e)}\n${tail}`);
  }
}

/** Headless Debian Chromium, flags as this machine's closed network needs. */
export async function startBrowser() {
  mkdirSync(ARTIFACTS, { recursive: true });
  return chromium.launch({
    executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
    headless: true,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
}

/** Saves a full-page screenshot under artifacts/. */
export async function shot(page, name) {
  await page.screenshot({ path: path.join(ARTIFACTS, `${name}.png`), fullPage: true });
}

/** How long the page's navigation took, from the browser's own timing. */
export async function loadMs(page) {
  return page.evaluate(() => {
    const [nav] = performance.getEntriesByType("navigation");
    return nav ? Math.round(nav.loadEventEnd - nav.startTime) : -1;
  });
}
