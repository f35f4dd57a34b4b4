#!/usr/bin/env bash
# The JNI round trip under JMH (benchmarks/src/main/java/dev/dyepack/bench/JniRoundTrip.java): one
# native call that does nothing, a blend of one image, of a 256-image mini-batch and of 4,096 images (each
# batch beside a copy of its bytes), in nanoseconds per call. Builds what it needs
# (the CLI jar, the benchmarks module with JMH), then runs JMH with any extra arguments given
# (default: 3 warm-up and 5 measured iterations of 1 s, one fork).
# Usage: scripts/bench-jni.sh [JMH options]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
if [[ ! -f cli/target/dyepack.jar || ! -d benchmarks/target/classes/META-INF ]]; then
  mvn -B -q -DskipTests -Dmaven.javadoc.skip=true -Dmaven.source.skip=true -pl cli,benchmarks -am package >&2
fi
repo="${MAVEN_REPO:-$HOME/.m2/repository}"  # where Maven put JMH and its two dependencies
jar() { ls "$repo/$1"/*/"$2"-*.jar 2>/dev/null | grep -v sources | sort -V | tail -1 || true; }
cp="benchmarks/target/classes:$(jar org/openjdk/jmh/jmh-core jmh-core):$(jar net/sf/jopt-simple/jopt-simple jopt-simple)"
cp="$cp:$(jar org/apache/commons/commons-math3 commons-math3):cli/target/dyepack.jar"
exec java -cp "$cp" org.openjdk.jmh.Main JniRoundTrip "$@"
