#!/bin/bash
# demo: message queues, POSIX and System V.
source "$(dirname "$0")/lib.sh"
IPCBOX=${IPCBOX:-ipcbox}
d=${DEMO_DIR:-$(mktemp -d)}
q=ipcbox-demo-$$
: >"$d/keyfile"
cleanup() {
	"$IPCBOX" mq-rm "$q" "sysv:$d/keyfile:7" 2>/dev/null
}
trap cleanup EXIT

say "A message queue keeps whole messages in the kernel. A POSIX queue has room for N messages of at most SIZE bytes:"
show "$IPCBOX" mq-create "$q" --max-messages 4 --message-size 64
say "Send three lines as three messages, one urgent. The receiver gets the highest priority first:"
printf 'first\nsecond\n' | "$IPCBOX" mq-send "$q" -l
show "$IPCBOX" mq-send "$q" --priority 9 urgent
show "$IPCBOX" mq-info "$q"
show "$IPCBOX" mq-recv "$q" -c 3 --json
say "An empty queue: a receiver waits, and gives up with exit 124 at its deadline:"
show "$IPCBOX" mq-recv "$q" -t 200ms 2>&1
echo "exit status $?"

say "A System V queue is found by a key, here ftok(file, 7) as Python's sysv_ipc computes it. Each message has a type:"
show "$IPCBOX" mq-create "sysv:$d/keyfile:7"
show "$IPCBOX" mq-send "sysv:$d/keyfile:7" --type 2 "reload config"
show "$IPCBOX" mq-send "sysv:$d/keyfile:7" --type 5 "$(printf 'two\nlines')"
say "Look inside without taking anything (MSG_COPY), as you would with a queue that ipcs -q shows filling up:"
show "$IPCBOX" mq-peek "sysv:$d/keyfile:7"
show "$IPCBOX" mq-list
say "A receiver can pick a type; the rest stays queued:"
show "$IPCBOX" mq-recv "sysv:$d/keyfile:7" --type 5 -c 1 --raw
echo
show "$IPCBOX" mq-info "sysv:$d/keyfile:7"
say "mq-rm removes queues of both kinds:"
show "$IPCBOX" mq-rm "$q" "sysv:$d/keyfile:7"
