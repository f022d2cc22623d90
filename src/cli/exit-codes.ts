// Exit codes, one per kind of failure, so scripts can tell a wrong password from a dead server.

import type { ErrorCode } from "../errors.ts";

export const EXIT = {
  ok: 0,
  bug: 1,
  config: 2,
  connect: 3,
  auth: 4,
  hostKey: 5,
  forward: 6,
  lost: 7,
  /** `fwd check`: the tunnel is up but the far end did not answer as it should. */
  probe: 8,
  /** A second SIGINT ends fwd by the system's default action (signals.ts); the shell reports 130. */
  forced: 130,
} as const;

export function exitCodeFor(code: ErrorCode): number {
  switch (code) {
    case "E_CONFIG":
      return EXIT.config;
    case "E_CONNECT":
    case "E_PROTOCOL":
      return EXIT.connect;
    case "E_AUTH":
      return EXIT.auth;
    case "E_HOSTKEY":
      return EXIT.hostKey;
    case "E_BIND":
    case "E_FORWARD":
    case "E_CHANNEL":
      return EXIT.forward;
    case "E_CLOSED":
      return EXIT.lost;
  }
}
