# shellcheck shell=sh
# Shared helpers of the integration tests; sourced by test/integration/test_*.sh.
#
# A test script does:
#   . "$(dirname "$0")/lib.sh"
#   t_init                       # temp dir (removed on exit), keys
#   case_x() { ...; }            # one case: a function; `fail REASON` ends it
#   run_case "what it checks" case_x
#   t_done                       # exit status: non-zero when a case failed
#
# Every case runs in a subshell in a fresh directory ($CASE), so a case's
# `cd`, variables and `exit` stay inside it. It prints "ok - NAME" or
# "not ok - NAME" followed by the reason and the tail of the case's output
# (T_VERBOSE=1 prints the output of passing cases too).
#
# The simulated A/B device (make_device DIR) is a set of plain files:
#   slotA.img, slotB.img  4 MiB each; slot A (rootpart=2) is the active system,
#                         slot B (rootpart=3) the standby one updates go to
#   env.img               U-Boot environment (mkenvimage -s 0x4000), vars below
#   fw_env.config         "DIR/env.img 0x0 0x4000"
#   hwrevision            "myboard 1.0"
#   sw-versions           "bootloader 2022.01" / "rootfs 1.0.0"
#   swinstall.conf        points at all of the above; public-key = $KEYS/ca.pem;
#                         its lock file and state directory are in DIR too
#
# Tools: cpio, openssl, mkenvimage, fw_printenv, swugenerator (Debian).

set -u

: "${SWINSTALL:=build/swinstall}"
case "$SWINSTALL" in
/*) ;;
*) SWINSTALL="$(pwd)/$SWINSTALL" ;;
esac

T_FAILED=0
T_PASSED=0
T_NUM=0
TMP=
KEYS=

SLOT_SIZE=4194304
ENV_SIZE=0x4000

# ---------------------------------------------------------------- framework

t_cleanup() {
	oracle_end
	if [ -n "$TMP" ] && [ -d "$TMP" ]; then
		rm -rf "$TMP"
	fi
}

# Creates $TMP (removed on exit, also on ^C) and the test keys in $KEYS.
t_init() {
	TMP=$(mktemp -d "${TMPDIR:-/tmp}/swinstall-it.XXXXXX") || exit 2
	trap t_cleanup EXIT
	trap 'exit 130' INT TERM HUP
	if [ ! -x "$SWINSTALL" ]; then
		echo "# swinstall binary not found: $SWINSTALL" >&2
	fi
	KEYS="$TMP/keys"
	make_keys "$KEYS" || { echo "not ok - test keys could not be made"; exit 1; }
}

# Ends the case with REASON (call it from the case's own shell level,
# not from inside $(...) or a pipeline).
fail() {
	printf '%s\n' "$*" >>"$T_REASON"
	exit 1
}

# run_case NAME FUNCTION [ARGS...]
run_case() {
	t_name=$1
	shift
	T_NUM=$((T_NUM + 1))
	CASE="$TMP/case$T_NUM"
	mkdir -p "$CASE"
	T_REASON="$CASE/.reason"
	: >"$T_REASON"
	(cd "$CASE" && "$@") >"$CASE/.log" 2>&1
	t_rc=$?
	if [ "$t_rc" -eq 0 ]; then
		T_PASSED=$((T_PASSED + 1))
		echo "ok - $t_name"
		[ "${T_VERBOSE:-0}" = 1 ] && sed 's/^/#     /' "$CASE/.log"
	else
		T_FAILED=$((T_FAILED + 1))
		echo "not ok - $t_name"
		if [ -s "$T_REASON" ]; then
			sed 's/^/#   /' "$T_REASON"
		else
			echo "#   case exited with status $t_rc"
		fi
		if [ -s "$CASE/.log" ]; then
			echo "#   output of the case (last lines):"
			tail -n 15 "$CASE/.log" | sed 's/^/#     /'
		fi
	fi
	# Keep the run's disk use small; a failing case's files stay until exit.
	[ "$t_rc" -eq 0 ] && rm -rf "$CASE"
	return 0
}

t_done() {
	echo "# $T_PASSED ok, $T_FAILED not ok"
	[ "$T_FAILED" -eq 0 ]
}

# Skips the whole script (prints one ok line so the count stays honest).
t_skip_all() {
	echo "ok - # SKIP $*"
	exit 0
}

# ------------------------------------------------------------------- keys

# make_keys DIR: a CA and signer (emailProtection), a codeSigning signer, an
# untrusted CA with its signer (same CN as the trusted one), an RSA key pair.
make_keys() {
	k=$1
	mkdir -p "$k"
	(
		cd "$k" || exit 1
		printf 'basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\nsubjectKeyIdentifier=hash\n' >ca.ext
		printf 'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=emailProtection\n' >email.ext
		printf 'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=codeSigning\n' >code.ext
		for ca in ca rogue-ca; do
			openssl req -x509 -newkey rsa:2048 -nodes -keyout $ca.key -out $ca.pem \
				-days 3650 -subj "/CN=swinstall test $ca" \
				-addext 'basicConstraints=critical,CA:TRUE' \
				-addext 'keyUsage=critical,keyCertSign,cRLSign' 2>/dev/null || exit 1
		done
		# name:CA:EXTFILE:CN
		for spec in signer:ca:email.ext:signer code-signer:ca:code.ext:code-signer \
			untrusted:rogue-ca:email.ext:signer; do
			IFS=: read -r name ca ext cn <<EOF
$spec
EOF
			openssl req -newkey rsa:2048 -nodes -keyout "$name.key" -out "$name.csr" \
				-subj "/CN=$cn" 2>/dev/null || exit 1
			openssl x509 -req -in "$name.csr" -CA "$ca.pem" -CAkey "$ca.key" \
				-set_serial "0x$(openssl rand -hex 8)" -days 3650 -extfile "$ext" \
				-out "$name.pem" 2>/dev/null || exit 1
		done
		openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out rsa.key 2>/dev/null || exit 1
		openssl pkey -in rsa.key -pubout -out rsa.pub || exit 1
		openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out rsa-other.key 2>/dev/null || exit 1
	)
}

# ----------------------------------------------------------------- device

# make_device DIR [PUBLIC-KEY]: the simulated A/B device described on top.
# PUBLIC-KEY defaults to $KEYS/ca.pem; "" writes no public-key setting.
make_device() {
	d=$1
	if [ $# -ge 2 ]; then key=$2; else key="$KEYS/ca.pem"; fi
	mkdir -p "$d"
	yes "slot A: factory system 1.0 (active) " | head -c "$SLOT_SIZE" >"$d/slotA.img"
	yes "slot B: old standby system 0.9 " | head -c "$SLOT_SIZE" >"$d/slotB.img"
	cp "$d/slotB.img" "$d/slotB.orig"
	# SWUpdate-style A/B variables: rootpart selects the slot that boots,
	# ustate is the update state (0 = nothing pending).
	cat >"$d/env.txt" <<'EOF'
bootcmd=run boot_slot
bootcount=0
bootlimit=3
rootpart=2
upgrade_available=0
ustate=0
EOF
	mkenvimage -s "$ENV_SIZE" -o "$d/env.img" "$d/env.txt" || return 1
	echo "$d/env.img 0x0 $ENV_SIZE" >"$d/fw_env.config"
	echo "myboard 1.0" >"$d/hwrevision"
	printf 'bootloader 2022.01\nrootfs 1.0.0\n' >"$d/sw-versions"
	{
		echo "# swinstall configuration of the simulated device $d"
		[ -n "$key" ] && echo "public-key = \"$key\";"
		echo "bootloader = \"uboot\";"
		echo "uboot-env-config = \"$d/fw_env.config\";"
	} >"$d/swinstall.conf"
	device_settings "$d" >>"$d/swinstall.conf"
	snapshot "$d"
}

# device_settings DIR: the settings of a simulated device in DIR besides
# its key and bootloader: identity, versions, and its own lock and state
# directory (so that tests never share them).
device_settings() {
	cat <<EOF
hwrevision-file = "$1/hwrevision";
sw-versions-file = "$1/sw-versions";
lock-file = "$1/swinstall.lock";
state-dir = "$1/state";
EOF
}

# slot_settings DIR [DEVICE-A DEVICE-B]: slots A (DEVICE-A, default
# DIR/slotA.img, rootpart=2, stable,copy1) and B (DEVICE-B, default
# DIR/slotB.img, rootpart=3, stable,copy2), the running one found from
# DIR/cmdline and DIR/mountinfo.
slot_settings() {
	cat <<EOF
cmdline-file = "$1/cmdline";
mountinfo-file = "$1/mountinfo";
slots = (
	{ name = "A"; device = "${2:-$1/slotA.img}"; select = "stable,copy1"; bootenv = { rootpart = "2"; }; },
	{ name = "B"; device = "${3:-$1/slotB.img}"; select = "stable,copy2"; bootenv = { rootpart = "3"; }; }
);
EOF
}

# Records the sha256 of the slots and of the env as "before" state.
snapshot() {
	for f in slotA.img slotB.img env.img; do
		sha "$1/$f"
	done >"$1/.snapshot"
}

# -------------------------------------------------------------- artifacts

sha() {
	openssl dgst -sha256 -r "$1" | cut -d' ' -f1
}

# mk_data FILE SIZE SEED: SIZE (head -c syntax: 300K, 1M) deterministic bytes
# that do not compress.
mk_data() {
	openssl enc -aes-256-ctr -nosalt -pbkdf2 -pass "pass:$3" -in /dev/zero 2>/dev/null |
		head -c "$2" >"$1"
}

# sign_cms DIR [SIGNER]: DIR/sw-description.sig, CMS, deterministic (-noattr).
sign_cms() {
	s=${2:-signer}
	openssl cms -sign -in "$1/sw-description" -out "$1/sw-description.sig" \
		-signer "$KEYS/$s.pem" -inkey "$KEYS/$s.key" \
		-outform DER -nosmimecap -binary -noattr
}

# sign_rsa DIR [KEY]: PKCS#1 v1.5 over SHA-256.
sign_rsa() {
	openssl dgst -sha256 -sign "$KEYS/${2:-rsa}.key" -out "$1/sw-description.sig" \
		"$1/sw-description"
}

# mk_cpio OUT FORMAT(crc|newc) DIR MEMBER...: members in exactly this order.
mk_cpio() {
	out=$1 fmt=$2 dir=$3
	shift 3
	case "$out" in /*) ;; *) out="$(pwd)/$out" ;; esac
	(cd "$dir" && printf '%s\n' "$@" | cpio -o -H "$fmt" --quiet >"$out")
}

# mk_swu OUT SIGN(cms|rsa|none) FORMAT DIR ARTIFACT...: signs DIR/sw-description
# (unless none) and archives sw-description [sw-description.sig] ARTIFACT...
mk_swu() {
	out=$1 how=$2 fmt=$3 dir=$4
	shift 4
	case "$how" in
	cms) sign_cms "$dir" || return 1 ;;
	rsa) sign_rsa "$dir" || return 1 ;;
	none) rm -f "$dir/sw-description.sig" ;;
	*) echo "mk_swu: unknown signing $how" >&2; return 1 ;;
	esac
	if [ "$how" = none ]; then
		mk_cpio "$out" "$fmt" "$dir" sw-description "$@"
	else
		mk_cpio "$out" "$fmt" "$dir" sw-description sw-description.sig "$@"
	fi
}

# swdesc_ab DIR FILE [EXTRA-ATTRS]: DIR/sw-description for the A/B device
# $DEV: selection stable,copy1 writes slot A with rootpart=2, stable,copy2
# writes slot B with rootpart=3 (both carry sha256 of DIR/FILE).
swdesc_ab() {
	h=$(sha "$1/$2")
	extra=${3:-}
	cat >"$1/sw-description" <<EOF
software =
{
	version = "2.0.0";
	description = "A/B test image";
	hardware-compatibility: [ "1.0" ];
	stable: {
		copy1: {
			images: (
				{
					filename = "$2";
					type = "raw";
					device = "$DEV/slotA.img";
					sha256 = "$h";$extra
				}
			);
			bootenv: (
				{ name = "rootpart"; value = "2"; }
			);
		};
		copy2: {
			images: (
				{
					filename = "$2";
					type = "raw";
					device = "$DEV/slotB.img";
					sha256 = "$h";$extra
				}
			);
			bootenv: (
				{ name = "rootpart"; value = "3"; }
			);
		};
	};
}
EOF
}

# ab_image OUT SIGN FORMAT [SIZE]: a payload ($CASE/w/rootfs.img) in an A/B
# image for $DEV; the common good image of many cases.
ab_image() {
	w="$CASE/w"
	mkdir -p "$w"
	mk_data "$w/rootfs.img" "${4:-300K}" "rootfs-$T_NUM"
	swdesc_ab "$w" rootfs.img
	mk_swu "$1" "$2" "$3" "$w" rootfs.img
}

# ------------------------------------------------------ scripts of the image

# new_case: the device in $CASE/dev, the payload $CASE/w/rootfs.img.
new_case() {
	DEV="$CASE/dev"
	make_device "$DEV" || fail "make_device"
	mkdir -p "$CASE/w"
	mk_data "$CASE/w/rootfs.img" 300K "rootfs-$T_NUM"
}

# expect_record LINES: the scripts of the case recorded exactly LINES in
# $CASE/record.
expect_record() {
	echo "# record: $(tr "\n" "|" <"$CASE/record" 2>/dev/null)"
	got=$(cat "$CASE/record" 2>/dev/null)
	[ "$got" = "$1" ] || fail "the scripts recorded '$got', expected '$1'"
}

# expect_script_stopped DEVICE-DIR SECONDS IMAGE ERROR: installing IMAGE
# with --script-timeout SECONDS fails with ERROR, in time, nothing written.
expect_script_stopped() {
	start=$(date +%s)
	swi "$1" --script-timeout "$2" "$3"
	took=$(($(date +%s) - start))
	expect_rc 1
	expect_err "$4"
	[ "$took" -lt $(($2 + 13)) ] || fail "the install took $took s"
	expect_device_untouched "$1"
}

# ------------------------------------------------------------ cpio surgery

# cpio_member FILE NAME: prints "HEADER-OFFSET DATA-OFFSET SIZE" of member
# NAME of a newc/crc archive (walks the headers; no libarchive involved).
cpio_member() {
	f=$1 want=$2 pos=0
	while :; do
		hdr=$(dd if="$f" bs=1 skip="$pos" count=110 2>/dev/null)
		case "$hdr" in 07070[12]*) ;; *) return 1 ;; esac
		namesize=$((0x$(printf %s "$hdr" | cut -c95-102)))
		filesize=$((0x$(printf %s "$hdr" | cut -c55-62)))
		name=$(dd if="$f" bs=1 skip=$((pos + 110)) count=$((namesize - 1)) 2>/dev/null)
		data=$(((pos + 110 + namesize + 3) / 4 * 4))
		if [ "$name" = "$want" ]; then
			echo "$pos $data $filesize"
			return 0
		fi
		[ "$name" = "TRAILER!!!" ] && return 1
		pos=$(((data + filesize + 3) / 4 * 4))
	done
}

# put_bytes FILE OFFSET TEXT: overwrites bytes in place.
put_bytes() {
	printf '%s' "$3" | dd of="$1" bs=1 seek="$2" conv=notrunc 2>/dev/null
}

# flip_byte FILE OFFSET: xors one byte with 0x01 in place.
flip_byte() {
	b=$(od -An -tu1 -j "$2" -N1 "$1" | tr -d ' \n')
	# shellcheck disable=SC2059
	printf "\\$(printf %03o $((b ^ 1)))" | dd of="$1" bs=1 seek="$2" conv=notrunc 2>/dev/null
}

# flip_data FILE MEMBER [AT]: flips a data byte of MEMBER (default its middle).
flip_data() {
	# shellcheck disable=SC2046 # split into offsets on purpose
	set -- "$1" "$2" "${3:-}" $(cpio_member "$1" "$2") || return 1
	[ $# -eq 6 ] || { echo "no member $2" >&2; return 1; }
	at=${3:-$(($6 / 2))}
	flip_byte "$1" $(($5 + at))
}

# set_check FILE MEMBER HEX8: rewrites the check field of MEMBER's header.
set_check() {
	# shellcheck disable=SC2046 # split into offsets on purpose
	set -- "$1" "$2" "$3" $(cpio_member "$1" "$2")
	[ $# -eq 6 ] || { echo "no member $2" >&2; return 1; }
	put_bytes "$1" $(($4 + 102)) "$3"
}

# ------------------------------------------------------------- running it

# swi DEVICE-DIR ARGS...: runs swinstall with the device's configuration;
# sets SWI_RC, keeps stdout/stderr in $CASE/out and $CASE/err.
swi() {
	dev=$1
	shift
	"$SWINSTALL" -f "$dev/swinstall.conf" "$@" >"$CASE/out" 2>"$CASE/err"
	SWI_RC=$?
	echo "\$ swinstall -f $dev/swinstall.conf $* -> exit $SWI_RC"
	sed 's/^/  stderr: /' "$CASE/err"
}

# expect_rc N: the last swi run exited N (else the case fails with stderr).
expect_rc() {
	if [ "$SWI_RC" -ne "$1" ]; then
		fail "expected exit $1, got $SWI_RC; stderr: $(head -c 600 "$CASE/err")"
	fi
}

# expect_err TEXT: the last "swinstall: " line on stderr (the error; lines
# before it may be progress or information) holds TEXT.
expect_err() {
	grep "^swinstall: " "$CASE/err" | tail -n 1 | grep -qF -- "$1" ||
		fail "the error message does not name '$1': $(head -c 600 "$CASE/err")"
}

# ----------------------------------------------------------------- checks

# env_list DEVICE-DIR: the environment as fw_printenv prints it.
env_list() {
	fw_printenv -c "$1/fw_env.config" 2>&1
}

# env_get DEVICE-DIR NAME: the value, empty when absent.
env_get() {
	env_list "$1" | sed -n "s/^$2=//p"
}

expect_env() {
	v=$(env_get "$1" "$2")
	env_list "$1" | grep -q "^$2=" || fail "env: $2 is absent, expected '$3'"
	[ "$v" = "$3" ] || fail "env: $2='$v', expected '$3'"
}

expect_env_absent() {
	if env_list "$1" | grep -q "^$2="; then
		fail "env: $2 is set ('$(env_get "$1" "$2")'), expected absent"
	fi
}

# The success state: boot selection applied, ustate=1, no marker.
expect_committed() {
	expect_env "$1" rootpart "${2:-3}"
	expect_env "$1" ustate 1
	expect_env_absent "$1" recovery_status
}

# expect_installed_in_b DEV: the last run succeeded, slot B holds
# w/rootfs.img and B boots next.
expect_installed_in_b() {
	expect_rc 0
	expect_bytes "$1/slotB.img" 0 w/rootfs.img
	expect_committed "$1" 3
}

snap_of() {
	sed -n "$2p" "$1/.snapshot"
}

expect_unchanged() {
	case "$2" in slotA.img) n=1 ;; slotB.img) n=2 ;; env.img) n=3 ;; esac
	[ "$(sha "$1/$2")" = "$(snap_of "$1" "$n")" ] || fail "$2 changed"
}

expect_slot_a_untouched() {
	expect_unchanged "$1" slotA.img
}

# Neither slot was written (for images that change only files or the env).
expect_slots_untouched() {
	expect_unchanged "$1" slotA.img
	expect_unchanged "$1" slotB.img
}

# Nothing was written: both slots and the env are byte-identical.
expect_device_untouched() {
	expect_unchanged "$1" slotA.img
	expect_unchanged "$1" slotB.img
	expect_unchanged "$1" env.img
}

# A failure after the install started: marker says failed, ustate=3, the
# boot selection is the old one, the active slot untouched.
expect_failed_state() {
	expect_slot_a_untouched "$1"
	expect_env "$1" recovery_status failed
	expect_env "$1" ustate 3
	expect_env "$1" rootpart 2
	[ "$(wc -c <"$1/slotB.img")" -eq "$SLOT_SIZE" ] || fail "slotB.img changed size"
}

# Either of the two safe outcomes, for failures the contract lets happen
# before or after the first write.
expect_safe_failure() {
	if [ "$(sha "$1/env.img")" = "$(snap_of "$1" 3)" ]; then
		expect_device_untouched "$1"
	else
		expect_failed_state "$1"
	fi
}

# expect_bytes FILE OFFSET EXPECTED-FILE: FILE holds EXPECTED-FILE at OFFSET.
expect_bytes() {
	n=$(wc -c <"$3")
	tail -c +$(($2 + 1)) "$1" | head -c "$n" | cmp -s - "$3" ||
		fail "$1 at offset $2 does not hold the bytes of $(basename "$3")"
}

# expect_region_unchanged FILE ORIG-FILE OFFSET LENGTH
expect_region_unchanged() {
	tail -c +$(($3 + 1)) "$2" | head -c "$4" >"$CASE/.region"
	expect_bytes "$1" "$3" "$CASE/.region"
}

# desc_images DIR COLLECTION FILE ATTRS [BOOTENV-ROOTPART [SETTINGS]]:
# DIR/sw-description with one entry in software.COLLECTION (images|files)
# for member FILE, its sha256 and the libconfig text ATTRS, plus bootenv
# rootpart (default 3; "" for none) and SETTINGS (more of software, such
# as an embedded-script). No selection groups: install it without -e.
desc_images() {
	h=$(sha "$1/$3")
	rp=${5-3}
	{
		cat <<EOF2
software =
{
	version = "2.0.0";
	hardware-compatibility = [ "1.0" ];${6:+ $6}
	$2 = (
		{
			filename = "$3";
			sha256 = "$h";
			$4
		}
	);
EOF2
		[ -n "$rp" ] && echo "	bootenv = ( { name = \"rootpart\"; value = \"$rp\"; } );"
		echo "}"
	} >"$1/sw-description"
}

# swi_pipe FILE DEVICE-DIR ARGS...: like swi, the image piped in with cat.
swi_pipe() {
	img=$1 dev=$2
	shift 2
	cat "$img" | "$SWINSTALL" -f "$dev/swinstall.conf" "$@" >"$CASE/out" 2>"$CASE/err"
	SWI_RC=$?
	echo "\$ cat $img | swinstall -f $dev/swinstall.conf $* -> exit $SWI_RC"
	sed 's/^/  stderr: /' "$CASE/err"
}

# ------------------------------------------------------------- the oracle
#
# Debian's swupdate (2022.12) as an oracle, in one-shot mode:
#   swupdate -v -i IMAGE -k ca.pem -H myboard:1.0 -B uboot [-e SET,MODE]
# - It has no option for the fw_env.config or sw-versions path: it reads
#   /etc/fw_env.config (libubootenv's default) and /etc/sw-versions. While a
#   script holds the oracle's lock (oracle_begin), those two files point at
#   the simulated device; they are backed up first and restored by
#   oracle_end (also on failure or ^C, through t_cleanup). Outside the lock
#   /etc holds the system's own files. Nothing else in /etc is touched: -H
#   replaces /etc/hwrevision, no /etc/swupdate.cfg is needed.
# - TMPDIR is the case's directory: swupdate extracts sw-description and
#   copies artifacts that are not installed-directly there. Its IPC sockets
#   (/tmp/swupdateprog, /tmp/sockinstctrl) are fixed paths, one more reason
#   for the lock, which the bench (test/bench/bench.sh) takes too.
# - It exits 1 now and then after a complete, successful install (a race at
#   its exit, seen in 9 of 60 runs): oracle_install retries a failing run on
#   a fresh device, up to 3 times, before it believes it.
# - It is built for CMS signatures only (no RSA), and its libconfig (1.5)
#   rejects trailing commas.
# - Its rawfile handler does not create missing parent directories,
#   create-destination or not: tests create them on both devices.

ORACLE_LOCK=/tmp/swinstall-swupdate-oracle.lock
ORACLE_ETC="/etc/fw_env.config /etc/sw-versions"
ORACLE_HELD=0

# oracle_unusable: prints why swupdate cannot serve as the oracle here and
# succeeds, or fails when it can.
oracle_unusable() {
	if ! command -v swupdate >/dev/null 2>&1; then
		echo "swupdate is not installed"
	elif [ "$(id -u)" -ne 0 ] && ! [ -w /etc ]; then
		echo "needs to write /etc/fw_env.config and /etc/sw-versions (run as root)"
	else
		return 1
	fi
}

# oracle_begin [WAIT-SECONDS]: takes the oracle's lock (waiting at most
# WAIT, default 120) and backs up the /etc files; fails when the lock is
# still held by another run then. Call after t_init.
oracle_begin() {
	exec 9>"$ORACLE_LOCK"
	if command -v flock >/dev/null 2>&1; then
		flock -w "${1:-120}" 9 || return 1
	fi
	ORACLE_HELD=1
	if grep -q '/swinstall-it\.' /etc/fw_env.config 2>/dev/null; then
		# left behind by a run that was killed (SIGKILL skips the trap): it
		# points at a removed temp dir and is not the system's own file
		echo "# removing a stale /etc/fw_env.config and /etc/sw-versions of a killed run"
		# shellcheck disable=SC2086 # a list of paths
		rm -f $ORACLE_ETC
	fi
	rm -rf "$TMP/oracle-etc"
	mkdir -p "$TMP/oracle-etc"
	for f in $ORACLE_ETC; do
		if [ -e "$f" ] || [ -L "$f" ]; then
			cp -a "$f" "$TMP/oracle-etc/" || { echo "# cannot back up $f"; return 1; }
		fi
	done
}

# oracle_end: restores the /etc files and releases the lock (nothing when
# it is not held).
oracle_end() {
	[ "$ORACLE_HELD" = 1 ] || return 0
	for f in $ORACLE_ETC; do
		b="$TMP/oracle-etc/$(basename "$f")"
		rm -f "$f"
		if [ -e "$b" ] || [ -L "$b" ]; then cp -a "$b" "$f"; fi
	done
	ORACLE_HELD=0
	command -v flock >/dev/null 2>&1 && flock -u 9
	exec 9>&-
}

# oracle_install PREPARE IMAGE SWUPDATE-ARGS...: runs the command PREPARE,
# which makes the simulated device $DEV anew, points /etc at it and runs
# swupdate -v -i IMAGE SWUPDATE-ARGS. A failing run is retried (on a device
# made anew) up to ORACLE_ATTEMPTS times (default 3) in all, unless
# EXPECT_ORACLE_FAIL=1. Sets ORACLE_RC;
# the log is $CASE/swupdate.log. Needs oracle_begin.
oracle_install() {
	prepare=$1 img=$2
	shift 2
	attempt=1
	while :; do
		$prepare
		cp "$DEV/fw_env.config" /etc/fw_env.config
		cp "$DEV/sw-versions" /etc/sw-versions
		rm -rf "$CASE/swtmp"
		mkdir -p "$CASE/swtmp"
		# a run takes a second or two: 30 s catches a hang and keeps even
		# a few hung attempts within the runner's limit for the script
		TMPDIR="$CASE/swtmp" timeout --foreground 30 swupdate -v -i "$img" "$@" \
			>"$CASE/swupdate.log" 2>&1
		ORACLE_RC=$?
		echo "\$ swupdate -i $img $* -> exit $ORACLE_RC (attempt $attempt)"
		grep -E '\[(ERROR|WARN )\]' "$CASE/swupdate.log" | grep -v -e MTD -e mtd |
			sed 's/^/  swupdate: /'
		[ "$ORACLE_RC" -eq 0 ] && break
		[ "${EXPECT_ORACLE_FAIL:-0}" = 1 ] && break
		attempt=$((attempt + 1))
		[ "$attempt" -gt "${ORACLE_ATTEMPTS:-3}" ] && break
	done
}

# device_state DEVICE-DIR OUT-DIR: what an install may change on the
# simulated device, for comparing two of them: every *.img target but the
# environment's (byte for byte), the installed files under rootfs/, and the
# environment as fw_printenv lists it (libubootenv keeps stale bytes after
# the variables, so environments are never compared byte for byte).
device_state() {
	rm -rf "$2"
	mkdir -p "$2"
	for f in "$1"/*.img; do
		[ "$(basename "$f")" = env.img ] || cp "$f" "$2/"
	done
	env_list "$1" >"$2/env"
	if [ -d "$1/rootfs" ]; then cp -a "$1/rootfs" "$2/rootfs"; fi
}

# expect_same_state A-DIR B-DIR: two device_state results are the same
# (A is swupdate's, B swinstall's, for the messages).
expect_same_state() {
	for f in "$1"/*.img "$2"/*.img; do
		n=$(basename "$f")
		cmp -s "$1/$n" "$2/$n" || fail "$n differs: $(cmp "$1/$n" "$2/$n" 2>&1 | head -n1)"
	done
	if [ -d "$1/rootfs" ] || [ -d "$2/rootfs" ]; then
		diff -r "$1/rootfs" "$2/rootfs" >/dev/null 2>&1 ||
			fail "installed files differ: $(diff -rq "$1/rootfs" "$2/rootfs" 2>&1 | head -n3)"
	fi
	# swinstall's own records (swinstall_complete, swinstall_version_*)
	# have no SWUpdate counterpart: compared without them.
	grep -v '^swinstall_' "$2/env" >"$CASE/env.own-records-out"
	diff "$1/env" "$CASE/env.own-records-out" >"$CASE/env.diff" ||
		fail "environments differ (< swupdate, > swinstall): $(cat "$CASE/env.diff")"
}
