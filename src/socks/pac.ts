// The proxy auto-config file a browser fetches from the SOCKS port: everything, or only the listed
// domains (`*.intranet`), goes through the proxy; the rest stays DIRECT. `bind` is the address the
// browser reached the proxy on, so the file works for a LAN client as well as on this machine. It is
// served only to requests whose Host names this proxy.

import { isLoopbackAddress, formatEndpoint, type TcpEndpoint } from "../vocab/endpoint.ts";

export function pacFile(bind: TcpEndpoint, domains: string[]): string {
  const host = bind.host.replace(/^::ffff:/, "");
  const proxy = formatEndpoint({ host, port: bind.port });
  const route = `"SOCKS5 ${proxy}; SOCKS ${proxy}"`;
  if (domains.length === 0) return `function FindProxyForURL(url, host) {\n  return ${route};\n}\n`;
  const tests = domains.map((d) => `shExpMatch(host, ${JSON.stringify(d)})`).join(" ||\n      ");
  return `function FindProxyForURL(url, host) {\n  if (${tests})\n    return ${route};\n  return "DIRECT";\n}\n`;
}

/**
 * Whether a Host header (`127.0.0.1:1080`, `[::1]:1080`, `localhost`) names this proxy: a loopback
 * name or address, the address the client reached (`local`), or the name it was told to listen on
 * (`bind`). Any other name may be a DNS name an attacker rebound to this address.
 */
export function pacHostOk(header: string, here: { local: string | undefined; bind: string; port: number }): boolean {
  const m = /^(?:\[([^\]]+)\]|([^:[\]]+))(?::(\d{1,5}))?$/.exec(header);
  if (!m) return false;
  if (m[3] !== undefined && Number(m[3]) !== here.port) return false;
  const name = (m[1] ?? m[2]!).toLowerCase().replace(/\.$/, "");
  const local = here.local?.replace(/^::ffff:/, "");
  return isLoopbackAddress(name) || name === local || name === here.bind.toLowerCase();
}
