// A real simulator and server (`asa dev`: SQLite on a temp dir, an admin listener on
// loopback) and a headless Debian Chromium driven by playwright-core, for the dashboard's
// tests.
import { execFileSync, spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, openSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

const HERE = path.dirname(fileURLToPath(import.meta.url));
export const ARTIFACTS = path.join(HERE, "artifacts");
export const ADMIN_TOKEN = "e2e-operator-token-0123456789";

export function asaBin() {
  return process.env.ASA_BIN ?? path.resolve(HERE, "..", "..", "target", "debug", "asa");
}

/** The first stdout line of `asa dev --json`, or an error if it exits before printing one. */
function devLine(child) {
  return new Promise((resolve, reject) => {
    const lines = createInterface({ input: child.stdout });
    const exited = (code) => reject(new Error(`asa dev exited with ${code}`));
    child.once("exit", exited);
    lines.once("line", (line) => {
      child.off("exit", exited);
      lines.close();
      resolve(JSON.parse(line));
    });
  });
}

/** Starts the servers; returns their URLs, account helpers and `stop`. */
export async function startServer() {
  const bin = asaBin();
  const dir = mkdtempSync(path.join(tmpdir(), "asa-dashboard-e2e-"));
  // `asa` refuses unknown ASA_* variables: pass only ours.
  const inherited = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("ASA_")));
  const devEnv = {
    ...inherited,
    ASA_UPSTREAM_TIMEOUT: "3s",
    ASA_FAILURES_DIR: `${dir}/failures`,
    ASA_SANDBOX_BOOTSTRAP: "false",
    ASA_ADMIN_TOKEN: ADMIN_TOKEN,
  };
  const dev = spawn(bin, ["dev", "--json"], { env: devEnv, stdio: ["ignore", "pipe", openSync(path.join(dir, "dev.err"), "w")] });
  const stop = async () => {
    if (dev.exitCode === null && dev.signalCode === null) {
      const exited = new Promise((r) => dev.once("exit", r));
      dev.kill("SIGTERM");
      await exited;
    }
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const line = await devLine(dev);
    const baseUrl = line.api;
    // `asa admin` works on the database `asa dev` made.
    const env = { ...devEnv, ASA_DATABASE_URL: line.database_url };
    const admin = (...args) => execFileSync(bin, ["admin", ...args], { env, encoding: "utf8" });
    const account = (plan, credits, test) => {
      const id = JSON.parse(admin("account", "create", "--plan", plan, "--credits", String(credits), "--json")).id;
      const k = JSON.parse(admin("key", "create", "--account", id, ...(test ? ["--test"] : []), "--json"));
      return { account: id, key: k.key, keyId: k.id };
    };
    return {
      baseUrl,
      adminUrl: line.admin,
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
    const tail = readFileSync(path.join(dir, "dev.err"), "utf8").slice(-2000);
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
