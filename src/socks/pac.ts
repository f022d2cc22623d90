// The proxy auto-config file a browser fetches from the SOCKS port: everything, or only the listed
// domains (`*.intranet`), goes through the proxy; the rest stays DIRECT.

import { formatEndpoint, type TcpEndpoint } from "../engine/types.ts";

export function pacFile(bind: TcpEndpoint, domains: string[]): string {
  // A proxy bound to every address is reached on loopback from the machine that fetched the file.
  const host = bind.host === "0.0.0.0" || bind.host === "::" ? "127.0.0.1" : bind.host;
  const proxy = formatEndpoint({ host, port: bind.port });
  const route = `"SOCKS5 ${proxy}; SOCKS ${proxy}"`;
  if (domains.length === 0) return `function FindProxyForURL(url, host) {\n  return ${route};\n}\n`;
  const tests = domains.map((d) => `shExpMatch(host, ${JSON.stringify(d)})`).join(" ||\n      ");
  return `function FindProxyForURL(url, host) {\n  if (${tests})\n    return ${route};\n  return "DIRECT";\n}\n`;
}
