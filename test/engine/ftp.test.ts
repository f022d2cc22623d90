// FtpControl's reply rewriting, line by line: what the client is told, and which data ports it opens.

import { describe, expect, test } from "bun:test";
import { PassThrough } from "node:stream";
import { FtpControl, MAX_LINE } from "../../src/engine/ftp.ts";
import { FwdError, ok } from "../../src/errors.ts";

/** The server's bytes in the given chunks; what the client reads, which ports opened, any error. */
async function rewrite(...chunks: string[]): Promise<{ client: string; opened: number[]; error?: Error }> {
  const channel = new PassThrough();
  const opened: number[] = [];
  const ctl = new FtpControl(channel, async (port) => (opened.push(port), ok({ host: "127.0.0.1", port: 50000 + opened.length })), "files");
  let client = "";
  let error: Error | undefined;
  ctl.on("data", (d: Buffer) => (client += d.toString("latin1")));
  const ended = new Promise((r) => (ctl.once("end", r), ctl.once("error", (e) => r((error = e)))));
  for (const c of chunks) channel.write(c);
  channel.end();
  await ended;
  return { client, opened, ...(error ? { error } : {}) };
}

describe("FtpControl", () => {
  test.each([
    ["PASV", "227 Entering Passive Mode (198,18,42,2,156,64).\r\n", "227 Entering Passive Mode (127,0,0,1,195,81).\r\n", [40000]],
    ["PASV without parentheses", "227 Entering Passive Mode 10,0,0,5,4,1\r\n", "227 Entering Passive Mode (127,0,0,1,195,81).\r\n", [1025]],
    ["EPSV", "229 Entering Extended Passive Mode (|||40001|)\r\n", "229 Entering Extended Passive Mode (|||50001|)\r\n", [40001]],
    ["bare LF", "227 ok (1,2,3,4,0,21)\n", "227 Entering Passive Mode (127,0,0,1,195,81).\n", [21]],
    ["out of range", "227 (999,0,0,5,999,999)\r\n", "425 fwd: cannot open the data connection through the tunnel.\r\n", []],
    ["a 227 inside a multi-line banner", "220-Welcome\r\n227 (1,2,3,4,5,6)\r\n220 ready\r\n", "220-Welcome\r\n227 (1,2,3,4,5,6)\r\n220 ready\r\n", []],
    ["other replies, and a last line without CRLF", "230 Login successful.\r\n221 bye", "230 Login successful.\r\n221 bye", []],
  ])("%s", async (_name, server, client, opened) => {
    const r = await rewrite(server);
    expect(r.client).toBe(client);
    expect(r.opened).toEqual(opened);
  });

  test("after 234 (AUTH TLS) everything passes through untouched", async () => {
    const tls = "234 Proceed\r\n\x16\x03\x01 binary 227 (1,2,3,4,5,6) no newline";
    const r = await rewrite(tls);
    expect(r.client).toBe(tls);
    expect(r.opened).toEqual([]);
  });

  test("a line split over many chunks, one byte each, is one reply", async () => {
    const r = await rewrite(..."230 ok\r\n227 (1,2,3,4,0,21)\r\n".split(""));
    expect(r.client).toBe("230 ok\r\n227 Entering Passive Mode (127,0,0,1,195,81).\r\n");
    expect(r.opened).toEqual([21]);
  });

  test.each([
    ["one chunk", [`200 ${"x".repeat(MAX_LINE - 6)}\r\n`]],
    ["two chunks", [`200 ${"x".repeat(MAX_LINE - 100)}`, `${"x".repeat(94)}\r\n`]],
  ])("a line of exactly MAX_LINE bytes passes (%s)", async (_name, chunks) => {
    const r = await rewrite(...chunks);
    expect(r.client.length).toBe(MAX_LINE);
    expect(r.error).toBeUndefined();
  });

  test.each([
    ["without a newline", ["220 hi\r\n", "x".repeat(MAX_LINE), "x"]],
    ["with a newline after it", ["220 hi\r\n", `200 ${"x".repeat(MAX_LINE)}\r\n`]],
  ])("a line over MAX_LINE closes the connection with an error naming the forward (%s)", async (_name, chunks) => {
    const r = await rewrite(...chunks);
    expect(r.client).toBe("220 hi\r\n");
    expect(r.error).toBeInstanceOf(FwdError);
    expect((r.error as FwdError).code).toBe("E_PROTOCOL");
    expect(r.error!.message).toBe(`files: the FTP server sent a reply line longer than ${MAX_LINE} bytes; control connection closed`);
  });

  test("a client that does not read pauses the channel (backpressure)", async () => {
    const channel = new PassThrough();
    const ctl = new FtpControl(channel, async () => ok({ host: "127.0.0.1", port: 50001 }));
    ctl.pause();
    const line = `200 ${"x".repeat(1000)}\r\n`;
    for (let i = 0; i < 100 && channel.write(line); i++) await Bun.sleep(0);
    // The channel stopped taking bytes: its own buffer filled because the control stopped reading it.
    expect(channel.isPaused()).toBe(true);
    // What waits for the client is its high-water mark, plus at most the line that crossed it.
    expect(ctl.readableLength).toBeLessThanOrEqual(ctl.readableHighWaterMark + line.length);
    ctl.destroy();
  });
});

