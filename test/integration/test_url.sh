#!/bin/sh
# Installs from a URL (http:// and https://, served by Debian's lighttpd on
# 127.0.0.1): the same result as from the file; a connection cut several
# times resumed unseen; a server whose file changes on the way, or that
# cannot resume, refused cleanly; TLS verified; a stalled server timed
# out; a missing file named; a cancel prompt. And -o (save-to): the image
# kept as it is installed, from a URL, a file or standard input, and no
# copy left by a failed install.
# shellcheck disable=SC2031 # CASE is set by run_case, for each case's subshell
# shellcheck source=test/integration/lib.sh
. "$(dirname "$0")/lib.sh"
URL_TOOLS=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=test/integration/url_server.sh
. "$URL_TOOLS/url_server.sh"

t_init
trap 'web_stop; t_cleanup' EXIT
WWW="$TMP/www"
mkdir -p "$WWW"
web_start "$WWW" >"$TMP/web.why" ||
	t_skip_all "skipped: lighttpd cannot be started here: $(cat "$TMP/web.why")"

# url_case [SIZE]: the device $DEV (its slots and environment saved for
# reset_device) and an A/B image of a SIZE payload (default 2M) in
# $CASE/image.swu, served as $WWW/$NAME ($NAME differs for each case).
url_case() {
	DEV="$CASE/dev"
	make_device "$DEV" || fail "make_device"
	cp "$DEV/env.img" "$DEV/env.orig"
	ab_image "$CASE/image.swu" cms crc "${1:-2M}" || fail "ab_image"
	NAME="image-$T_NUM.swu"
	cp "$CASE/image.swu" "$WWW/$NAME"
}

reset_device() {
	cp "$1/slotB.orig" "$1/slotB.img"
	cp "$1/env.orig" "$1/env.img"
}

# state_of DEV: what an install left: slot B's bytes and the environment.
state_of() {
	sha "$1/slotB.img"
	env_list "$1"
}

# expect_same_as_file_install URL [ARGS]: installing from URL leaves the
# device as installing from the file does.
expect_same_as_file_install() {
	url=$1
	shift
	swi "$DEV" -e stable,copy2 -i "$CASE/image.swu"
	expect_installed_in_b "$DEV"
	state_of "$DEV" >"$CASE/from-file"
	reset_device "$DEV"
	swi "$DEV" -e stable,copy2 "$@" -i "$url"
	expect_installed_in_b "$DEV"
	state_of "$DEV" >"$CASE/from-url"
	cmp -s "$CASE/from-file" "$CASE/from-url" ||
		fail "the device differs from a file install: $(diff "$CASE/from-file" "$CASE/from-url")"
}

# expect_clean_failure DEV: the install failed, the running slot and the
# boot selection are as they were (the environment records the failure
# when the slot was being written).
expect_clean_failure() {
	expect_rc 1
	expect_safe_failure "$1"
	expect_env "$1" rootpart 2
}

case_http() {
	url_case
	expect_same_as_file_install "$WEB_HTTP/$NAME"
}

case_https() {
	url_case
	expect_same_as_file_install "$WEB_HTTPS/$NAME" --url-ca-file "$WEB_CA"
}

# The answer is cut after 300000 bytes, three times: each attempt brings
# some bytes, the fourth the rest.
case_resume() {
	url_case
	proxy_start drop 300000 3 || fail "proxy"
	expect_same_as_file_install "$PROXY/$NAME"
	n=$(grep -c "resuming" "$CASE/err")
	[ "$n" -eq 3 ] || fail "expected 3 resumes, the log shows $n"
}

# The file is replaced on the server while the install reads it: the
# resume gets another ETag.
case_changed_file() {
	url_case
	mk_data "$CASE/w/rootfs.img" 2M "another-$T_NUM"
	swdesc_ab "$CASE/w" rootfs.img
	mk_swu "$CASE/other.swu" cms crc "$CASE/w" rootfs.img || fail "mk_swu"
	cp "$CASE/other.swu" "$WWW/$NAME.new"
	touch -d '2001-01-01' "$WWW/$NAME.new"
	proxy_start replace 1000000 "$WWW/$NAME.new" "$WWW/$NAME" || fail "proxy"
	swi "$DEV" -e stable,copy2 -i "$PROXY/$NAME"
	expect_clean_failure "$DEV"
	expect_err "resuming at byte"
	expect_err "ETag changed"
}

# A server that answers the resume with the whole file (200).
case_no_range() {
	url_case
	proxy_start norange 1000000 || fail "proxy"
	swi "$DEV" -e stable,copy2 -i "$PROXY/$NAME"
	expect_clean_failure "$DEV"
	expect_err "sent the whole file again (200), not the rest (206)"
}

# A certificate of another CA (one of lib.sh's test keys), and of no CA
# the system knows.
case_wrong_ca() {
	url_case 300K
	swi "$DEV" -e stable,copy2 --url-ca-file "$KEYS/rogue-ca.pem" -i "$WEB_HTTPS/$NAME"
	expect_rc 1
	expect_err "$WEB_HTTPS/$NAME: "
	expect_err "certificate"
	expect_device_untouched "$DEV"
	swi "$DEV" -e stable,copy2 -i "$WEB_HTTPS/$NAME"
	expect_rc 1
	expect_err "certificate"
	expect_device_untouched "$DEV"
}

# A server that wants a client certificate: refused without one, installed
# with it. (TLS 1.3 refuses with an alert after the handshake, which curl
# reports as a failed read, one that is retried: no retries here.)
case_client_cert() {
	url_case 300K
	swi "$DEV" -e stable,copy2 --url-ca-file "$WEB_CA" --url-retries 0 -i "$WEB_MTLS/$NAME"
	expect_rc 1
	expect_err "$WEB_MTLS/$NAME: "
	expect_device_untouched "$DEV"
	swi "$DEV" -e stable,copy2 --url-ca-file "$WEB_CA" --url-client-cert "$WEB_CLIENT_CERT" \
		--url-client-key "$WEB_CLIENT_KEY" -i "$WEB_MTLS/$NAME"
	expect_installed_in_b "$DEV"
}

# The server stops sending in the middle; url-timeout 2 s, one retry.
case_stalled() {
	url_case
	proxy_start stall 500000 || fail "proxy"
	start=$(date +%s)
	swi "$DEV" -e stable,copy2 --url-timeout 2 --url-retries 1 -i "$PROXY/$NAME"
	took=$(($(date +%s) - start))
	expect_clean_failure "$DEV"
	expect_err "gave up after 2 attempts"
	[ "$took" -lt 15 ] || fail "the install took $took s to give up"
}

case_not_found() {
	url_case 300K
	swi "$DEV" -e stable,copy2 -i "$WEB_HTTP/missing.swu"
	expect_rc 1
	expect_err "$WEB_HTTP/missing.swu: the server answered \"404 Not Found\""
	expect_device_untouched "$DEV"
}

# SIGTERM while the server is silent (url-timeout 60 s): the install
# stops at once.
case_cancel() {
	url_case
	proxy_start stall 500000 || fail "proxy"
	"$SWINSTALL" -f "$DEV/swinstall.conf" -e stable,copy2 -i "$PROXY/$NAME" \
		>"$CASE/out" 2>"$CASE/err" &
	pid=$!
	sleep 1
	start=$(date +%s)
	kill -TERM "$pid"
	wait "$pid"
	SWI_RC=$?
	took=$(($(date +%s) - start))
	cat "$CASE/err"
	expect_clean_failure "$DEV"
	grep -q "interrupted by SIGTERM" "$CASE/err" || fail "not reported as interrupted"
	[ "$took" -le 2 ] || fail "the install took $took s to stop"
}

# info reads an image from a URL too, and a bare URL is an install.
case_info_and_bare_url() {
	url_case 300K
	swi "$DEV" info "$WEB_HTTP/$NAME"
	expect_rc 0
	grep -q "rootfs.img" "$CASE/out" || fail "info does not list rootfs.img: $(cat "$CASE/out")"
	swi "$DEV" -e stable,copy2 "$WEB_HTTP/$NAME"
	expect_installed_in_b "$DEV"
}

# An agent's steps from a URL: verify writes nothing; --stage writes the
# slot but keeps the boot selection until apply.
case_verify_and_stage() {
	url_case 300K
	swi "$DEV" -e stable,copy2 verify "$WEB_HTTP/$NAME"
	expect_rc 0
	expect_device_untouched "$DEV"
	swi "$DEV" -e stable,copy2 install --stage "$WEB_HTTP/$NAME"
	expect_rc 0
	expect_bytes "$DEV/slotB.img" 0 "$CASE/w/rootfs.img"
	expect_env "$DEV" rootpart 2
	swi "$DEV" apply
	expect_rc 0
	expect_env "$DEV" rootpart 3
}

# expect_saved FILE: FILE is the image, no FILE.part beside it.
expect_saved() {
	cmp -s "$1" "$CASE/image.swu" || fail "$1 is not the image"
	[ ! -e "$1.part" ] || fail "$1.part was left"
}

case_save_url() {
	url_case
	proxy_start drop 700000 1 || fail "proxy"
	swi "$DEV" -e stable,copy2 -o "$CASE/kept.swu" -i "$PROXY/$NAME"
	expect_installed_in_b "$DEV"
	expect_saved "$CASE/kept.swu"
}

case_save_file_and_stdin() {
	url_case 300K
	swi "$DEV" -e stable,copy2 -o "$CASE/kept.swu" -i "$CASE/image.swu"
	expect_installed_in_b "$DEV"
	expect_saved "$CASE/kept.swu"
	reset_device "$DEV"
	swi_pipe "$CASE/image.swu" "$DEV" -e stable,copy2 -o "$CASE/piped.swu" -i -
	expect_installed_in_b "$DEV"
	expect_saved "$CASE/piped.swu"
}

# expect_no_copy FILE: neither FILE nor FILE.part.
expect_no_copy() {
	if [ -e "$1" ] || [ -e "$1.part" ]; then
		fail "a copy was left: $(ls "$1"*)"
	fi
}

# A failed install keeps no copy: not from a URL that breaks off, not of
# an image for other hardware.
case_save_failed() {
	url_case
	proxy_start norange 1000000 || fail "proxy"
	swi "$DEV" -e stable,copy2 -o "$CASE/kept.swu" -i "$PROXY/$NAME"
	expect_rc 1
	expect_no_copy "$CASE/kept.swu"
	swi "$DEV" -e stable,copy2 -H myboard:9.9 -o "$CASE/kept.swu" -i "$WEB_HTTP/$NAME"
	expect_rc 4
	expect_no_copy "$CASE/kept.swu"
}

case_save_usage() {
	swi "$TMP" -o "$CASE/kept" info "$WEB_HTTP/x.swu"
	expect_rc 2
	expect_err "--save-to goes with install"
}

run_case "url: an http:// install leaves the device as a file install does" case_http
run_case "url: an https:// install (CA file) leaves the device as a file install does" case_https
run_case "url: a connection cut three times is resumed; the same result" case_resume
run_case "url: a file replaced on the server mid-way (ETag) fails cleanly" case_changed_file
run_case "url: a server answering a resume with 200 fails cleanly" case_no_range
run_case "url: a certificate of another CA is refused" case_wrong_ca
run_case "url: a server that wants a client certificate gets it (url-client-cert/-key)" case_client_cert
run_case "url: a stalled server times out (url-timeout, url-retries)" case_stalled
run_case "url: a missing file (404) is a clear error" case_not_found
run_case "url: SIGTERM stops an install waiting on a server at once" case_cancel
run_case "url: info reads an image from a URL; swinstall URL installs it" case_info_and_bare_url
run_case "url: verify and install --stage read from a URL too" case_verify_and_stage
run_case "save-to: -o keeps an identical copy of a URL install (resumed)" case_save_url
run_case "save-to: -o keeps an identical copy of a file and a stdin install" case_save_file_and_stdin
run_case "save-to: a failed install leaves no copy" case_save_failed
run_case "save-to: -o only goes with install" case_save_usage
t_done
