# tls_lab.sh: the HTTPS lab of the TLS tests (tests/integration/tls_*.sh), sourced after
# lib.sh (and helpers/sandbox_lib.sh when a test runs sandboxes). Needs root, iproute2,
# openssl, nginx, fcgiwrap, git, python3 (scripts/install-deps installs them).
#
# Built on tests/netlab.sh: one lab namespace per run; here every server name below maps
# to lab address A ($TLS_IP), where one nginx, inside the namespace, listens on :443 (TLS,
# a certificate from a test CA made for this run) and :80:
#   github.com             git smart HTTP: `git http-backend` through fcgiwrap, for the
#                          bare repository org/repo.git (three commits, README "lab
#                          readme"), http.receivepack on: a push is ACCEPTED by the
#                          server, so a refused push proves the proxy refused it
#   pypi.org               a PEP 503 simple index: agentcage-probe 1.0 (a hand-made wheel)
#   files.pythonhosted.org the wheel itself (/packages/...)
#   every other name       a JSON stub: 200 for any method, path and body, echoing
#                          {"method":..,"uri":..,"host":..,"length":..}
#   (api.github.com, api.anthropic.com, api.test, audit.test, full.test, rules.test,
#   deny.test, l4.test)
#
#   tls_lab_up        netlab_up if not yet, then the CA and server certificate (ECDSA
#                     P-256, SANs = the names above and $TLS_IP), the repository, the
#                     index, fcgiwrap (unix socket) and nginx, both started by pid inside
#                     the namespace and waited for on their output (never a sleep).
#                     Sets TLS_DIR, TLS_IP, TLS_CA (the test CA's PEM), TLS_HOSTS (a
#                     hosts(5) file naming the servers), TLS_REPO (the bare repository),
#                     TLS_ACCESS_LOG (nginx's: "host method uri status" per request),
#                     TLS_DEFAULT_POL (see tls_default_policy)
#   tls_default_policy FILE
#                     the embedded default policy (`agentcage policy default`), with
#                     `allowed_ips: [$TLS_IP/32]` added to every endpoint and nothing else
#                     changed: the default policy's names may only reach public addresses
#                     (docs/policy.md), and the lab's are private
#   tls_direct CMD... CMD on the host side of the lab (no sandbox, no proxy): in a private
#                     mount namespace whose /etc/hosts is $TLS_HOSTS, with an empty
#                     environment but PATH, HOME ($TLS_DIR/home), LANG and GIT_CONFIG_NOSYSTEM:
#                     no proxy, no CA bundle variables of the caller (they would override
#                     the command line's CA file: GIT_SSL_CAINFO beats http.sslCAInfo)
#   tlx ARGS... -- CMD...
#                     agentcage run with the test's name, workdir and log, --hosts
#                     $TLS_HOSTS and --upstream-ca $TLS_CA (ARGS choose the policy);
#                     agentcage's own stderr goes to $SB_WORK.err
#   tlxsh POLICY SCRIPT
#                     SCRIPT under /bin/sh in a sandbox on POLICY, stdout+stderr together
#   tls_lab_down      stops the servers and removes the namespace (netlab_down); 0 when
#                     everything is gone. Also chained in front of the EXIT trap by
#                     netlab_up, so it happens on failure too.
if ! declare -F netlab_up >/dev/null; then
	. "$(dirname "${BASH_SOURCE[0]}")/netlab.sh"
fi

TLS_LAB_TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
TLS_LAB_NAMES="github.com api.github.com api.anthropic.com pypi.org files.pythonhosted.org
api.test audit.test full.test rules.test deny.test l4.test"
TLS_CERT_DAYS=2 # the lab lives for one test run
TLS_DIR=
TLS_IP=
TLS_CA=
TLS_HOSTS=
TLS_REPO=
TLS_ACCESS_LOG=
TLS_DEFAULT_POL=

# The CA (self-signed, CA:TRUE) and one server certificate for every lab name and the IP.
tls_lab__certs() {
	local d=$TLS_DIR/pki n san=
	mkdir -p "$d" || return 1
	for n in $TLS_LAB_NAMES; do san="${san}DNS:$n,"; done
	san="${san}IP:$TLS_IP"
	cat >"$d/server.ext" <<-EOF
	basicConstraints = critical, CA:FALSE
	keyUsage = critical, digitalSignature
	extendedKeyUsage = serverAuth
	subjectKeyIdentifier = hash
	authorityKeyIdentifier = keyid
	subjectAltName = $san
	EOF
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
		-keyout "$d/ca.key" -out "$d/ca.crt" -days "$TLS_CERT_DAYS" \
		-subj "/O=agentcage tests/CN=agentcage test lab CA" \
		-addext "basicConstraints=critical,CA:TRUE" \
		-addext "keyUsage=critical,keyCertSign,cRLSign" 2>"$d/openssl.err" &&
	openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
		-keyout "$d/server.key" -out "$d/server.csr" \
		-subj "/O=agentcage tests/CN=agentcage test lab server" 2>>"$d/openssl.err" &&
	openssl x509 -req -in "$d/server.csr" -CA "$d/ca.crt" -CAkey "$d/ca.key" \
		-set_serial "0x$(openssl rand -hex 16)" -days "$TLS_CERT_DAYS" \
		-extfile "$d/server.ext" -out "$d/server.crt" 2>>"$d/openssl.err" || {
		echo "# tls_lab: openssl failed:"
		sed 's/^/# tls_lab:   /' "$d/openssl.err" | head -20
		return 1
	}
	TLS_CA=$d/ca.crt
}

tls_lab__g() { git -C "$TLS_DIR/git-src" -c user.name=lab -c user.email=lab@lab.test "$@"; }

# The bare repository org/repo.git with three commits on main, push enabled.
tls_lab__git() {
	local src=$TLS_DIR/git-src
	TLS_REPO=$TLS_DIR/git/org/repo.git
	if ! { git init -q --bare -b main "$TLS_REPO" &&
		git -C "$TLS_REPO" config http.receivepack true &&
		git init -q -b main "$src" &&
		echo "lab readme" >"$src/README" && tls_lab__g add README &&
		tls_lab__g commit -qm "first" &&
		echo "one" >"$src/NOTES" && tls_lab__g add NOTES && tls_lab__g commit -qm "second" &&
		echo "two" >>"$src/NOTES" && tls_lab__g commit -qam "third" &&
		tls_lab__g push -q "$TLS_REPO" main; }; then
		echo "# tls_lab: cannot build the git repository in $TLS_DIR"
		return 1
	fi
}

tls_lab__nginx_conf() {
	local n=$TLS_DIR/nginx echo_names='' name
	mkdir -p "$n" "$TLS_DIR/pypi" "$TLS_DIR/files" || return 1
	for name in $TLS_LAB_NAMES; do
		case "$name" in github.com|pypi.org|files.pythonhosted.org) ;;
		*) echo_names="$echo_names $name";; esac
	done
	# error_log at notice on stderr: "start worker processes" is the readiness line
	# (nginx logs it after its listening sockets are open and its pid file is written).
	# user root: the test's files sit in 0700 temp dirs; the workers must read them.
	cat >"$n/nginx.conf" <<-EOF
	worker_processes 1;
	user root root;
	error_log stderr notice;
	pid $n/nginx.pid;
	events { worker_connections 256; }
	http {
		include /etc/nginx/mime.types;
		default_type application/octet-stream;
		log_format lab '\$host \$request_method \$request_uri \$status';
		access_log $n/access.log lab;
		client_body_temp_path $n/body;
		fastcgi_temp_path $n/fastcgi;
		proxy_temp_path $n/proxy;
		uwsgi_temp_path $n/uwsgi;
		scgi_temp_path $n/scgi;
		client_max_body_size 64m;
		ssl_certificate $TLS_DIR/pki/server.crt;
		ssl_certificate_key $TLS_DIR/pki/server.key;
		ssl_protocols TLSv1.2 TLSv1.3;

		# The API stub: any method, any path, any body (return discards it) -> 200 JSON.
		server {
			listen 443 ssl default_server;
			listen 80 default_server;
			server_name $echo_names;
			location / {
				default_type application/json;
				return 200 '{"method":"\$request_method","uri":"\$request_uri","host":"\$host","length":"\$content_length"}';
			}
		}
		# git smart HTTP, as sites serve it: git http-backend behind FastCGI.
		server {
			listen 443 ssl;
			listen 80;
			server_name github.com;
			location / {
				include /etc/nginx/fastcgi_params;
				fastcgi_pass unix:$TLS_DIR/fcgiwrap.sock;
				fastcgi_param SCRIPT_FILENAME /usr/lib/git-core/git-http-backend;
				fastcgi_param GIT_PROJECT_ROOT $TLS_DIR/git;
				fastcgi_param GIT_HTTP_EXPORT_ALL "";
				fastcgi_param PATH_INFO \$uri;
				fastcgi_param GIT_PROTOCOL \$http_git_protocol;
				fastcgi_param HOME $TLS_DIR/git;
				fastcgi_param PATH /usr/bin:/bin;
			}
		}
		server {
			listen 443 ssl;
			listen 80;
			server_name pypi.org;
			root $TLS_DIR/pypi;
			index index.html;
		}
		server {
			listen 443 ssl;
			listen 80;
			server_name files.pythonhosted.org;
			root $TLS_DIR/files;
		}
	}
	EOF
	TLS_ACCESS_LOG=$n/access.log
}

tls_lab_hosts() {
	printf '# agentcage TLS test lab (netlab slot %s)\n%s %s\n' "$NETLAB_SLOT" "$TLS_IP" \
		"$(tr '\n' ' ' <<<"$TLS_LAB_NAMES")" >"$1"
}

tls_default_policy() {
	"$AGENTCAGE" policy default | /usr/bin/python3 -c '
import re, sys
ips = "allowed_ips: [%s/32]" % sys.argv[1]
for line in sys.stdin:
    line = line.rstrip("\n")
    # flow style: { host: NAME, port: N ... }
    line = re.sub(r"(\{\s*host:\s*[^,}]+,\s*port:\s*\d+)", r"\1, " + ips, line)
    print(line)
    # block style: a "port: N" line of an endpoint mapping
    m = re.match(r"^(\s+)port:\s*\d+\s*$", line)
    if m:
        print(m.group(1) + ips)
' "$TLS_IP" >"$1"
}

tls_lab_up() {
	[ -n "$NETLAB_NS" ] || netlab_up || return 1
	local t
	for t in openssl nginx fcgiwrap git; do
		command -v "$t" >/dev/null || [ -x "/usr/sbin/$t" ] || {
			echo "# tls_lab: $t is missing (scripts/install-deps installs it)"; return 1; }
	done
	TLS_DIR=$NETLAB_DIR/tls
	TLS_IP=$NETLAB_IP_A
	TLS_HOSTS=$TLS_DIR/hosts
	mkdir -p "$TLS_DIR" || return 1
	tls_lab__certs || return 1
	tls_lab__git || return 1
	/usr/bin/python3 "$TLS_LAB_TOP/tests/servers/make_tls_index.py" "$TLS_DIR/pypi" \
		"$TLS_DIR/files" https://files.pythonhosted.org || return 1
	tls_lab__nginx_conf || return 1
	tls_lab_hosts "$TLS_HOSTS" || return 1
	if [ -n "${AGENTCAGE:-}" ]; then
		TLS_DEFAULT_POL=$TLS_DIR/default-lab.yaml
		tls_default_policy "$TLS_DEFAULT_POL" || return 1
	fi
	# -c 1 (the default): one process, no preforked children to lose track of.
	netlab_serve fcgiwrap /usr/bin/python3 "$TLS_LAB_TOP/tests/servers/fcgi_listen.py" \
		"$TLS_DIR/fcgiwrap.sock" /usr/sbin/fcgiwrap -c 1 || return 1
	# ip netns exec execs nginx itself: the recorded pid is nginx's master.
	netlab_spawn nginx "start worker processes" /usr/sbin/nginx -e stderr \
		-p "$TLS_DIR/nginx" -c "$TLS_DIR/nginx/nginx.conf" -g "daemon off;" || return 1
}

tls_direct() {
	mkdir -p "$TLS_DIR/home" || return 1
	env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME="$TLS_DIR/home" LANG=C.UTF-8 \
		GIT_CONFIG_NOSYSTEM=1 GIT_TERMINAL_PROMPT=0 \
		unshare -m --propagation private -- /bin/sh -c 'h=$1; shift
		mount --bind "$h" /etc/hosts || exit 125
		exec "$@"' tls_direct "$TLS_HOSTS" "$@"
}

tlx() {
	"$AGENTCAGE" run --name "$SB_NAME" --workdir "$SB_WORK" --log "$SB_LOG" "${SB_ENV[@]}" \
		--hosts "$TLS_HOSTS" --upstream-ca "$TLS_CA" "$@" 2>"$SB_WORK.err"
}

tlxsh() {
	local pol=$1
	shift
	tlx --policy "$pol" -- /bin/sh -c "exec 2>&1; $1"
}

tls_lab_down() {
	netlab_down
}
