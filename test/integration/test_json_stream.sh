#!/bin/sh
# swinstall --json for an install, -c and -n: every line of stdout is one
# JSON object (progress, log, result), stderr stays empty, and exactly one
# result line ends the stream with the exit code and its class.
# Usage: SWINSTALL=build/swinstall sh test/integration/test_json_stream.sh
. "$(dirname "$0")/lib.sh"
t_init

command -v python3 >/dev/null 2>&1 || t_skip_all "python3 is needed to read the JSON lines"

# The member name of the escaping case: a newline, a quote, a control
# character (0x01) and a backslash.
ODD_NAME=$(printf 'odd\n"name\001\\.bin')
ODD_JSON='odd\n\"name\u0001\\.bin'

# A slotted device: slot A runs (kernel command line), updates go to B.
slotted_device() {
	make_device "$1" || return 1
	echo "quiet swinstall.slot=A" >"$1/cmdline"
	: >"$1/mountinfo"
	slot_settings "$1" >>"$1/swinstall.conf"
	snapshot "$1"
}

# two_member_image OUT [APP-NAME APP-NAME-AS-JSON]: a signed image for
# $DEV with rootfs.img (raw, slot B) and an app file (rawfile, $DEV/app.bin)
# in stable,copy2; members archived with cpio --null so that any name fits.
two_member_image() {
	app=${2:-app.bin}
	app_json=${3:-app.bin}
	w="$CASE/w"
	mkdir -p "$w"
	mk_data "$w/rootfs.img" 300K "rootfs-$T_NUM"
	# sha would see an odd name escaped in openssl's output: hash a plain copy
	mk_data "$w/app.data" 100K "app-$T_NUM"
	cp "$w/app.data" "$w/$app"
	cat >"$w/sw-description" <<EOF2
{ "software": { "version": "2.0.0", "hardware-compatibility": [ "1.0" ],
  "stable": { "copy2": {
    "images": [ { "filename": "rootfs.img", "type": "raw", "device": "$DEV/slotB.img",
                  "sha256": "$(sha "$w/rootfs.img")" } ],
    "files": [ { "filename": "$app_json", "type": "rawfile", "path": "$DEV/app.bin",
                 "sha256": "$(sha "$w/app.data")" } ],
    "bootenv": [ { "name": "rootpart", "value": "3" } ] } } } }
EOF2
	sign_cms "$w" || return 1
	case "$1" in /*) out=$1 ;; *) out="$CASE/$1" ;; esac
	(cd "$w" && printf 'sw-description\0sw-description.sig\0rootfs.img\0%s\0' "$app" |
		cpio -o -H crc --null --quiet >"$out")
}

# expect_stream EXIT CLASS [CHECK...]: the last swi run's stdout is a JSON
# event stream ending in one result with EXIT and CLASS, and stderr is
# empty. Progress events come in phase order, their percent never goes
# back, and only a last COMMITTING event may be at 100. CHECKs:
# committed=true|false, slot=NAME|null, error~TEXT (the error holds TEXT),
# members=N (progress events for N members, each from 0 to its total),
# phases=P,P (the phases reported, in order; empty: none), finished (the
# last progress event is COMMITTING at 100), ends=MEMBER:LO-HI (MEMBER's
# last event is at LO..HI percent), logs (at least one log event),
# planned=N, installed=N.
expect_stream() {
	[ -s "$CASE/err" ] && fail "stderr is not empty: $(head -c 300 "$CASE/err")"
	python3 - "$CASE/out" "$@" >"$CASE/stream-check" 2>&1 <<'PY'
import json, sys

path, want_exit, want_class, *checks = sys.argv[1:]
lines = open(path, 'rb').read().split(b'\n')
if lines[-1] != b'':
    sys.exit('stdout does not end with a newline')
events = []
for n, raw in enumerate(lines[:-1], 1):
    try:
        ev = json.loads(raw.decode('utf-8'))
    except ValueError as e:
        sys.exit('line %d is not JSON (%s): %r' % (n, e, raw[:200]))
    if not isinstance(ev, dict) or ev.get('event') not in ('progress', 'log', 'result'):
        sys.exit('line %d is no event: %r' % (n, raw[:200]))
    events.append(ev)
results = [e for e in events if e['event'] == 'result']
if len(results) != 1 or events[-1]['event'] != 'result':
    sys.exit('expected exactly one result, the last line; got %d' % len(results))
r = results[0]
keys = {'event', 'status', 'exit', 'class', 'error', 'committed', 'slot', 'staged', 'version',
        'planned', 'installed', 'skipped'}
if set(r) != keys:
    sys.exit('result keys %s' % sorted(r))
if r['exit'] != int(want_exit) or r['class'] != want_class:
    sys.exit('result exit %r class %r (error %r), expected %s %s'
             % (r['exit'], r['class'], r['error'], want_exit, want_class))
if r['status'] != ('ok' if r['exit'] == 0 else 'failed'):
    sys.exit('status %r does not match exit %r' % (r['status'], r['exit']))
if (r['error'] is None) != (r['exit'] == 0):
    sys.exit('error %r with exit %r' % (r['error'], r['exit']))
for e in events:
    if e['event'] == 'log':
        if set(e) != {'event', 'level', 'message'} or \
           e['level'] not in ('info', 'warning', 'error', 'debug') or not isinstance(e['message'], str):
            sys.exit('bad log event %r' % e)
ORDER = ['verifying', 'installing', 'committing']
progress = {}
phases = []
steps = [e for e in events if e['event'] == 'progress']
for n, e in enumerate(steps):
    if set(e) != {'event', 'phase', 'member', 'done', 'total', 'index', 'count', 'percent'} \
       or e['phase'] not in ORDER or not 0 <= e['percent'] <= 100:
        sys.exit('bad progress event %r' % e)
    if n and (ORDER.index(e['phase']) < ORDER.index(steps[n - 1]['phase'])
              or e['percent'] < steps[n - 1]['percent']):
        sys.exit('progress goes back: %r after %r' % (e, steps[n - 1]))
    if e['percent'] == 100 and (n != len(steps) - 1 or e['phase'] != 'committing'):
        sys.exit('100 percent before the end: %r' % e)
    if not phases or phases[-1] != e['phase']:
        phases.append(e['phase'])
    if e['member'] is None:
        # the start of a phase
        if e['done'] or e['total'] or (e['phase'] == 'verifying' and (e['index'] or e['count'])):
            sys.exit('bad phase event %r' % e)
        continue
    if e['phase'] != 'installing' or not 1 <= e['index'] <= e['count']:
        sys.exit('bad progress numbers %r' % e)
    seen = progress.setdefault(e['member'], [])
    if seen and e['done'] < seen[-1]['done']:
        sys.exit('progress of %r goes back' % e['member'])
    seen.append(e)
for member, seen in progress.items():
    if seen[0]['done'] != 0 or seen[-1]['done'] != seen[-1]['total']:
        sys.exit('progress of %r runs %r..%r of %r' % (member, seen[0]['done'], seen[-1]['done'], seen[-1]['total']))
for check in checks:
    if check == 'logs':
        ok = any(e['event'] == 'log' for e in events)
    elif check.startswith('members='):
        ok = len(progress) == int(check[8:])
    elif check.startswith('member='):
        ok = check[7:] in progress
    elif check.startswith('phases='):
        ok = phases == [p for p in check[7:].split(',') if p]
    elif check == 'finished':
        ok = steps and steps[-1]['phase'] == 'committing' and steps[-1]['percent'] == 100
    elif check.startswith('ends='):
        member, bounds = check[5:].rsplit(':', 1)
        low, high = map(int, bounds.split('-'))
        ok = member in progress and low <= progress[member][-1]['percent'] <= high
    elif check.startswith('error~'):
        ok = r['error'] is not None and check[6:] in r['error']
    elif check.startswith('committed='):
        ok = r['committed'] is (check[10:] == 'true')
    elif check.startswith('slot='):
        ok = r['slot'] == (None if check[5:] == 'null' else check[5:])
    else:
        name, value = check.split('=')
        ok = r[name] == int(value)
    if not ok:
        sys.exit('check %r failed; result %r; members %r; phases %r; last progress %r'
                 % (check, r, sorted(progress), phases, steps[-1] if steps else None))
print('stream ok: %d events, members %r, phases %r' % (len(events), sorted(progress), phases))
PY
	py_rc=$?
	cat "$CASE/stream-check"
	[ "$py_rc" -eq 0 ] || fail "$(cat "$CASE/stream-check")"
}

case_good_install() {
	DEV=$CASE/dev
	slotted_device "$DEV"
	two_member_image u.swu
	swi "$DEV" --json -v -i u.swu
	expect_stream 0 installed committed=true slot=B members=2 member=rootfs.img member=app.bin \
		logs planned=2 installed=2 phases=verifying,installing,committing finished
	expect_rc 0
	expect_bytes "$DEV/slotB.img" 0 w/rootfs.img
	expect_committed "$DEV" 3
}

# Without -v an install logs nothing but still reports progress and result;
# the text progress bar and the final sentence are off.
case_quiet_levels() {
	DEV=$CASE/dev
	slotted_device "$DEV"
	two_member_image u.swu
	swi "$DEV" -i u.swu --json
	expect_stream 0 installed members=2 finished
	expect_rc 0
	grep -q '"event":"log"' "$CASE/out" && fail "a log event without -v"
	grep -q 'update installed' "$CASE/out" && fail "the text result is on stdout"
	return 0
}

case_check() {
	DEV=$CASE/dev
	slotted_device "$DEV"
	two_member_image u.swu
	swi "$DEV" --json -c u.swu
	expect_stream 0 verified committed=false members=0 phases=verifying
	expect_rc 0
	expect_device_untouched "$DEV"
}

case_dry_run() {
	DEV=$CASE/dev
	slotted_device "$DEV"
	two_member_image u.swu
	swi "$DEV" --json -n u.swu
	expect_stream 0 dry-run committed=false members=2 planned=2 installed=2 \
		phases=verifying,installing,committing finished
	expect_rc 0
	expect_device_untouched "$DEV"
}

# A byte of app.bin flipped: its sha256 fails, the error names it.
case_tampered() {
	DEV=$CASE/dev
	slotted_device "$DEV"
	two_member_image u.swu
	flip_data u.swu app.bin || fail "flip_data"
	swi "$DEV" --json -i u.swu
	expect_stream 3 untrusted committed=false error~app.bin phases=verifying,installing
	expect_rc 3
	expect_safe_failure "$DEV"
}

case_incompatible() {
	DEV=$CASE/dev
	slotted_device "$DEV"
	echo "myboard 2.0" >"$DEV/hwrevision"
	two_member_image u.swu
	swi "$DEV" --json -i u.swu
	expect_stream 4 incompatible committed=false members=0 phases=verifying
	expect_rc 4
	expect_device_untouched "$DEV"
}

# Another process holds the lock file (flock, as an install does).
case_busy() {
	DEV=$CASE/dev
	slotted_device "$DEV"
	two_member_image u.swu
	python3 -c 'import fcntl, sys, time
f = open(sys.argv[1], "a")
fcntl.flock(f, fcntl.LOCK_EX)
open(sys.argv[2], "w").close()
time.sleep(60)' "$DEV/swinstall.lock" "$CASE/held" &
	holder=$!
	n=0
	while [ ! -e "$CASE/held" ] && [ $n -lt 100 ]; do sleep 0.1; n=$((n + 1)); done
	swi "$DEV" --json -i u.swu
	kill "$holder"
	wait "$holder" 2>/dev/null
	expect_stream 5 busy committed=false phases=
	expect_rc 5
	expect_device_untouched "$DEV"
}

# Usage errors give a result line too, also when --json comes after the
# mistake; a configuration that cannot be read as well.
case_usage() {
	DEV=$CASE/dev
	slotted_device "$DEV"
	swi "$DEV" --json --bogus -i u.swu
	expect_stream 2 usage error~--bogus slot=null planned=0 phases=
	expect_rc 2
	swi "$DEV" --bogus --json -i u.swu
	expect_stream 2 usage error~--bogus
	expect_rc 2
	swi "$DEV" --json install
	expect_stream 2 usage "error~install needs exactly one image"
	expect_rc 2
	swi "$DEV" --json -i
	expect_stream 2 usage "error~-i needs a value"
	expect_rc 2
	swi "$DEV" --json mark-good
	expect_stream 2 usage "error~--json goes with install, verify, status, info, is-installed or scan"
	expect_rc 2
	two_member_image u.swu
	"$SWINSTALL" -f "$CASE/missing.conf" --json -i u.swu >"$CASE/out" 2>"$CASE/err"
	SWI_RC=$?
	expect_stream 2 usage error~missing.conf
	expect_rc 2
}

# A member name with a newline, a quote, a control character and a
# backslash: escaped in the progress events, each line one object.
case_odd_member_name() {
	DEV=$CASE/dev
	slotted_device "$DEV"
	two_member_image u.swu "$ODD_NAME" "$ODD_JSON"
	swi "$DEV" --json -i u.swu
	expect_stream 0 installed members=2 "member=$ODD_NAME"
	expect_rc 0
	grep -qF '"member":"odd\n\"name\u0001\\.bin"' "$CASE/out" ||
		fail "the member name is not escaped as expected"
	expect_bytes "$DEV/app.bin" 0 "w/$ODD_NAME"
}

# A Lua script of the image that writes to standard output itself (print,
# io.write): its text goes to stderr, stdout stays JSON only.
case_lua_print() {
	DEV=$CASE/dev
	new_case
	w="$CASE/w"
	cat >"$w/setup.lua" <<'EOF2'
function preinst() print("hello from lua") io.write("raw \"write\"\n") return true end
EOF2
	cat >"$w/sw-description" <<EOF2
software =
{
	version = "2.0.0";
	hardware-compatibility = [ "1.0" ];
	images = ( { filename = "rootfs.img"; type = "raw"; device = "$DEV/slotB.img";
		     sha256 = "$(sha "$w/rootfs.img")"; } );
	scripts = ( { filename = "setup.lua"; type = "lua"; sha256 = "$(sha "$w/setup.lua")"; } );
	bootenv = ( { name = "rootpart"; value = "3"; } );
}
EOF2
	mk_swu u.swu cms newc "$w" setup.lua rootfs.img || fail "mk_swu"
	swi "$DEV" --json -i u.swu
	grep -qx "hello from lua" "$CASE/err" || fail "Lua's print is not on stderr"
	grep -qx 'raw "write"' "$CASE/err" || fail "Lua's io.write is not on stderr"
	: >"$CASE/err"
	expect_stream 0 installed committed=true member=rootfs.img
	expect_rc 0
}

# The whole install's percent: by bytes of an image file (rootfs.img is
# three quarters of it), by artifacts of an image piped in (one of two).
case_percent_by_bytes_or_artifacts() {
	DEV=$CASE/dev
	slotted_device "$DEV"
	two_member_image u.swu
	swi "$DEV" --json -i u.swu
	expect_stream 0 installed finished ends=rootfs.img:70-80 ends=app.bin:99-99
	expect_rc 0
	slotted_device "$DEV"
	swi_pipe "$CASE/u.swu" "$DEV" --json -i -
	expect_stream 0 installed finished ends=rootfs.img:50-50 ends=app.bin:99-99
	expect_rc 0
}

run_case "--json install: progress of each member to its total, logs, result installed" case_good_install
run_case "--json install: percent by bytes of a file, by artifacts of a pipe" \
	case_percent_by_bytes_or_artifacts
run_case "--json install without -v: no log events, no text on stdout" case_quiet_levels
run_case "--json -c: one result, verified, nothing written" case_check
run_case "--json -n: progress and result dry-run, nothing written" case_dry_run
run_case "--json, tampered member: exit 3 untrusted, the error names it" case_tampered
run_case "--json, image for another revision: exit 4 incompatible" case_incompatible
run_case "--json, lock held: exit 5 busy" case_busy
run_case "--json, usage and configuration errors: exit 2 usage, result on stdout only" case_usage
run_case "--json: Lua's print and io.write go to stderr, stdout stays JSON" case_lua_print
run_case "--json: a member name with newline, quote and control character is escaped" case_odd_member_name
t_done
