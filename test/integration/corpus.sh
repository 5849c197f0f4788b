# shellcheck shell=sh
# The corpus driver, sourced by test_corpus.sh (build, info, -c, -n,
# install) and test_corpus_swupdate.sh (the same images installed by
# Debian's swupdate too); two scripts so that each stays well within the
# test runner's time limit. test_corpus.sh describes the steps,
# test/corpus/README.md the cases.
# shellcheck source=test/integration/lib.sh
. "$(dirname "$0")/lib.sh"
CORPUS=$(cd "$(dirname "$0")/../corpus" && pwd)
FEATURES=${CORPUS_FEATURES:-all}
t_init

# AES keys and IVs of the corpus (fixed test values, made up for it).
AES_IV=00112233445566778899aabbccddeeff
AES128=2b7e151628aed2a6abf7158809cf4f3c
AES192=8e73b0f7da0e6452c810f32b809079e562f8ead2522c6b7b
AES256=603deb1015ca71be2b73aef0857d77811f352c073b6108d72d9810a30914dff4

# Small slots keep the run quick; the corpus writes at most 320 KiB in.
# shellcheck disable=SC2034 # read by make_device in lib.sh
SLOT_SIZE=524288
# Debian's own Python, not a wrapper in front of it (swugenerator uses it too)
PYTHON=$(command -v /usr/bin/python3 || command -v python3)
IMAGES=$TMP/images
mkdir -p "$IMAGES"

# ----------------------------------------------------------- case files

# load_case NAME: the case's variables, defaults first.
load_case() {
	C=$CORPUS/$1
	NAME=$1
	title='' builder=cpio sign=cms format=crc artifacts='' derive='' members='' tamper='' build_args=''
	select='' hwrevision='' aes='' aes_given=yes ivt='' args='' needs='' slots=no dirs='' versions=''
	info=0 check=0 dryrun=0 install=0 msg='' warn='' expect=''
	oracle=no oracle_rc=0 oracle_expect='' oracle_args='' oracle_ignore_env='' why=''
	# shellcheck disable=SC1090,SC1091
	if [ -f "$C/case" ]; then . "$C/case"; fi
	IMG=$IMAGES/$NAME
	DEV=$TMP/dev/$NAME
}

# has_feature GROUP: GROUP is expected in this build.
has_feature() {
	case " $FEATURES " in *" all "* | *" $1 "*) return 0 ;; esac
	return 1
}

# missing_features GROUP...: prints those not expected.
missing_features() {
	for g in "$@"; do has_feature "$g" || printf '%s ' "$g"; done
}

# step NAME WHAT FUNCTION [GROUP...]: one check of a case, unless it needs a
# group that CORPUS_FEATURES leaves out.
step() {
	s_name=$1 s_what=$2 s_fn=$3
	shift 3
	# shellcheck disable=SC2086 # needs is a list
	lacking=$(missing_features $needs "$@")
	if [ -n "$lacking" ]; then
		echo "# skip $s_name: $s_what (needs ${lacking% }, not in CORPUS_FEATURES)"
		return 1
	fi
	run_case "$s_name: $s_what" "$s_fn" "$s_name"
}

# ------------------------------------------------------------- devices

# The value of a @@PLACEHOLDER@@ on the case's device, as bitbake's
# variables are in meta-swupdate templates.
placeholders_sed() {
	printf 's|@@SLOT_A@@|%s|g; s|@@SLOT_B@@|%s|g; s|@@BOOT0@@|%s|g; s|@@ROOT@@|%s|g; s|@@IVT@@|%s|g\n' \
		"$DEV/slotA.img" "$DEV/slotB.img" "$DEV/boot0.img" "$DEV/rootfs" "$ivt"
}

# make_boot0 DIR: an eMMC boot partition beside the slots, which images
# may write as an extra target.
make_boot0() {
	yes "eMMC boot partition " | head -c 65536 >"$1/boot0.img"
}

# fresh_device: the case's device made anew, identically every time (a
# copy of the one made first, which is quicker than making it again).
fresh_device() {
	rm -rf "$DEV"
	if [ -d "$DEV.pristine" ]; then
		cp -a "$DEV.pristine" "$DEV"
		return
	fi
	make_device "$DEV" "$(public_key)" >/dev/null
	make_boot0 "$DEV"
	for d in $dirs; do mkdir -p "$DEV/rootfs/$d"; done
	[ -n "$versions" ] && printf '%s\n' "$versions" | tr ',' '\n' >>"$DEV/sw-versions"
	if [ "$slots" = yes ]; then
		echo "console=ttyS0 swinstall.slot=A" >"$DEV/cmdline"
		: >"$DEV/mountinfo"
		slot_settings "$DEV" >>"$DEV/swinstall.conf"
		echo "extra-targets = [ \"$DEV/boot0.img\" ];" >>"$DEV/swinstall.conf"
	fi
	snapshot "$DEV"
	cp -a "$DEV" "$DEV.pristine"
}

public_key() {
	case "$sign" in
	cms) echo "$KEYS/ca.pem" ;;
	rsa | rsa-pss) echo "$KEYS/rsa.pub" ;;
	none) echo "" ;;
	esac
}

aes_key() {
	case "$aes" in
	aes128) echo "$AES128" ;;
	aes192) echo "$AES192" ;;
	aes256) echo "$AES256" ;;
	esac
}

# ------------------------------------------------------------- building

# make_artifacts DIR: the generated artifacts (NAME:SIZE[:text]) and the
# derived ones (OUT=METHOD:IN, in order).
make_artifacts() {
	for a in $artifacts; do
		IFS=: read -r f size kind <<EOF
$a
EOF
		if [ "$kind" = text ]; then
			yes "$NAME $f: text that compresses well" | head -c "$size" >"$1/$f"
		else
			mk_data "$1/$f" "$size" "$NAME-$f"
		fi
	done
	for d in $derive; do
		out=${d%%=*} method=${d#*=}
		in=${method#*:} method=${method%%:*}
		derive_one "$method" "$1/$in" "$1/$out" || return 1
	done
}

derive_one() {
	case "$1" in
	gzip) gzip -n -9 -c "$2" >"$3" ;;
	zlib) "$PYTHON" -c 'import sys, zlib; sys.stdout.buffer.write(zlib.compress(open(sys.argv[1], "rb").read(), 9))' "$2" >"$3" ;;
	zstd) zstd -q -19 -c "$2" >"$3" ;;
	xz) xz -c "$2" >"$3" ;;
	aes) aes_encrypt "$2" "$3" "$AES_IV" ;;
	aes-ivt) aes_encrypt "$2" "$3" "$ivt" ;;
	tar) make_tar "$2" "$3" ;;
	tar-escape) make_escape_tar "$2" "$3" ;;
	*) echo "unknown derivation $1" >&2; return 1 ;;
	esac
}

# make_tar W/A+B+C OUT: a tarball of artifacts A, B, C (as they lie in W,
# in a directory "app/" with a symbolic and a hard link), reproducible.
make_tar() {
	w=$(dirname "$1") list=$(basename "$1")
	rm -rf "$w/.tar" && mkdir -p "$w/.tar/app/conf"
	for f in $(echo "$list" | tr '+' ' '); do cp "$w/$f" "$w/.tar/app/$f"; done
	first=$(echo "$list" | cut -d+ -f1)
	chmod 0750 "$w/.tar/app/conf"
	ln -s "../$first" "$w/.tar/app/conf/current"
	ln "$w/.tar/app/$first" "$w/.tar/app/conf/$first.hardlink"
	tar -C "$w/.tar" --sort=name --owner=0 --group=0 --mtime=@1700000000 -cf "$2" app
}

# make_tar_escape W/KIND OUT: a tarball with a good file "ok.txt" and one
# entry of KIND that would land outside the directory it is extracted to
# (Python's tarfile writes what tar(1) refuses to).
make_escape_tar() {
	"$PYTHON" - "$(basename "$1")" "$2" <<'EOF'
import io, sys, tarfile
kind, out = sys.argv[1], sys.argv[2]
def member(name, data=b"", **kw):
    ti = tarfile.TarInfo(name)
    for k, v in kw.items():
        setattr(ti, k, v)
    ti.size = len(data) if ti.type == tarfile.REGTYPE else 0
    ti.mtime = 1700000000
    return ti, io.BytesIO(data) if ti.type == tarfile.REGTYPE else None
entries = [member("ok.txt", b"inside\n")]
entries += {
    "dotdot": [member("../escaped.txt", b"outside\n")],
    "deep-dotdot": [member("a/../../escaped.txt", b"outside\n")],
    "absolute": [member("/tmp/swinstall-corpus-escaped.txt", b"outside\n")],
    "symlink-out": [member("evil", type=tarfile.SYMTYPE, linkname="../..")],
    "symlink-through": [member("evil", type=tarfile.SYMTYPE, linkname="/etc"),
                        member("evil/escaped.txt", b"outside\n")],
    "hardlink-out": [member("evil", type=tarfile.LNKTYPE, linkname="../escaped.txt")],
}[kind]
with tarfile.open(out, "w", format=tarfile.GNU_FORMAT) as t:
    for ti, f in entries:
        t.addfile(ti, f)
EOF
}

# aes_encrypt IN OUT IV: AES-CBC (the key's length picks 128/192/256), PKCS#7.
aes_encrypt() {
	k=$(aes_key)
	openssl enc "-aes-$((${#k} * 4))-cbc" -K "$k" -iv "$3" -nosalt -in "$1" -out "$2"
}

# sign_desc DIR: DIR/sw-description.sig as the case says.
sign_desc() {
	case "$sign" in
	cms) sign_cms "$1" ;;
	rsa) sign_rsa "$1" ;;
	rsa-pss) openssl dgst -sha256 -sign "$KEYS/rsa.key" -sigopt rsa_padding_mode:pss \
		-sigopt rsa_pss_saltlen:-2 -out "$1/sw-description.sig" "$1/sw-description" ;;
	none) rm -f "$1/sw-description.sig" ;;
	esac
}

# The members a template names, in order, once each (libconfig or JSON).
named_members() {
	grep -o 'filename"\{0,1\}[[:space:]]*[=:][[:space:]]*"[^"]*"' "$1" |
		sed 's/.*"\([^"]*\)"$/\1/' | awk '!seen[$0]++'
}

# build_cpio W: what meta-swupdate's class does without swugenerator: the
# placeholders and $swupdate_get_sha256(FILE) filled in, signed, archived.
build_cpio() {
	w=$1
	sed "$(placeholders_sed)" "$C/sw-description" >"$w/sw-description"
	for f in $(grep -o '\$swupdate_get_sha256([^)]*)' "$w/sw-description" |
		sed 's/.*(\(.*\))/\1/' | sort -u); do
		sed -i "s|\\\$swupdate_get_sha256($f)|$(sha "$w/$f")|g" "$w/sw-description"
	done
	sign_desc "$w" || return 1
	m=${members:-$(named_members "$w/sw-description")}
	set -- sw-description
	[ "$sign" = none ] || set -- "$@" sw-description.sig
	# shellcheck disable=SC2086 # a list of member names
	mk_cpio "$IMG/u.swu" "$format" "$w" "$@" $m
}

# build_swugenerator W: the template with bitbake's variables substituted,
# then swugenerator (which runs in the artifact directory, see README.md).
build_swugenerator() {
	w=$1
	sed "$(placeholders_sed)" "$C/sw-description.in" >"$w/sw-description.in"
	case "$sign" in
	cms) set -- -k "CMS,$KEYS/signer.key,$KEYS/signer.pem" ;;
	rsa) set -- -k "RSA,$KEYS/rsa.key" ;;
	none) set -- ;;
	esac
	if [ -n "$aes" ]; then
		printf 'key=%s\niv=%s\n' "$(aes_key)" "$AES_IV" >"$IMG/swugenerator.key"
		set -- "$@" -K "$IMG/swugenerator.key"
	fi
	# shellcheck disable=SC2086 # build_args is a list
	(cd "$w" && swugenerator -s sw-description.in -o "$IMG/u.swu" -a . "$@" $build_args create)
}

# build_script W: the case's Buildroot-style post-image script, which writes
# sw-description from a heredoc and archives the image itself.
build_script() {
	w=$1
	case "$sign" in
	cms) set -- "$KEYS/signer.key" "$KEYS/signer.pem" ;;
	*) set -- "" "" ;;
	esac
	(cd "$w" && BINARIES_DIR=$w SWU_OUT=$IMG/u.swu SIGN_KEY=$1 SIGN_CERT=$2 \
		SLOT_A=$DEV/slotA.img SLOT_B=$DEV/slotB.img BOOT0=$DEV/boot0.img ROOT=$DEV/rootfs \
		sh "$C/post-image.sh")
}

# expect_untouched: the targets and the environment are as fresh_device
# made them (cmp with the pristine copy: quicker than hashing them).
expect_untouched() {
	for f in slotA.img slotB.img boot0.img env.img; do
		cmp -s "$DEV/$f" "$DEV.pristine/$f" || fail "$f changed"
	done
}

# expect_safe_refusal: nothing written, or only the failure recorded
# (recovery_status=failed, ustate=3, the boot selection as it was).
expect_safe_refusal() {
	if cmp -s "$DEV/env.img" "$DEV.pristine/env.img"; then
		expect_untouched
	else
		expect_failed_state "$DEV"
	fi
}

# ---------------------------------------------------------------- running

# The arguments both programs get from the case.
case_args() {
	[ -n "$select" ] && printf -- '-e\n%s\n' "$select"
	[ -n "$hwrevision" ] && printf -- '-H\n%s\n' "$hwrevision"
	[ -n "$aes" ] && [ "$aes_given" = yes ] && printf -- '-K\n%s\n' "$IMG/aes.key"
	return 0
}

# run_swi ARGS...: swinstall on the case's device with the case's arguments.
run_swi() {
	# shellcheck disable=SC2046,SC2086 # one argument a line; args is a list
	set -- $(case_args) $args "$@"
	[ "$sign" = none ] && set -- --insecure "$@"
	swi "$DEV" "$@"
}

# expect_answer RC: the run exited RC and, when it refused, said msg.
expect_answer() {
	expect_rc "$1"
	if [ "$1" -ne 0 ] && [ -n "$msg" ]; then
		grep "^swinstall: " "$CASE/err" | grep -Eq -- "$msg" ||
			fail "the error does not match /$msg/: $(head -c 600 "$CASE/err")"
	fi
}

# check_state DIR CHECKS: the case's checks against a device_state result
# (test/corpus/README.md lists them; '~' in an env value stands for a blank).
check_state() {
	d=$1
	for c in $2; do
		case "$c" in
		env:*) kv=$(printf %s "${c#env:}" | tr '~' ' '); grep -qx -- "$kv" "$d/env" || fail "env: want $kv; have $(tr '\n' ' ' <"$d/env")" ;;
		noenv:*) ! grep -q "^${c#noenv:}=" "$d/env" || fail "env: ${c#noenv:} is set" ;;
		file:*) kv=${c#file:}
			cmp -s "$d/rootfs/${kv%%=*}" "$IMG/w/${kv#*=}" || fail "rootfs/${kv%%=*} does not hold ${kv#*=}" ;;
		nofile:*) [ ! -e "$d/rootfs/${c#nofile:}" ] || fail "rootfs/${c#nofile:} exists" ;;
		*=orig) t=${c%=orig}.img
			cmp -s "$d/$t" "$REF/$t" || fail "$t was written" ;;
		*=*) t=${c%%=*} f=${c#*=} off=0
			case "$t" in *@*) off=$(size_bytes "${t#*@}") t=${t%@*} ;; esac
			expect_bytes "$d/$t.img" "$off" "$IMG/w/$f" ;;
		*) fail "unknown check '$c'" ;;
		esac
	done
}

# size_bytes 8K|1M|0x4F000|1024
size_bytes() {
	case "$1" in
	*K) echo $((${1%K} * 1024)) ;;
	*M) echo $((${1%M} * 1048576)) ;;
	*) echo $(($1)) ;;
	esac
}

# ------------------------------------------------------------------ steps

do_build() {
	load_case "$1"
	rm -rf "$IMG" "$DEV.pristine" && mkdir -p "$IMG/w" "$(dirname "$DEV")"
	fresh_device
	[ -n "$aes" ] && echo "$(aes_key) $AES_IV" >"$IMG/aes.key"
	for f in "$C"/*; do
		case "$(basename "$f")" in case | sw-description | sw-description.in | post-image.sh) ;;
		*) cp "$f" "$IMG/w/" ;;
		esac
	done
	make_artifacts "$IMG/w" || fail "artifacts could not be made"
	"build_$builder" "$IMG/w" || fail "$builder failed"
	[ -s "$IMG/u.swu" ] || fail "no image"
	# an artifact changed after it was hashed and signed
	for m in $tamper; do flip_data "$IMG/u.swu" "$m" || fail "no member $m to tamper with"; done
	[ "$(cpio -it <"$IMG/u.swu" 2>/dev/null | head -n1)" = sw-description ] ||
		fail "sw-description is not the first member"
	touch "$IMG/built"
}

need_image() {
	load_case "$1"
	[ -f "$IMG/built" ] || fail "the image was not built"
}

do_info() {
	need_image "$1"
	: >empty.conf
	"$SWINSTALL" -f empty.conf info "$IMG/u.swu" >"$CASE/out" 2>"$CASE/err"
	SWI_RC=$?
	expect_answer "$info"
	[ "$info" -ne 0 ] && return 0
	# the version as the image's own sw-description states it
	v=$(cpio -i --quiet --to-stdout sw-description <"$IMG/u.swu" |
		sed -n 's/.*"\{0,1\}version"\{0,1\}[[:space:]]*[=:][[:space:]]*"\([^"]*\)".*/\1/p' | head -n1)
	if [ -n "$v" ]; then
		grep -qF -- "$v" "$CASE/out" || fail "info does not show the version $v: $(head -c 400 "$CASE/out")"
	fi
	# every member is shown: as an entry's file, or as an unused member
	for m in $(cpio -it --quiet <"$IMG/u.swu"); do
		case "$m" in sw-description | sw-description.sig) continue ;; esac
		grep -qF -- "$m" "$CASE/out" || fail "info does not show the member $m: $(head -c 600 "$CASE/out")"
	done
	"$SWINSTALL" -f empty.conf info --json "$IMG/u.swu" >json.out 2>"$CASE/err" ||
		fail "info --json failed: $(head -c 400 "$CASE/err")"
	"$PYTHON" -c 'import json, sys
doc = json.load(open(sys.argv[1]))
def strings(o):
    if isinstance(o, dict):
        for k, x in o.items():
            yield k
            yield from strings(x)
    elif isinstance(o, list):
        for x in o:
            yield from strings(x)
    else:
        yield str(o)
sys.exit(0 if sys.argv[2] in set(strings(doc)) | {""} else 1)' json.out "$v" ||
		fail "info --json does not parse or lacks the version $v: $(head -c 400 json.out)"
}

do_check() {
	need_image "$1"
	fresh_device
	run_swi -c -i "$IMG/u.swu"
	expect_answer "$check"
	expect_untouched
}

do_dryrun() {
	need_image "$1"
	fresh_device
	run_swi -n -i "$IMG/u.swu"
	expect_answer "$dryrun"
	if [ -n "$warn" ]; then
		grep -Eq -- "$warn" "$CASE/err" || fail "-n does not warn /$warn/: $(head -c 400 "$CASE/err")"
	fi
	expect_untouched
}

do_install() {
	need_image "$1"
	fresh_device
	run_swi -i "$IMG/u.swu"
	expect_answer "$install"
	device_state "$DEV" "$CASE/mine"
	if [ "$install" -ne 0 ]; then
		expect_safe_refusal
	fi
	check_state "$CASE/mine" "$expect"
}

# The exit class: 0 success, anything else a failure.
exit_class() {
	[ "$1" -eq 0 ] && echo success || echo failure
}

do_oracle() {
	(do_build "$1") || fail "the image could not be built: $(cat "$T_REASON")"
	need_image "$1"
	# shellcheck disable=SC2046 # one argument a line, none with blanks
	set -- $(case_args)
	[ -n "$hwrevision" ] || set -- -H myboard:1.0 "$@"
	# shellcheck disable=SC2034 # read by oracle_install in lib.sh
	case "$oracle_rc" in 0) ;; *) EXPECT_ORACLE_FAIL=1 ;; esac
	# shellcheck disable=SC2086 # extra arguments as a list
	oracle_install fresh_device "$IMG/u.swu" -k "$KEYS/ca.pem" -B uboot "$@" $oracle_args
	grep -v -i mtd "$CASE/swupdate.log" | grep -E "TRACE|ERROR" | cut -c1-160 | tail -n 12 | sed "s/^/  swupdate: /"
	device_state "$DEV" "$CASE/theirs"
	[ "$(exit_class "$ORACLE_RC")" = "$(exit_class "$oracle_rc")" ] ||
		fail "swupdate's exit $ORACLE_RC, expected $(exit_class "$oracle_rc"): $(grep ERROR "$CASE/swupdate.log" | head -n3)"
	fresh_device
	run_swi -i "$IMG/u.swu"
	device_state "$DEV" "$CASE/mine"
	if [ "$oracle" = same ]; then
		[ "$(exit_class "$ORACLE_RC")" = "$(exit_class "$SWI_RC")" ] ||
			fail "exit classes differ: swupdate $ORACLE_RC, swinstall $SWI_RC"
		if [ "$SWI_RC" -eq 0 ]; then
			# variables only swinstall keeps, named by the case
			for v in $oracle_ignore_env; do
				sed -i "/^$v=/d" "$CASE/mine/env"
			done
			expect_same_state "$CASE/theirs" "$CASE/mine"
		else
			check_state "$CASE/theirs" "slotA=orig env:rootpart=2"
		fi
	else
		# the documented difference: swupdate's result as described
		echo "# difference: $why"
		check_state "$CASE/theirs" "$oracle_expect"
		expect_answer "$install"
	fi
	check_state "$CASE/mine" "$expect"
}

# ------------------------------------------------------------------ the run

# The simulated device as make_device leaves it, to compare targets with.
REF=$TMP/ref
make_device "$REF" >/dev/null
make_boot0 "$REF"

corpus_cases() {
	echo "${CORPUS_CASES:-$(cd "$CORPUS" && for d in */; do [ -f "$d/case" ] && echo "${d%/}"; done)}"
}

# corpus_local: every case built and answered by swinstall alone.
corpus_local() {
	cases=$(corpus_cases)
	for n in $cases; do
		load_case "$n"
		[ -f "$C/case" ] || { run_case "$n: no such case" false; continue; }
		echo "# $n: $title"
		step "$n" build do_build
		step "$n" info do_info info
		step "$n" check do_check
		if [ -n "$warn" ]; then
			step "$n" "dry run" do_dryrun buildhost
		else
			step "$n" "dry run" do_dryrun
		fi
		[ "$install" = skip ] || step "$n" install do_install
	done
	echo "# corpus: $(echo "$cases" | wc -w) cases"
	t_done
}

# corpus_swupdate: the cases that name an oracle= installed by both (each
# builds its image first). Skips all when swupdate cannot run here.
corpus_swupdate() {
	why=$(oracle_unusable) && t_skip_all "$why"
	oracle_begin "${ORACLE_LOCK_WAIT:-120}" ||
		t_skip_all "another run (a test or the bench) still holds $ORACLE_LOCK"
	# many runs: a failing one is tried more often before it is believed
	ORACLE_ATTEMPTS=5
	compared=0
	for n in $(corpus_cases); do
		load_case "$n"
		[ -f "$C/case" ] || { run_case "$n: no such case" false; continue; }
		[ "$oracle" = no ] && continue
		step "$n" "swupdate (${oracle})" do_oracle && compared=$((compared + 1))
	done
	echo "# corpus: $compared images compared with swupdate"
	t_done
}
