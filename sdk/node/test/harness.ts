import { ChildProcess, execFileSync, spawn } from "node:child_process";
import { mkdtempSync, openSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { createInterface } from "node:readline";

/** A real simulator and server (`asa dev`) for one test file. */
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

/** What `asa dev --json` prints once both answer. */
interface DevLine {
  api: string;
  database_url: string;
}

/** The first stdout line of `asa dev --json`, or an error if it exits before printing one. */
function devLine(child: ChildProcess): Promise<DevLine> {
  return new Promise((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! });
    const exited = (code: number | null) => reject(new Error(`asa dev exited with ${code}`));
    child.once("exit", exited);
    lines.once("line", (line) => {
      child.off("exit", exited);
      lines.close();
      resolve(JSON.parse(line) as DevLine);
    });
  });
}

export async function startServer(): Promise<Server> {
  const bin = asaBin();
  const dir = mkdtempSync(path.join(tmpdir(), "asa-node-sdk-"));
  // `asa` refuses unknown ASA_* variables (ASA_BIN, ASA_API_KEY, ...): pass only ours.
  const inherited = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("ASA_")));
  const devEnv: NodeJS.ProcessEnv = {
    ...inherited,
    ASA_UPSTREAM_TIMEOUT: "3s",
    ASA_FAILURES_DIR: `${dir}/failures`,
    ASA_SANDBOX_BOOTSTRAP: "false",
    // Batch webhooks may go to a test's receiver on loopback, over http.
    ASA_BATCHES_ALLOW_PRIVATE_WEBHOOKS: "true",
  };
  // Server logs go to a file, shown only when the server does not come up.
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
    const env: NodeJS.ProcessEnv = { ...devEnv, ASA_DATABASE_URL: line.database_url };
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
    const tail = readFileSync(path.join(dir, "dev.err"), "utf8").slice(-2000);
    await stop();
    throw new Error(`${String(e)}\n${tail}`);
  }
}
