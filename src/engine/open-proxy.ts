// The refusal for a SOCKS proxy that anyone who can reach it could use.

import { FwdError } from "../errors.ts";

export const openProxy = (id: string, where: string, hint: string) =>
  new FwdError("E_CONFIG", `${id}: refusing to start an open SOCKS proxy ${where}: it binds beyond loopback with no allow-list and no password`, hint);
