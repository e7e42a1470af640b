#!/bin/sh
# Installs Unleash Edge for `npm run bench`'s peer row: `cargo install unleash-edge --locked`
# (about 25 minutes of compiling on a 2-core host, once; at the lowest priority so other work on
# the host goes first). Never in CI. The bench finds the binary at $UNLEASH_EDGE_BIN, on the PATH
# or in ~/.cargo/bin, writes Edge's offline bootstrap from the benchmark environment itself
# (tools/bench/peers/unleash-edge/bootstrap.ts) and skips the row, saying why, without it.
set -eu
if [ -n "${CI:-}" ]; then
  echo "unleash-edge setup: not in CI (CI=$CI); the bench skips the Unleash Edge row" >&2
  exit 0
fi
CARGO="${CARGO:-$(command -v cargo || echo "$HOME/.cargo/bin/cargo")}"
if [ ! -x "$CARGO" ]; then
  echo "unleash-edge setup: cargo not found (install Rust from https://rustup.rs)" >&2
  exit 1
fi
if [ -x "$HOME/.cargo/bin/unleash-edge" ]; then
  echo "unleash-edge already installed: $HOME/.cargo/bin/unleash-edge"
  exit 0
fi
nice -n 19 "$CARGO" install unleash-edge --locked
echo "unleash-edge installed: $HOME/.cargo/bin/unleash-edge"
