// The two parts of ssh2 a client uses, taken from their own files. ssh2's index loads all of it —
// the server, key generation, and HTTP agents that bring node:http, node:https and node:tls with
// them — and a tunnel never runs any of that: measured, idle RSS 25.0 → 23.9 MiB (anonymous memory
// 12.0 → 11.0) with the same tunnel. The types are ssh2's own (@types/ssh2 describes the index only).

import type { Client as Ssh2Client, utils } from "ssh2";
// @ts-ignore: no declaration for ssh2's files, only for its index (typed by the casts below).
import ClientImpl from "ssh2/lib/client.js";
// @ts-ignore: as above.
import { parseKey as parseKeyImpl } from "ssh2/lib/protocol/keyParser.js";

export const Client = ClientImpl as typeof Ssh2Client;
export type Client = Ssh2Client;
export const parseKey = parseKeyImpl as typeof utils.parseKey;
