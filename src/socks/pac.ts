// The proxy auto-config file a browser fetches from the SOCKS port: everything, or only the listed
// domains (`*.intranet`), goes through the proxy; the rest stays DIRECT. `bind` is the address the
// browser reached the proxy on, so the file works for a LAN client as well as on this machine.

import { formatEndpoint, type TcpEndpoint } from "../engine/types.ts";

export function pacFile(bind: TcpEndpoint, domains: string[]): string {
  const host = bind.host.replace(/^::ffff:/, "");
  const proxy = formatEndpoint({ host, port: bind.port });
  const route = `"SOCKS5 ${proxy}; SOCKS ${proxy}"`;
  if (domains.length === 0) return `function FindProxyForURL(url, host) {\n  return ${route};\n}\n`;
  const tests = domains.map((d) => `shExpMatch(host, ${JSON.stringify(d)})`).join(" ||\n      ");
  return `function FindProxyForURL(url, host) {\n  if (${tests})\n    return ${route};\n  return "DIRECT";\n}\n`;
}
