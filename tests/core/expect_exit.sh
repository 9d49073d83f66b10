#!/bin/sh
# expect_exit.sh STATUS TEXT COMMAND...: runs COMMAND, succeeds only if it
# exits with STATUS and its combined output contains TEXT.
want=$1; text=$2; shift 2
out=$("$@" 2>&1); rc=$?
printf '%s\n' "$out" | tail -n 20
if [ "$rc" != "$want" ]; then echo "expect_exit: exit status $rc, wanted $want"; exit 1; fi
case "$out" in *"$text"*) exit 0;; esac
echo "expect_exit: output does not contain: $text"; exit 1
