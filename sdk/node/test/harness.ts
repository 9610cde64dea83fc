import { ChildProcess, execFileSync, spawn } from "node:child_process";
import { mkdtempSync, openSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";

/** A real `asa sim` + `asa serve` pair for one test file. */
export interface Server {
  baseUrl: string;
  bin: string;
  /** The environment `asa admin` needs (database URL). */
  env: NodeJS.ProcessEnv;
  /** Creates an account and returns a fresh key for it. */
  key(plan?: "free" | "vibe" | "pro", credits?: number): { account: string; key: string; keyId: string | null };
  /** A sandbox key (`asa_test_`) on a new free account: served by the simulator, free. */
  sandboxKey(): string;
  stop(): Promise<void>;
}

const SDK_DIR = path.resolve(__dirname, "..", "..");

export function asaBin(): string {
  return process.env.ASA_BIN ?? path.resolve(SDK_DIR, "..", "..", "target", "debug", "asa");
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const addr = s.address();
      const port = typeof addr === "object" && addr ? addr.port : 0;
      s.close(() => resolve(port));
    });
  });
}

async function waitHealthy(url: string, child: ChildProcess, name: string): Promise<void> {
  const until = Date.now() + 30000;
  while (Date.now() < until) {
    if (child.exitCode !== null) throw new Error(`${name} exited with ${child.exitCode}`);
    try {
      const r = await fetch(url);
      if (r.status === 200) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`${name} not healthy at ${url} within 30 s`);
}

export async function startServer(): Promise<Server> {
  const bin = asaBin();
  const dir = mkdtempSync(path.join(tmpdir(), "asa-node-sdk-"));
  const simPort = await freePort();
  const apiPort = await freePort();
  // `asa` refuses unknown ASA_* variables (ASA_BIN, ASA_API_KEY, ...): pass only ours.
  const inherited = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("ASA_")));
  const env: NodeJS.ProcessEnv = {
    ...inherited,
    ASA_LISTEN: `127.0.0.1:${apiPort}`,
    ASA_DATABASE_URL: `sqlite://${dir}/asa.db`,
    ASA_UPSTREAM_URL_TEMPLATE: `http://127.0.0.1:${simPort}/amazon.{domain}`,
    ASA_UPSTREAM_TIMEOUT: "3s",
    ASA_FAILURES_DIR: `${dir}/failures`,
    ASA_SANDBOX_BOOTSTRAP: "false",
    // Batch webhooks may go to a test's receiver on loopback, over http.
    ASA_BATCHES_ALLOW_PRIVATE_WEBHOOKS: "true",
  };
  // Server logs go to files, shown only when the server does not come up.
  const log = (name: string) => openSync(path.join(dir, name), "w");
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
    const admin = (...args: string[]) => execFileSync(bin, ["admin", ...args], { env, encoding: "utf8" });
    return {
      baseUrl,
      bin,
      env,
      key(plan = "vibe", credits = 1000) {
        const account = JSON.parse(admin("account", "create", "--plan", plan, "--credits", String(credits), "--json")).id as string;
        const k = JSON.parse(admin("key", "create", "--account", account, "--json"));
        return { account, key: k.key as string, keyId: (k.id as string | undefined) ?? null };
      },
      sandboxKey() {
        const account = JSON.parse(admin("account", "create", "--plan", "free", "--credits", "0", "--json")).id as string;
        return JSON.parse(admin("key", "create", "--account", account, "--test", "--json")).key as string;
      },
      stop,
    };
  } catch (e) {
    const tail = ["sim.err", "api.err"].map((f) => `${f}:\n${readFileSync(path.join(dir, f), "utf8").slice(-2000)}`).join("\n");
    await stop();
    throw new Error(`${String(e)}\n${tail}`);
  }
}
