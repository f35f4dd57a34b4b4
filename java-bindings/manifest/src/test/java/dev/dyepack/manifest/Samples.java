package dev.dyepack.manifest;

import static java.nio.charset.StandardCharsets.UTF_8;

import dev.dyepack.key.OwnerKey;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;

/** A small, fully consistent manifest and the keys the tests sign it with. */
final class Samples {
    /** Distinctive, so that tests can search written files for it (and its encodings). */
    static final String KEY_TEXT = "DyePack-test-owner-key:never-write-me:7f3a9c1e";
    static final String OTHER_KEY_TEXT = "a-different-owner-key-0123456789";

    static final String SPEC = "patch:size=3,pos=br,value=255,pattern=solid";
    static final String PARAMETERS = "{\"family\": \"patch\", \"size\": 3, \"pos\": \"br\", \"value\": 255, "
            + "\"pattern\": \"solid\", \"alpha\": 0.25, \"colour\": [255, 0.5, \"x\"]}";

    /** 2000 samples in 4 classes of 500 (class = index / 500); target 0, poisoned from classes 1 to 3. */
    static final long N = 2000;
    static final long[] INDICES = {
        503, 517, 561, 612, 688, 745, 901, // class 1: 7
        1003, 1017, 1042, 1111, 1234, 1307, 1499, // class 2: 7
        1502, 1613, 1729, 1800, 1888, 1999, // class 3: 6
    };

    static final String SHA_IN_DATA = "11".repeat(32);
    static final String SHA_IN_LABELS = "22".repeat(32);
    static final String SHA_OUT_DATA = "33".repeat(32);
    static final String SHA_OUT_LABELS = "44".repeat(32);

    private Samples() {
    }

    static OwnerKey key() {
        return new OwnerKey(KEY_TEXT.getBytes(UTF_8));
    }

    static OwnerKey otherKey() {
        return new OwnerKey(OTHER_KEY_TEXT.getBytes(UTF_8));
    }

    static Map<Long, Long> poisoned() {
        Map<Long, Long> m = new LinkedHashMap<>();
        m.put(3L, 6L); // deliberately out of order: the manifest sorts classes
        m.put(1L, 7L);
        m.put(2L, 7L);
        return m;
    }

    static Map<Long, Long> total() {
        return Map.of(0L, 500L, 1L, 500L, 2L, 500L, 3L, 500L);
    }

    /** The builder of the sample, every field set, with the key's fingerprint. */
    static Manifest.Builder builder() {
        return withoutFiles()
                // Added out of order: the manifest orders files by stage, then role.
                .addFile(new Manifest.DatasetFile(Manifest.Stage.OUTPUT, Manifest.Role.LABELS, "out/labels.npy", SHA_OUT_LABELS))
                .addFile(new Manifest.DatasetFile(Manifest.Stage.INPUT, Manifest.Role.DATA, "in/data.npy", SHA_IN_DATA))
                .addFile(new Manifest.DatasetFile(Manifest.Stage.OUTPUT, Manifest.Role.DATA, "out/data.npy", SHA_OUT_DATA))
                .addFile(new Manifest.DatasetFile(Manifest.Stage.INPUT, Manifest.Role.LABELS, "in/labels.npy", SHA_IN_LABELS));
    }

    /** The sample's builder with no dataset files yet. */
    static Manifest.Builder withoutFiles() {
        return Manifest.builder()
                .toolVersion("0.4.0-test")
                .created(Instant.parse("2025-03-01T12:34:56Z"))
                .keyFingerprint(key().fingerprint())
                .trigger(SPEC, PARAMETERS)
                .targetClass(0)
                .mode(Manifest.Mode.DIRTY)
                .budget(Manifest.Budget.of("0.01", INDICES.length, N))
                .selection(new Manifest.Selection(Manifest.Strategy.RANDOM, true, Manifest.SurrogateKind.NONE, null))
                .classCounts(poisoned(), total())
                .indices(INDICES);
    }

    static Manifest unsigned() {
        return builder().build();
    }

    static Manifest signed() {
        return ManifestSigner.sign(unsigned(), key());
    }
}
