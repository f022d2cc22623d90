// The example scenarios, one per built-in plugin, embedded in the binary as text.

import egressIpRotation from "./egress-ip-rotation.toml" with { type: "text" };
import intranetWiki from "./intranet-wiki.toml" with { type: "text" };
import mysqlViaBastion from "./mysql-via-bastion.toml" with { type: "text" };
import rdpHome from "./rdp-home.toml" with { type: "text" };

export const BUILTIN_SCENARIOS: Record<string, string> = {
  "mysql-via-bastion": mysqlViaBastion,
  "intranet-wiki": intranetWiki,
  "rdp-home": rdpHome,
  "egress-ip-rotation": egressIpRotation,
};
