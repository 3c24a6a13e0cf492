#!/bin/sh
# record.sh SPEC > SPEC.json: runs SPEC's commands on the real tools (as root) inside ct_*
# network namespaces, in a private mount namespace whose /run/netns is a fresh tmpfs (so the
# names cannot clash with anyone else's and `ip netns list` has tmpfs's newest-first order).
# The root namespace is never touched; every namespace is deleted at the end.
# Then: python3 gen.py SPEC.json ClassName "one-line description" > ../ClassName.swift
here=$(cd "$(dirname "$0")" && pwd)
exec unshare -m --propagation private sh -c 'mount -t tmpfs ct_netns /run/netns && python3 "$1" "$2"' sh "$here/record.py" "$1"
