#!/usr/bin/env bash
# Prepares what scripts/gpu-check.sh needs to also run the GPU-tagged Java tests on a GPU machine
# that has no Java and no network: a jlinked Java runtime (from a JDK 17+, by default the Temurin 25
# JDK when installed), the JUnit console launcher, and the built classes and jars, all under
# .gpu-check/ (ignored by git; about 40 MiB; the call's whole tree must stay under 64 MiB). Run here after `mvn -DskipTests install`; then carry
# .gpu-check with the call (the device tool's carry option).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dest="$root/.gpu-check"
jdk="${DYEPACK_JLINK_JDK:-}"
if [[ -z "$jdk" ]]; then
  for candidate in /usr/lib/jvm/temurin-25-jdk-amd64 /usr/lib/jvm/java-17-openjdk-amd64; do
    [[ -x "$candidate/bin/jlink" ]] && { jdk="$candidate"; break; }
  done
fi
[[ -x "$jdk/bin/jlink" ]] || { echo "no JDK with jlink found; set DYEPACK_JLINK_JDK" >&2; exit 1; }
junit_version=1.14.1
junit="$HOME/.m2/repository/org/junit/platform/junit-platform-console-standalone/$junit_version/junit-platform-console-standalone-$junit_version.jar"
[[ -f "$junit" ]] || mvn -B -q dependency:get -Dartifact="org.junit.platform:junit-platform-console-standalone:$junit_version"

cd "$root"
engine=java-bindings/engine
[[ -d $engine/target/test-classes ]] || mvn -B -q -DskipTests -Dmaven.javadoc.skip=true install
mvn -B -q -pl $engine test-compile dependency:build-classpath -Dmdep.outputFile="$root/$engine/target/cp.txt" \
  -Dmdep.includeScope=runtime >/dev/null

rm -rf "$dest"
mkdir -p "$dest/classpath"
"$jdk/bin/jlink" --add-modules java.base,java.logging,java.management,java.xml,jdk.unsupported \
  --strip-debug --no-man-pages --no-header-files --compress zip-9 --output "$dest/jre"
command -v strip >/dev/null && strip --strip-unneeded "$dest/jre/lib/server/libjvm.so"
cp "$junit" "$dest/junit-console.jar"
cp -r $engine/target/classes "$dest/classpath/classes"
cp -r $engine/target/test-classes "$dest/test-classes"
# Runtime jars only: the console launcher brings its own JUnit.
tr ':' '\n' <$engine/target/cp.txt | grep -v -e '/org/junit/' -e '/org/opentest4j/' -e '/org/apiguardian/' -e '/net/jqwik/' \
  | while read -r jar; do [[ -n "$jar" ]] && cp "$jar" "$dest/classpath/"; done
# The JavaCPP CUDA presets integration (java-bindings/cuda-presets): its classes and GPU tests, and the
# presets' Java and JNI jars (about 6 MiB; the CUDA 13 runtime they link comes from the machine's toolkit,
# which gpu-check.sh puts on the library path). ND4J's CUDA backend (600 MB of natives, CUDA 11.6) does
# not fit in a call: docs/integrations.md says how to run its tests.
presets=java-bindings/cuda-presets
mvn -B -q -pl $presets -am -DskipTests -Dmaven.javadoc.skip=true test-compile dependency:build-classpath \
  -Dmdep.outputFile="$root/$presets/target/cp.txt" -Dmdep.includeScope=test >/dev/null
cp -r $presets/target/classes "$dest/classpath/cuda-presets-classes"
cp -r $presets/target/test-classes/. "$dest/test-classes/"
tr ':' '\n' <$presets/target/cp.txt | grep '/org/bytedeco/cuda/' \
  | while read -r jar; do [[ -n "$jar" ]] && cp "$jar" "$dest/classpath/"; done
# Answer marking on device memory (java-bindings/mark): its classes, the jars it needs besides the engine,
# and only its GPU test (the module's other tests need Java modules this runtime leaves out).
mark=java-bindings/mark
mvn -B -q -pl $mark -am -DskipTests -Dmaven.javadoc.skip=true test-compile dependency:build-classpath \
  -Dmdep.outputFile="$root/$mark/target/cp.txt" -Dmdep.includeScope=runtime >/dev/null
cp -r $mark/target/classes "$dest/classpath/mark-classes"
mkdir -p "$dest/test-classes/dev/dyepack/mark"
cp $mark/target/test-classes/dev/dyepack/mark/{GpuAnswerMarkerTest,RandomAnswers}*.class "$dest/test-classes/dev/dyepack/mark/"
# In the reactor a module is its classes folder, elsewhere its jar; the engine is already there.
tr ':' '\n' <$mark/target/cp.txt | grep -v -e '/org/junit/' -e '/org/opentest4j/' -e '/org/apiguardian/' \
  -e '/dyepack-engine/' -e '/java-bindings/engine/' -e '/org/bytedeco/' | while read -r entry; do
  if [[ -d "$entry" ]]; then
    cp -r "$entry" "$dest/classpath/$(basename "$(dirname "$(dirname "$entry")")")-classes"
  elif [[ -n "$entry" ]]; then
    cp "$entry" "$dest/classpath/"
  fi
done
# The class path the check script passes: the classes folder plus every jar.
(cd "$dest/classpath" && ls)
du -sh "$dest"
