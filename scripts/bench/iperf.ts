// Bulk throughput through a tunnel with iperf3: a one-shot server on loopback as the tunnel's target,
// the client pointed at the tunnel's local port. Both iperf3 connections (control and data) cross the
// tunnel.

import { spawn } from "node:child_process";
import { stopChild, track } from "./children.ts";

/** A one-shot `iperf3 -s -1`; resolves once it prints that it listens (a probe connect would use up its one test). */
export async function startIperfServer(port: number): Promise<{ stop(): Promise<void> }> {
  const p = track(spawn("iperf3", ["-s", "-1", "-p", String(port), "--forceflush"], { stdio: ["ignore", "pipe", "pipe"] }));
  let out = "";
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`iperf3 -s did not listen within 5 s: ${out}`)), 5_000);
    const onData = (d: Buffer) => {
      out += d.toString();
      if (/Server listening on/.test(out)) {
        clearTimeout(timer);
        resolve();
      }
    };
    p.stdout!.on("data", onData);
    p.stderr!.on("data", onData);
    p.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`iperf3 -s exited (${code}): ${out}`));
    });
  });
  return { stop: () => stopChild(p) };
}

/** One iperf3 transfer as its receiving side measured it. */
export interface Transfer {
  gbps: number;
  bytes: number;
}

/**
 * Runs `iperf3 -c -n bytes` against the tunnel's port (`reverse`: the server sends) and gives the rate
 * and the byte count the receiving side measured. A fixed amount rather than a fixed time, so that
 * CPU per GiB and the memory peak refer to the same bytes for both tools.
 */
export async function runIperf(tunnelPort: number, bytes: number, reverse: boolean): Promise<Transfer> {
  const args = ["-c", "127.0.0.1", "-p", String(tunnelPort), "-n", String(bytes), "-J", "--connect-timeout", "5000"];
  if (reverse) args.push("-R");
  const p = track(spawn("iperf3", args, { stdio: ["ignore", "pipe", "pipe"] }));
  let out = "";
  let err = "";
  p.stdout!.on("data", (d: Buffer) => (out += d.toString()));
  p.stderr!.on("data", (d: Buffer) => (err += d.toString()));
  // Bounded even for a tunnel that crawls: 30 s, or longer for a transfer that needs it at 50 MB/s.
  const timer = setTimeout(() => p.kill("SIGKILL"), Math.max(30_000, bytes / 50_000));
  const code = await new Promise<number | null>((resolve) => p.once("exit", resolve));
  clearTimeout(timer);
  let report: { error?: string; end?: { sum_received?: { bits_per_second?: number; bytes?: number } } };
  try {
    report = JSON.parse(out);
  } catch {
    throw new Error(`iperf3 -c exited (${code}) without a JSON report: ${err || out}`);
  }
  const got = report.end?.sum_received;
  if (report.error || typeof got?.bits_per_second !== "number" || typeof got.bytes !== "number")
    throw new Error(`iperf3 -c: ${report.error ?? "no sum_received in its report"}`);
  return { gbps: got.bits_per_second / 1e9, bytes: got.bytes };
}
