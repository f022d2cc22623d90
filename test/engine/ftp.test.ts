// FtpControl's reply rewriting, line by line: what the client is told, and which data ports it opens.

import { describe, expect, test } from "bun:test";
import { PassThrough } from "node:stream";
import { FtpControl } from "../../src/engine/ftp.ts";
import { ok } from "../../src/errors.ts";

async function rewrite(server: string): Promise<{ client: string; opened: number[] }> {
  const channel = new PassThrough();
  const opened: number[] = [];
  const ctl = new FtpControl(channel, async (port) => (opened.push(port), ok({ host: "127.0.0.1", port: 50000 + opened.length })));
  let client = "";
  ctl.on("data", (d: Buffer) => (client += d.toString("latin1")));
  const ended = new Promise((r) => ctl.once("end", r));
  channel.end(server);
  await ended;
  return { client, opened };
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
});
