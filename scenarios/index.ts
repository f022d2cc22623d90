// The example scenarios, one per built-in plugin, embedded in the binary as text.

import browserIntranet from "./browser-intranet.toml" with { type: "text" };
import devDbToCloud from "./dev-db-to-cloud.toml" with { type: "text" };
import egressIpRotation from "./egress-ip-rotation.toml" with { type: "text" };
import exposeLocalWeb from "./expose-local-web.toml" with { type: "text" };
import homeSsh from "./home-ssh.toml" with { type: "text" };
import intranetWiki from "./intranet-wiki.toml" with { type: "text" };
import lanEgress from "./lan-egress.toml" with { type: "text" };
import lanGateway from "./lan-gateway.toml" with { type: "text" };
import mysqlViaBastion from "./mysql-via-bastion.toml" with { type: "text" };
import rdpHome from "./rdp-home.toml" with { type: "text" };
import remoteDesktopViaBastion from "./remote-desktop-via-bastion.toml" with { type: "text" };
import secureLegacy from "./secure-legacy.toml" with { type: "text" };
import sshViaBastion from "./ssh-via-bastion.toml" with { type: "text" };

export const BUILTIN_SCENARIOS: Record<string, string> = {
  "ssh-via-bastion": sshViaBastion,
  "mysql-via-bastion": mysqlViaBastion,
  "intranet-wiki": intranetWiki,
  "remote-desktop-via-bastion": remoteDesktopViaBastion,
  "secure-legacy": secureLegacy,
  "expose-local-web": exposeLocalWeb,
  "home-ssh": homeSsh,
  "rdp-home": rdpHome,
  "dev-db-to-cloud": devDbToCloud,
  "browser-intranet": browserIntranet,
  "lan-egress": lanEgress,
  "lan-gateway": lanGateway,
  "egress-ip-rotation": egressIpRotation,
};
