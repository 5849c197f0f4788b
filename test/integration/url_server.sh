# shellcheck shell=sh
# shellcheck disable=SC2034 # WEB_* are for the scripts that source this
# A web server for the tests of installs from a URL (test_url.sh) and the
# bench (test/bench/bench.sh): Debian's lighttpd on 127.0.0.1, plain HTTP
# and HTTPS with a certificate of a CA made here, serving one directory;
# and a proxy of our own in front of the HTTP port that breaks connections
# in the ways a flaky link or a changing server does.
#
#   web_start DIR        serves DIR; sets WEB_HTTP and WEB_HTTPS (base URLs),
#                        WEB_MTLS (HTTPS that wants a client certificate of
#                        WEB_CA: WEB_CLIENT_CERT, WEB_CLIENT_KEY) and WEB_CA
#                        (the CA's certificate, PEM); fails with the reason
#                        on stdout
#   web_stop             stops the server and every proxy, also those started
#                        in subshells (run_case's): their pids are kept in a
#                        file
#   proxy_start MODE...  a proxy to the HTTP port; sets PROXY (its base URL).
#                        MODE: pass | drop BYTES TIMES | stall BYTES |
#                        replace BYTES NEW-FILE SERVED-FILE | norange BYTES
#                        (see url_proxy.py)
# Needs lighttpd, lighttpd-mod-openssl, openssl and python3; URL_TOOLS is
# the directory of this file and url_proxy.py (the sourcing script sets it).


# free_port: a TCP port of 127.0.0.1 nobody listens on now.
free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# web_cert DIR: DIR/ca.pem signs DIR/server.pem (for 127.0.0.1) and
# DIR/client.pem.
web_cert() {
	(
		cd "$1" || exit 1
		openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 30 \
			-subj "/CN=swinstall test web CA" -addext 'basicConstraints=critical,CA:TRUE' \
			-addext 'keyUsage=critical,keyCertSign,cRLSign' 2>/dev/null || exit 1
		printf 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n' >server.ext
		printf 'extendedKeyUsage=clientAuth\n' >client.ext
		for name in server client; do
			openssl req -newkey rsa:2048 -nodes -keyout $name.key -out $name.csr \
				-subj "/CN=127.0.0.1" 2>/dev/null || exit 1
			openssl x509 -req -in $name.csr -CA ca.pem -CAkey ca.key -days 30 \
				-set_serial "0x$(openssl rand -hex 8)" -extfile $name.ext \
				-out $name.pem 2>/dev/null || exit 1
		done
	)
}

# wait_port PORT: until something listens on PORT of 127.0.0.1 (5 s).
wait_port() {
	python3 - "$1" <<'EOF'
import socket, sys, time
for _ in range(100):
    try:
        socket.create_connection(("127.0.0.1", int(sys.argv[1])), 0.2).close()
        sys.exit(0)
    except OSError:
        time.sleep(0.05)
sys.exit(1)
EOF
}

web_start() {
	www=$1
	web="$TMP/web"
	mkdir -p "$web"
	lighttpd=$(command -v lighttpd || echo /usr/sbin/lighttpd)
	[ -x "$lighttpd" ] || { echo "lighttpd is not installed"; return 1; }
	web_cert "$web" || { echo "the test certificates could not be made"; return 1; }
	http_port=$(free_port) https_port=$(free_port) mtls_port=$(free_port)
	cat >"$web/lighttpd.conf" <<EOF
server.modules = ( "mod_openssl" )
server.document-root = "$www"
server.bind = "127.0.0.1"
server.port = $http_port
server.errorlog = "$web/error.log"
# Files change under it (a test replaces one mid-download): no stale stat.
server.stat-cache-engine = "disable"
mimetype.assign = ( "" => "application/octet-stream" )
\$SERVER["socket"] == "127.0.0.1:$https_port" {
	ssl.engine = "enable"
	ssl.pemfile = "$web/server.pem"
	ssl.privkey = "$web/server.key"
}
\$SERVER["socket"] == "127.0.0.1:$mtls_port" {
	ssl.engine = "enable"
	ssl.pemfile = "$web/server.pem"
	ssl.privkey = "$web/server.key"
	ssl.ca-file = "$web/ca.pem"
	ssl.verifyclient.activate = "enable"
	ssl.verifyclient.enforce = "enable"
}
EOF
	# (a new list: the pids of a run that was killed are others' by now)
	WEB_PIDFILE="$web/pids"
	: >"$WEB_PIDFILE"
	"$lighttpd" -D -f "$web/lighttpd.conf" >"$web/stdout" 2>&1 &
	echo $! >>"$WEB_PIDFILE"
	if ! wait_port "$http_port" || ! wait_port "$https_port" || ! wait_port "$mtls_port"; then
		echo "lighttpd did not start: $(cat "$web/stdout" "$web/error.log" 2>/dev/null | tail -n 3)"
		return 1
	fi
	WEB_HTTP="http://127.0.0.1:$http_port"
	WEB_HTTPS="https://127.0.0.1:$https_port"
	WEB_MTLS="https://127.0.0.1:$mtls_port"
	WEB_CLIENT_CERT="$web/client.pem"
	WEB_CLIENT_KEY="$web/client.key"
	WEB_PORT=$http_port
	WEB_CA="$web/ca.pem"
}

proxy_start() {
	port=$(free_port)
	python3 "$URL_TOOLS/url_proxy.py" "$port" "$WEB_PORT" "$@" &
	echo $! >>"$WEB_PIDFILE"
	wait_port "$port" || return 1
	PROXY="http://127.0.0.1:$port"
}

web_stop() {
	[ -n "${WEB_PIDFILE:-}" ] && [ -f "$WEB_PIDFILE" ] || return 0
	while read -r pid; do
		kill "$pid" 2>/dev/null
	done <"$WEB_PIDFILE"
	rm -f "$WEB_PIDFILE"
}
