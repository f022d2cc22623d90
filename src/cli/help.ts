// The text of `fwd --help`: OpenSSH's flags as fwd reads them, with examples from the field.

export const HELP = `fwd — SSH port forwarding in one binary

usage:
  fwd [options] [user@]host[:port]      carry the forwards given by -L (and LocalForward)
  fwd demo [--once] [--json]            a built-in SSH server, a sample service and a tunnel to it

forwarding:
  -L [bind_address:]port:host:hostport  a local port that reaches host:hostport as the server sees it
  -L [bind_address:]port:/remote.sock   ... or a unix socket on the server
  -L /local.sock:host:hostport          ... listening on a local unix socket
     port 0 picks a free port; the bound port is printed. bind_address defaults to 127.0.0.1;
     '*' means every interface.

connection (as ssh):
  -p port  -l user  -i identity_file (repeatable)  -F config_file (or 'none')  -c cipher,...
  -o Key=Value   User, Port, HostName, IdentityFile, IdentitiesOnly, IdentityAgent, BatchMode,
                 StrictHostKeyChecking (yes | accept-new | no | ask), UserKnownHostsFile,
                 ConnectTimeout, ExitOnForwardFailure, ServerAliveInterval, ServerAliveCountMax,
                 LocalForward, Ciphers
  -N -T -n -C    accepted for compatibility (fwd never opens a shell)

output:
  -v / -vv       also log each connection / debug detail     -q   errors only
  --json         one JSON object per log line on stdout
  --version      print the version                           --help  this text

examples:
  fwd -L 3306:db.internal:3306 deploy@bastion.example.com     MySQL on B, through bastion A
  fwd -L 8080:localhost:80 a.example.com                      a web server on A itself
  fwd -L 0:wiki.lan:80 -L 5901:desk.lan:5901 a.example.com    two forwards, one session
  fwd -L 127.0.0.1:5432:/var/run/postgresql/.s.PGSQL.5432 db   a unix socket on the server

exit codes:
  0 stopped cleanly   2 bad flags or config   3 could not connect   4 authentication failed
  5 host key refused  6 a forward failed      7 session lost        1 internal error   130 forced stop

authentication: ssh-agent (SSH_AUTH_SOCK), then -i / IdentityFile keys (default ~/.ssh/id_ed25519,
id_ecdsa, id_rsa), then keyboard-interactive and password when a terminal can ask.
host keys: checked against ~/.ssh/known_hosts and /etc/ssh/ssh_known_hosts; a changed key is refused.
`;
