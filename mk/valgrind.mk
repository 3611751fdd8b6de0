# valgrind.mk - the CLI under valgrind (issue 9): ls, limits, --help, and a
# send/recv pair over unix:, each with --leak-check=full and
# --error-exitcode: 0 errors and 0 bytes definitely lost, or it fails.
# Installs valgrind when missing (CI machines have apt).

.PHONY: ci-extra-valgrind
ci-extra-valgrind: $(CLI)
	@command -v valgrind >/dev/null || { apt-get update -qq && apt-get install -y -qq valgrind >/dev/null; }
	@B=$(B) sh tests/valgrind/cli.sh
