#!/usr/bin/env bash
# Checks the launcher's class-data-sharing choice (docs/design.md): the archive of the jar that runs is
# used, and an archive of another build never reaches the JVM, which would refuse it silently and then
# share no classes at all, not even the JDK's own. Needs a built jar (./dyepack builds it). CI runs it.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
jar="$root/cli/target/dyepack.jar"
jsa="$root/cli/target/dyepack.jsa"
DYEPACK_NO_CDS=1 "$root/dyepack" --version >/dev/null   # builds the jar if needed
# Hold the writers' lock for the whole check: it waits for an archive writer that an earlier run started in the
# background, and keeps the launcher from starting one (it only tries the lock) while the archive is altered.
exec 9>"$jsa.lock"
flock 9
# Where a class came from, for one run of the launcher (no background archive writer started).
source_of() {
  DYEPACK_NO_CDS=1 DYEPACK_JAVA_OPTS="-Xlog:class+load=info" "$root/dyepack" --version \
    | awk -v c="$1" '$2 == c && !found { found = 1; $1 = $2 = ""; sub(/^ +/, ""); print }'
}
fail() { echo "launcher-check: $*" >&2; exit 1; }

"$root/scripts/cds-archive.sh" "$jar" "$jsa" >/dev/null
[[ ! "$jsa" -nt "$jar" && ! "$jsa" -ot "$jar" ]] || fail "the archive does not bear the jar's modification time"
[[ "$(source_of dev.dyepack.cli.Main)" == "source: shared objects file" ]] \
  || fail "the archive of this jar was not used: dev.dyepack.cli.Main $(source_of dev.dyepack.cli.Main)"

# The same archive a second newer than the jar, as one written from a jar rebuilt meanwhile is: the
# launcher must not pass it, so the JDK's own archive still serves java.lang.Object.
cp -p "$jsa" "$jsa.check"
trap 'mv -f "$jsa.check" "$jsa"' EXIT
touch -d "@$(( $(stat -c %Y "$jar") + 1 ))" "$jsa"
[[ "$(source_of java.lang.Object)" == "source: shared objects file" ]] \
  || fail "with an archive of another build the JVM shared no classes: java.lang.Object $(source_of java.lang.Object)"
[[ "$(source_of dev.dyepack.cli.Main)" != "source: shared objects file" ]] \
  || fail "an archive of another build was used"
echo "launcher-check: ok (the jar's archive used; another build's never passed)"
