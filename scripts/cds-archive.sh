#!/usr/bin/env bash
# Writes a class-data-sharing archive for the CLI jar: the classes that `apply` and `poison` load,
# parsed and laid out once, so each later JVM maps them instead of loading them (the launcher uses it;
# docs/benchmarks.md measures it). Usage: scripts/cds-archive.sh JAR ARCHIVE
#
# The archive appears under its final name whole or not at all (written beside it, then renamed), so
# launchers running at the same time never see half of one. It records the jar's size and time, and once
# the jar is rebuilt the JVM refuses the archive, silently, and then runs with no shared classes at all,
# not even the JDK's own (slower than no archive): so the archive takes the jar's modification time, the
# launcher passes it only while the two times are equal, and an archive of a jar rebuilt while it was being
# written is dropped. Any failure here leaves no archive and changes nothing else; runs go on without one.
set -euo pipefail
jar="$(realpath "$1")"
archive="$(realpath -m "$2")"
built="$(stat -c '%s %.9Y' "$jar")"
work="$(mktemp -d "${TMPDIR:-/tmp}/dyepack-cds.XXXXXX")"
trap 'rm -rf "$work"' EXIT
# A JVM that fails writes its error report into the current folder: keep it in the scratch folder.
cd "$work"
# A throwaway key for the training runs (never the owner's): poison needs one.
head -c 32 /dev/urandom > "$work/key"
java -XX:DumpLoadedClassList="$work/apply.lst" -jar "$jar" apply --trigger sparse:n=24 --key-file "$work/key" \
    --out "$work/a.npy" -q
java -XX:DumpLoadedClassList="$work/poison.lst" -jar "$jar" poison --target 0 --key-file "$work/key" \
    --out "$work/p" -q
java -XX:DumpLoadedClassList="$work/random.lst" -jar "$jar" poison --target 0 --select random \
    --key-file "$work/key" --out "$work/r" -q
# An image folder (100 copies of one small PNG in two classes; 1% poisons one of them): the classes its jobs load
# besides the array files' (ImageIO's probe, AWT's colour models, the folder's copy and PNG coder), which came from
# the runtime image one by one, about 150 of them (docs/benchmarks.md).
java -jar "$jar" preview --count 1 --key-file "$work/key" --out "$work/one.png" -q
for c in a b; do
  mkdir -p "$work/folder/$c"
  for i in $(seq -w 1 50); do cp "$work/one.png" "$work/folder/$c/$i.png"; done
done
java -XX:DumpLoadedClassList="$work/folder.lst" -jar "$jar" poison --data "$work/folder" --target 0 \
    --select random --key-file "$work/key" --out "$work/f" -q
# Java 17 crashes while dumping the lambda proxy classes a list names (in
# SystemDictionaryShared::adjust_lambda_proxy_class_dictionary); they are left out and load as usual.
cat "$work/apply.lst" "$work/poison.lst" "$work/random.lst" "$work/folder.lst" | grep -v '^@lambda-proxy' \
    | awk '!seen[$0]++' > "$work/classes.lst"
java -Xshare:dump -XX:SharedClassListFile="$work/classes.lst" -XX:SharedArchiveFile="$work/dyepack.jsa" \
    -cp "$jar" > "$work/dump.log" 2>&1
# The dump names the jar as given; the launcher runs it under the same absolute path.
mv -f "$work/dyepack.jsa" "$archive.tmp.$$"
touch -r "$jar" "$archive.tmp.$$"
if [[ "$(stat -c '%s %.9Y' "$jar")" != "$built" ]]; then
  rm -f "$archive.tmp.$$"
  echo "cds-archive: $jar was rebuilt while its archive was written; none written" >&2
  exit 1
fi
mv -f "$archive.tmp.$$" "$archive"
