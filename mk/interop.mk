# mk/interop.mk - ipckit's raw mode against real tools that make test does not
# need: `make ci-extra-interop` installs Debian's socat if missing (CI is root).
ci-extra-interop: all
	@command -v socat >/dev/null || { apt-get update -qq && apt-get install -y -qq socat >/dev/null; }
	IPCK_BIN=$(B)/ipckit sh tests/interop/socat.sh

.PHONY: ci-extra-interop
