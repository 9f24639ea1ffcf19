#!/usr/bin/env bash
# The embeddable library (include/xgossip/xgossip.h) in a real cluster:
# two xgossipd agents, n1 and n2, and the two example programs, with the
# same options (certificates, secret, timings) as the daemons:
# docs/examples/chat.c as n3, which runs the agent inside its own poll()
# loop, and docs/examples/watch.c as n4, which lets xgossip_run loop.
# Checked:
#
#   - n3 joins, its member callback sees n1 and n2, the daemons see n3,
#     and the library's member list has all three alive;
#   - a broadcast from n1 (xgossipctl broadcast) reaches the chat's
#     subscription, once;
#   - a line broadcast by the chat reaches `xgossipctl subscribe --count 1`
#     on n2;
#   - unicasts both ways over TLS: xgossipctl send n3 from n2 reaches the
#     chat's subscription, and the chat's /msg n1 is confirmed delivered;
#   - a tag set by the chat reaches the daemons;
#   - watch sees n1..n3 join, the chat sees watch join with its tag; on
#     SIGTERM (xgossip_stop from the handler) watch leaves gracefully and
#     exits 0, and the daemons and the chat see it leave;
#   - end of input: the chat leaves gracefully (n1 logs the leave), exits
#     0, and its log has no sanitizer report.
set -uo pipefail
: "${XG_TEST_TIMEOUT:=90}"
. "$(dirname "$0")/lib.sh"
xg_init "$@"

CHAT=$XG_BIN/examples/chat WATCH=$XG_BIN/examples/watch
for x in "$CHAT" "$WATCH"; do
	[ -x "$x" ] || xg_fail "$x is not built (make $x)"
done

xg_net_create 4
xg_start_node 1
xg_start_node 2
xg_wait_converged 20 2 1 2 || xg_fail "n1 and n2 did not converge"

d3=$(xg_dir 3)
OUT=$d3/chat.out
IN=$d3/chat.in

# out_wait FILE TIMEOUT ERE: until FILE has a matching line.
out_wait() {
	local deadline
	deadline=$(xg_deadline "$2")
	until grep -qE "$3" "$1" 2>/dev/null; do
		if xg_past "$deadline"; then
			echo "timed out after $2 s waiting for /$3/ in $1:" >&2
			sed 's/^/    | /' "$1" >&2
			return 1
		fi
		sleep "$XG_POLL"
	done
}
chat_wait() { out_wait "$OUT" "$@"; }

# chat_say LINE: one line on the chat's standard input.
chat_say() { printf '%s\n' "$1" >&3 || xg_fail "cannot write to the chat"; }

# The chat reads a FIFO that this shell holds open (read-write, so neither
# side blocks opening it); closing fd 3 is its end of input.
mkfifo "$IN" || xg_fail "mkfifo"
exec 3<>"$IN"

# embedded_opts i: the xgossipd options xg_start_node would give agent n<i>
# (certificates, secret, timings), for a program that embeds the agent.
embedded_opts() {
	local i=$1 d
	d=$(xg_dir "$i")
	local sec=(--insecure-dev)
	[ "$XG_TLS" = 1 ] && sec=(--tls-ca "$d/tls/ca.pem" --tls-cert "$d/tls/cert.pem"
		--tls-key "$d/tls/key.pem")
	EMB_OPTS=(--name "$(xg_name "$i")" --bind "$(xg_addr "$i")" --join "$(xg_addr 1)"
		--cluster "$XG_CLUSTER" --cluster-secret-file "$d/secret" "${sec[@]}"
		--state-dir "$d/state" --log-level "$XG_LOG_LEVEL"
		--probe-interval "$XG_PROBE_INTERVAL" --probe-timeout "$XG_PROBE_TIMEOUT"
		--gossip-interval "$XG_GOSSIP_INTERVAL" --suspicion-mult "$XG_SUSPICION_MULT"
		--pushpull-interval "$XG_PUSHPULL_INTERVAL" --leave-timeout "$XG_LEAVE_TIMEOUT"
		--xdp off)
}

# start_embedded i IN OUT cmd...: run cmd in n<i>'s namespace, standard
# input from IN, output to OUT, errors (the agent's log) to n<i>'s log.
# As xg_start_node does for agents: a waiter records the exit status in
# agent.rc, and the pid is the program's own (ip netns exec execs it), so
# the harness's cleanup kills and waits for it like any agent.
start_embedded() {
	local i=$1 in=$2 out=$3 d t; shift 3
	d=$(xg_dir "$i")
	echo "# $(date -u +%FT%T.%6NZ) harness: $*" >>"$(xg_log "$i")"
	XG_A_LOG=$(xg_log "$i") XG_A_PIDF=$d/agent.pid XG_A_IN=$in XG_A_OUT=$out bash -c '
		ip netns exec "$@" <"$XG_A_IN" >"$XG_A_OUT" 2>>"$XG_A_LOG" 3>&- &
		echo $! >"$XG_A_PIDF.tmp"; mv "$XG_A_PIDF.tmp" "$XG_A_PIDF"
		wait $!; echo $? >"${XG_A_PIDF%.pid}.rc.tmp"
		mv "${XG_A_PIDF%.pid}.rc.tmp" "${XG_A_PIDF%.pid}.rc"' \
		_ "$(xg_ns "$i")" "$@" 3>&- </dev/null >/dev/null 2>&1 &
	disown $! 2>/dev/null
	for ((t = 0; t < 200; t++)); do
		[ -s "$d/agent.pid" ] && break
		sleep 0.01
	done
	XG_PIDS[$i]=$(cat "$d/agent.pid" 2>/dev/null) || xg_fail "$1 did not start"
}

embedded_opts 3
start_embedded 3 "$IN" "$OUT" "$CHAT" --topic chat "${EMB_OPTS[@]}"
chat_wait 10 '^\* I am n3 \(id [0-9a-f]{16}\), topic chat$' || xg_fail "the chat did not start"
xg_say "chat started as n3 (pid ${XG_PIDS[3]})"

# --- membership --------------------------------------------------------------
chat_wait 20 '^\* n1 join ' || xg_fail "the chat's member callback never saw n1 join"
chat_wait 20 '^\* n2 join ' || xg_fail "the chat's member callback never saw n2 join"
xg_wait_log_all 20 "$(xg_ev join 3)" 1 2 || xg_fail "the daemons did not see n3 join"
xg_check_alive_count 3 1 2 || xg_fail "the daemons do not list 3 alive members"
chat_say "/members"
for n in n1 n2 n3; do
	chat_wait 10 "^\* member $n alive " || xg_fail "xgossip_members does not list $n alive"
done
xg_say "membership: the chat sees n1, n2 and itself; the daemons see n3"

# --- a broadcast from a daemon to the library --------------------------------
echo "hello from n1" | xg_ctl 1 broadcast chat >/dev/null || xg_fail "xgossipctl broadcast on n1"
chat_wait 10 '^<n1> hello from n1$' || xg_fail "n1's broadcast did not reach the chat"
# Exactly once, also after a few more gossip rounds.
sleep 1
c=$(grep -c '^<n1> hello from n1$' "$OUT")
[ "$c" = 1 ] || xg_fail "n1's broadcast was delivered $c times to the chat"
xg_say "broadcast n1 -> chat: delivered once"

# --- a broadcast from the library to a daemon --------------------------------
# subscribe prints nothing until the first message, so there is no sign
# that it is registered: the chat says a numbered line until one arrives.
sub=$XG_TMP/sub2.out
timeout 20 ip netns exec "$(xg_ns 2)" "$XG_BIN/xgossipctl" --socket "$(xg_sock 2)" \
	subscribe --count 1 chat >"$sub" 2>&1 3>&- &
subpid=$!
got=0
for try in 1 2 3 4 5 6; do
	sleep 0.5
	chat_say "hello from the library $try"
	deadline=$(xg_deadline 2)
	until [ -s "$sub" ] || xg_past "$deadline"; do sleep "$XG_POLL"; done
	if [ -s "$sub" ]; then got=1; break; fi
done
wait "$subpid"
rc=$?
[ $got = 1 ] || xg_fail "no line broadcast by the chat reached n2's subscriber"
[ $rc = 0 ] || xg_fail "xgossipctl subscribe --count 1 exited $rc: $(cat "$sub")"
grep -q "hello from the library" "$sub" || xg_fail "n2's subscriber printed: $(cat "$sub")"
grep -q "n3" "$sub" || xg_fail "n2's subscriber does not name n3 as the sender: $(cat "$sub")"
xg_say "broadcast chat -> n2: $(tail -n 1 "$sub" | tr -s " " | head -c 120)"

# --- unicasts ----------------------------------------------------------------
out=$(echo "psst from n2" | xg_ctl 2 send n3 chat 2>&1) || xg_fail "xgossipctl send n3 from n2: $out"
chat_wait 10 '^<n2> \(to you\) psst from n2$' || xg_fail "n2's unicast did not reach the chat"
chat_say "/msg n1 psst from n3"
chat_wait 15 '^\* sent to n1: delivered in [0-9.]+ ms$' || xg_fail "the chat's unicast to n1 was not confirmed"
xg_say "unicasts: n2 -> chat delivered, chat -> n1 confirmed"

# --- tags --------------------------------------------------------------------
xg_mark 1
chat_say "/tag role=chat"
xg_wait_log 1 "$(xg_ev update 3)" 10 || xg_fail "n1 did not see n3's tags change"
v=$(xg_ctl 1 members -o json | xg_json tag n3 role) || xg_fail "members on n1"
[ "$v" = chat ] || xg_fail "n1 sees n3's tag role='$v', expected 'chat'"
xg_say "tags: n1 sees role=chat on n3"

# --- the library running the loop: watch, stopped by a signal ----------------
WOUT=$(xg_dir 4)/watch.out
embedded_opts 4
start_embedded 4 /dev/null "$WOUT" "$WATCH" "${EMB_OPTS[@]}" --tag role=watch
out_wait "$WOUT" 10 '^\* I am n4 \(id [0-9a-f]{16}\)$' || xg_fail "watch did not start"
for n in n1 n2 n3; do
	out_wait "$WOUT" 20 "^\* $n join .* alive inc=[0-9]+( |\$)" ||
		xg_fail "watch's member callback never saw $n join"
done
chat_wait 20 '^\* n4 join 198\.18\.0\.14:[0-9]+ role=watch$' ||
	xg_fail "the chat did not see n4 join with its tag"
xg_mark 1 2
xg_kill 4 TERM
xg_wait_log_all 10 "$(xg_ev leave 4)" 1 2 || xg_fail "the daemons did not see n4 leave"
xg_wait_exit 4 10 || xg_fail "watch did not exit after leaving"
[ "$XG_EXIT_RC" = 0 ] || xg_fail "watch exited $XG_EXIT_RC"
grep -q '^\* leaving$' "$WOUT" || xg_fail "watch did not say it was leaving"
tail -n 1 "$WOUT" | grep -q '^\* left$' || xg_fail "watch's last line is not '* left'"
chat_wait 10 '^\* n4 leave ' || xg_fail "the chat did not see n4 leave"
xg_say "watch (xgossip_run): saw n1-n3 join; SIGTERM -> xgossip_stop, leave, exit 0"

# --- graceful leave at end of input ------------------------------------------
xg_mark 1 2
exec 3>&-
xg_wait_log_all 10 "$(xg_ev leave 3)" 1 2 || xg_fail "the daemons did not see n3 leave"
xg_wait_exit 3 10 || xg_fail "the chat did not exit after leaving"
[ "$XG_EXIT_RC" = 0 ] || xg_fail "the chat exited $XG_EXIT_RC"
tail -n 1 "$OUT" | grep -q '^\* left$' || xg_fail "the chat's last line is not '* left'"
xg_say "end of input: the chat left, the daemons saw it, exit status 0"
xg_done
