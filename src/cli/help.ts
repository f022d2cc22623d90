// The text of `fwd --help`: OpenSSH's flags as fwd reads them, with examples from the field.

export const HELP = `fwd — SSH port forwarding in one binary

usage:
  fwd [options] [user@]host[:port]      carry the forwards given by -L, -R and -D
  fwd run NAME [--option value …]       a scenario: yours (~/.config/fwd/scenarios) or a plugin
  fwd check NAME [--option value …]     connect, run the scenario's probe once, report, exit
  fwd scenarios [show PLUGIN]           list plugins and scenarios; explain a plugin's options
  fwd plugin new NAME [DIR]             write a plugin to start from
  fwd status [URL]                      the status page's summary in the terminal
  fwd demo [--once] [--json]            a built-in SSH server, a sample service and a tunnel to it

forwarding (repeatable, as in ssh):
  -L [bind_address:]port:host:hostport  a local port that reaches host:hostport as the server sees it
  -L [bind_address:]port:/remote.sock   ... or a unix socket on the server
  -R [bind_address:]port:host:hostport  a port on the server that reaches host:hostport from here
  -R [bind_address:]port                ... speaking SOCKS, connecting from here (reverse dynamic)
  -D [bind_address:]port                a local SOCKS4/4a/5 proxy whose connections leave from the server
     port 0 picks a free port (for -R the server picks); the bound port is printed.
     bind_address defaults to loopback; '*' means every address (for -R, if the server's GatewayPorts allows).

SOCKS (-D, and -R without a target):
  --socks-user NAME --socks-password-file FILE   require username/password (RFC 1929)
  --allow CIDR        clients allowed to use a -D port (repeatable); a -D bound beyond loopback
                      needs --allow or a password, so fwd is never an open proxy by accident
  --pac               serve http://<-D address>/proxy.pac for browsers (printed at start)
  --pac-domain GLOB   in the PAC file, send only these hosts through the proxy (e.g. '*.intranet')

transparent routing (Linux, root, nftables; no proxy settings in the programs):
  --route CIDR        TCP from this machine to CIDR goes through the server (repeatable)
  --exclude CIDR      never through the tunnel (repeatable); the server's own address never is
  --dns               DNS answered through the tunnel (the server's resolver, or --dns-server IP)
  --lan               also machines that use this one as their gateway, from --allow CIDR only

jump hosts, commands, agent, X11 (as ssh):
  -J [user@]host[:port][,…]   jump hosts (also ProxyJump in ssh config)
  -W host:port        stdin/stdout to host:port through the server (for ProxyCommand)
  host -- command     run a command on the server; fwd exits with its status
  -A / -a             forward the ssh-agent to that command / don't
  -X / -Y / -x        forward X11 to that command (untrusted / trusted) / don't

connection (as ssh):
  -p port  -l user  -i identity_file (repeatable)  -F config_file (or 'none')  -c cipher,...
  -o Key=Value   User, Port, HostName, IdentityFile, IdentitiesOnly, IdentityAgent, BatchMode,
                 StrictHostKeyChecking (yes | accept-new | no | ask), UserKnownHostsFile,
                 ConnectTimeout, ExitOnForwardFailure, ServerAliveInterval, ServerAliveCountMax,
                 LocalForward, RemoteForward, DynamicForward, ProxyJump, ForwardAgent, Ciphers,
                 Compression
  -C             compress (zlib@openssh.com), for thin links; same as -o Compression=yes
  -N -T -n       accepted for compatibility (fwd never opens a shell)
  --max-window SIZE  how far each channel's receive window may grow (default 16M; 2M keeps
                 OpenSSH's fixed window): long links go faster with a larger one

staying up:
  --max-retries N     give up after N reconnect attempts in a row (default: never)
  --max-connections N forwarded connections carried at once (default 4096)
  --no-reconnect      exit on the first disconnect, as ssh does (also --once)
  --status [addr:]port  a live status page (JSON API, /metrics); SIGHUP reconnects now
  --status-open-metrics  let /metrics be scraped without the status page's token

output:
  -v / -vv       also log each connection / debug detail     -q   errors only
  --json         one JSON object per log line on stdout
  --version      print the version                           --help  this text

examples:
  fwd -L 3306:db.internal:3306 deploy@bastion.example.com     MySQL on B, through bastion A
  fwd -L 8080:localhost:80 a.example.com                      a web server on A itself
  fwd -L 0:wiki.lan:80 -L 5901:desk.lan:5901 a.example.com    two forwards, one session
  fwd -L 127.0.0.1:5432:/var/run/postgresql/.s.PGSQL.5432 db   a unix socket on the server
  fwd -R 3389:localhost:3389 a.example.com                    a home RDP reachable on A's loopback
  fwd -R '*:8080:localhost:3000' a.example.com                a local web server on A's public address
  fwd -D 1080 a.example.com                                   browse through A (SOCKS on 127.0.0.1:1080)
  fwd -D '*:1080' --allow 192.168.1.0/24 a.example.com        ... shared with the LAN

exit codes:
  0 stopped cleanly   2 bad flags or config   3 could not connect   4 authentication failed
  5 host key refused  6 a forward failed      7 session lost        8 probe failed (fwd check)
  1 internal error    130 forced stop

authentication: ssh-agent (SSH_AUTH_SOCK), then -i / IdentityFile keys (default ~/.ssh/id_ed25519,
id_ecdsa, id_rsa), then keyboard-interactive and password when a terminal can ask.
host keys: checked against ~/.ssh/known_hosts and /etc/ssh/ssh_known_hosts; a changed key is refused.
`;
