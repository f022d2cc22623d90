// The ssh2 patch that makes a client channel's stderr stream on first use (patches/ssh2+*.patch,
// Channel's `get stderr`): a forward's channel never builds one, and one asked for late — after the
// peer's EOF and close — is already ended, as it would have been had it existed all along.

import { afterAll, beforeAll, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { Client, type ClientChannel } from "ssh2";
import { startEcho } from "../harness/net.ts";
import { startSshd, type Sshd } from "../harness/sshd.ts";

let sshd: Sshd;
let client: Client;
beforeAll(async () => {
  sshd = await startSshd();
  client = new Client();
  await new Promise<void>((resolve, reject) => {
    client.once("ready", () => resolve()).once("error", reject);
    client.connect({ host: sshd.host, port: sshd.port, username: sshd.user, privateKey: readFileSync(sshd.clientKey), hostVerifier: () => true });
  });
});
afterAll(async () => {
  client?.end();
  await sshd?.stop();
});

/** The patched Channel keeps its stream in `_stderr` ("none yet" is undefined); unpatched, that key does not exist. */
const stderrOf = (ch: ClientChannel) => ("_stderr" in ch ? (ch as unknown as { _stderr?: unknown })._stderr : "no _stderr: ssh2 unpatched");

test("a direct-tcpip channel has no stderr stream unless asked; asked after close, it has ended and closes", async () => {
  const echo = await startEcho();
  try {
    const ch = await new Promise<ClientChannel>((resolve, reject) =>
      client.forwardOut("127.0.0.1", 1, "127.0.0.1", echo.port, (err, c) => (err ? reject(err) : resolve(c))),
    );
    const closed = new Promise((r) => ch.once("close", r));
    const reply = new Promise<string>((resolve) => {
      let got = "";
      ch.on("data", (d: Buffer) => (got += d)).once("end", () => resolve(got));
    });
    ch.end("ping");
    expect(await reply).toBe("ping");
    await closed;
    expect(stderrOf(ch)).toBeUndefined();
    const late = ch.stderr;
    const events: string[] = [];
    late.once("end", () => events.push("end")).once("close", () => events.push("close"));
    late.resume();
    await new Promise((r) => setTimeout(r, 50));
    // Both, in either order: ssh2 emits the stream's 'close' from an 'end' listener of its own.
    expect(events.sort()).toEqual(["close", "end"]);
  } finally {
    await echo.close();
  }
});

test("an exec channel's stderr carries what the command writes there, whether or not it was asked for before", async () => {
  const ch = await new Promise<ClientChannel>((resolve, reject) => client.exec("echo to-stderr >&2", (err, c) => (err ? reject(err) : resolve(c))));
  const closed = new Promise((r) => ch.once("close", r));
  ch.resume();
  // Not touched until the command has ended and the channel closed: the data waited in the stream made for it.
  await closed;
  let got = "";
  await new Promise<void>((resolve) => ch.stderr.on("data", (d: Buffer) => (got += d)).once("end", () => resolve()));
  expect(got).toBe("to-stderr\n");
});
