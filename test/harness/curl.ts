// Runs the real curl asynchronously (a spawnSync would block this process's own test servers) and
// returns its exit code, stdout and stderr.

import { spawn } from "node:child_process";

export function curl(args: string[], timeoutS = 10): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn("curl", ["-sS", "--max-time", String(timeoutS), ...args], { stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    p.stdout.on("data", (d) => (stdout += d));
    p.stderr.on("data", (d) => (stderr += d));
    p.on("close", (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}
