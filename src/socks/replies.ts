// SOCKS reply codes, and the map from why a connection could not be opened to the code that makes a
// client (curl, a browser) print the real cause instead of a generic failure.

export const SOCKS5 = {
  succeeded: 0x00,
  generalFailure: 0x01,
  notAllowed: 0x02,
  networkUnreachable: 0x03,
  hostUnreachable: 0x04,
  connectionRefused: 0x05,
  ttlExpired: 0x06,
  commandNotSupported: 0x07,
  addressTypeNotSupported: 0x08,
} as const;

export const SOCKS4 = { granted: 0x5a, rejected: 0x5b } as const;

/** FwdError.reason (from the ssh adapter or a local dial) → SOCKS5 reply code. */
export function socks5CodeFor(reason: string | undefined): number {
  switch (reason) {
    case "prohibited":
    case "not-allowed":
      return SOCKS5.notAllowed;
    case "refused":
      return SOCKS5.connectionRefused;
    case "unreachable":
    case "dns":
    // A name no host can have (a NUL, a control character): to the client it is a name that resolves
    // to nothing, like "dns". Not 8 (address type not supported): the type, a domain name, is supported.
    case "bad-address":
      return SOCKS5.hostUnreachable;
    case "net-unreachable":
    case "no-session":
      return SOCKS5.networkUnreachable;
    case "timeout":
      return SOCKS5.ttlExpired;
    default:
      return SOCKS5.generalFailure;
  }
}

/** A SOCKS5 reply with an all-zero IPv4 bound address (clients do not use it for CONNECT). */
export const socks5Reply = (code: number) => Buffer.from([0x05, code, 0x00, 0x01, 0, 0, 0, 0, 0, 0]);
export const socks4Reply = (code: number) => Buffer.from([0x00, code, 0, 0, 0, 0, 0, 0]);
