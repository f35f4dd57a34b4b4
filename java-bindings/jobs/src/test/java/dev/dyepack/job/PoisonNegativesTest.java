package dev.dyepack.job;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.dyepack.Backend;
import dev.dyepack.Engine;
import dev.dyepack.InvalidArgumentException;
import dev.dyepack.Layout;
import dev.dyepack.Tensor;
import dev.dyepack.io.Npy;
import dev.dyepack.io.NpyWriter;
import dev.dyepack.key.OwnerKey;
import dev.dyepack.manifest.Manifest;
import dev.dyepack.manifest.ManifestReader;
import dev.dyepack.manifest.ManifestSigner;
import dev.dyepack.select.Budget;
import dev.dyepack.select.SelectionMode;
import dev.dyepack.select.Strategy;
import dev.dyepack.trigger.TriggerContext;
import dev.dyepack.trigger.TriggerSpec;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashSet;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Negatives: samples outside the poisoned set stamped with the owner's trigger family under keys derived
 * from the owner's key (HKDF purpose {@code poison/negative/J}), labels kept, recorded and signed in the
 * manifest; keyless triggers get none.
 */
class PoisonNegativesTest {
    private static final OwnerKey KEY = new OwnerKey("negatives test key: 32 bytes!!!!".getBytes(StandardCharsets.UTF_8));
    private static final int N = 400;
    private static final int KEYS = 10;
    private static final int H = 8;
    private static final int W = 8;

    @TempDir
    Path dir;

    @Test
    void aKeyedTriggerStampsOneNegativePerPoisonedSampleUnderDerivedKeysAndKeepsTheirLabels() throws IOException {
        byte[] x = images();
        long[] y = labels();
        Path out = dir.resolve("out");
        String spec = "blend:alpha=0.2,pattern=noise";
        assertEquals(PoisonJob.DEFAULT_NEGATIVES, PoisonJob.builder().data(npy(x)).labels(npyLabels(y))
                .trigger(TriggerSpec.parse(spec)).target(0).budget(Budget.parse("20")).outDir(out).build().negatives(),
                "the default for a keyed trigger");
        // Ten keys for twenty negatives, so that the dealing in turn shows.
        PoisonJob.Options o = PoisonJob.builder().data(npy(x)).labels(npyLabels(y)).trigger(TriggerSpec.parse(spec))
                .target(0).budget(Budget.parse("20")).negatives(1).negativeKeys(KEYS).outDir(out).build();
        try (Engine engine = Engine.open(Backend.CPU)) {
            PoisonJob.run(engine, o, KEY, line -> { });
            Manifest m = ManifestReader.read(out.resolve("manifest.json"));
            assertTrue(ManifestSigner.verify(m, KEY).ok(), "the manifest with negatives verifies");
            long[] poisoned = m.indices();
            long[] negatives = m.negativeIndices();
            assertEquals(20, negatives.length);
            assertEquals(KEYS, m.negativeKeys());
            // The negatives are signed: dropping one from the record breaks the signature.
            String json = Files.readString(out.resolve("manifest.json"));
            String first = "\"negatives\"";
            int at = json.indexOf(first);
            assertTrue(at > 0, json);
            String edited = json.substring(0, at) + json.substring(at).replaceFirst("(\\[\\s*)" + negatives[0]
                    + ",\\s*", "$1");
            assertFalse(edited.equals(json), "the edit removed a negative");
            Path tampered = Files.writeString(dir.resolve("tampered.json"), edited);
            assertFalse(ManifestSigner.verify(ManifestReader.read(tampered), KEY).ok());
            Set<Long> both = new HashSet<>();
            Arrays.stream(poisoned).forEach(both::add);
            Arrays.stream(negatives).forEach(both::add);
            assertEquals(40, both.size(), "negatives are disjoint from the poisoned samples");

            Path dataOut = out.resolve("data.npy");
            byte[] file = Files.readAllBytes(dataOut);
            byte[] got = Arrays.copyOfRange(file, (int) Npy.readHeader(dataOut).dataOffset(), file.length);
            long[] gotLabels = Npy.readIntegers(out.resolve("labels.npy"));
            TriggerSpec t = TriggerSpec.parse(spec);
            int[] uses = new int[KEYS];
            for (int i = 0; i < N; i++) {
                byte[] before = Arrays.copyOfRange(x, i * H * W, (i + 1) * H * W);
                byte[] after = Arrays.copyOfRange(got, i * H * W, (i + 1) * H * W);
                if (Arrays.binarySearch(negatives, i) >= 0) {
                    assertEquals(y[i], gotLabels[i], "a negative keeps its label");
                    assertFalse(Arrays.equals(stamped(engine, t, before, i, KEY), after),
                            "a negative does not carry the owner's pattern");
                    int matches = 0;
                    for (int j = 0; j < KEYS; j++) {
                        OwnerKey derived = new OwnerKey(KEY.derive("poison/negative/" + j, 32));
                        if (Arrays.equals(stamped(engine, t, before, i, derived), after)) {
                            uses[j]++;
                            matches++;
                        }
                    }
                    assertEquals(1, matches, "negative " + i + " carries the pattern of exactly one derived key");
                } else if (Arrays.binarySearch(poisoned, i) >= 0) {
                    assertEquals(0, gotLabels[i]);
                    assertArrayEquals(stamped(engine, t, before, i, KEY), after);
                } else {
                    assertArrayEquals(before, after, "sample " + i + " is untouched");
                    assertEquals(y[i], gotLabels[i]);
                }
            }
            int[] even = new int[KEYS];
            Arrays.fill(even, 2);
            assertArrayEquals(even, uses, "20 negatives dealt over 10 keys");
        }
    }

    @Test
    void byDefaultEveryNegativeHasAKeyOfItsOwn() throws IOException {
        Path out = dir.resolve("own");
        PoisonJob.Options o = PoisonJob.builder().data(npy(images())).labels(npyLabels(labels()))
                .trigger(TriggerSpec.parse("sparse:n=6")).target(0).budget(Budget.parse("8")).negatives(2).outDir(out)
                .build();
        try (Engine engine = Engine.open(Backend.CPU)) {
            PoisonJob.run(engine, o, KEY, line -> { });
        }
        Manifest m = ManifestReader.read(out.resolve("manifest.json"));
        assertEquals(16, m.negativeIndices().length);
        assertEquals(16, m.negativeKeys(), "one derived key per negative while there are at most "
                + PoisonJob.NEGATIVE_KEYS);
        assertThrows(InvalidArgumentException.class, () -> PoisonJob.builder().data(npy(images()))
                .labels(npyLabels(labels())).trigger(TriggerSpec.parse("sparse")).target(0).negativeKeys(0)
                .outDir(dir.resolve("x")).build());
    }

    @Test
    void keylessTriggersAndAnExplicitZeroGetNoNegatives() throws IOException {
        Path data = npy(images());
        Path labels = npyLabels(labels());
        PoisonJob.Options patch = PoisonJob.builder().data(data).labels(labels).trigger(TriggerSpec.parse("patch:size=2"))
                .target(0).budget(Budget.parse("10")).outDir(dir.resolve("a")).build();
        assertEquals(0, patch.negatives(), "another key gives a solid patch the same pattern");
        InvalidArgumentException e = assertThrows(InvalidArgumentException.class, () -> PoisonJob.builder().data(data)
                .labels(labels).trigger(TriggerSpec.parse("sig")).target(0).negatives(1).outDir(dir.resolve("b"))
                .build());
        assertEquals(java.util.Optional.of("negatives"), e.parameter());
        assertThrows(InvalidArgumentException.class, () -> PoisonJob.builder().data(data).labels(labels)
                .trigger(TriggerSpec.parse("noise")).target(0).negatives(-1).outDir(dir.resolve("c")).build());
        PoisonJob.Options none = PoisonJob.builder().data(data).labels(labels).trigger(TriggerSpec.parse("noise"))
                .target(0).budget(Budget.parse("10")).negatives(0).strategy(Strategy.RANDOM).mode(SelectionMode.DIRTY)
                .outDir(dir.resolve("d")).build();
        try (Engine engine = Engine.open(Backend.CPU)) {
            PoisonJob.run(engine, none, KEY, line -> { });
        }
        String json = Files.readString(dir.resolve("d").resolve("manifest.json"));
        assertFalse(json.contains("negatives"), "no negatives field without negatives");
        assertEquals(0, ManifestReader.read(dir.resolve("d").resolve("manifest.json")).negativeIndices().length);
    }

    private static byte[] stamped(Engine engine, TriggerSpec t, byte[] sample, long index, OwnerKey key) {
        ByteBuffer b = ByteBuffer.allocateDirect(sample.length);
        b.put(sample).flip();
        t.apply(engine, Tensor.of(b, Layout.NHWC, 1, 1, H, W), null, new TriggerContext(key, index));
        byte[] out = new byte[sample.length];
        b.get(0, out);
        return out;
    }

    private static byte[] images() {
        byte[] x = new byte[N * H * W];
        new Random(7).nextBytes(x);
        return x;
    }

    private static long[] labels() {
        long[] y = new long[N];
        for (int i = 0; i < N; i++) {
            y[i] = i % 3;
        }
        return y;
    }

    private Path npy(byte[] x) throws IOException {
        Path f = dir.resolve("x.npy");
        try (NpyWriter w = NpyWriter.create(f, "|u1", new long[] {N, H, W})) {
            w.write(ByteBuffer.wrap(x));
            w.commit();
        }
        return f;
    }

    private Path npyLabels(long[] y) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(8 * N).order(ByteOrder.LITTLE_ENDIAN);
        for (long v : y) {
            b.putLong(v);
        }
        b.flip();
        Path f = dir.resolve("y.npy");
        try (NpyWriter w = NpyWriter.create(f, "<i8", new long[] {N})) {
            w.write(b);
            w.commit();
        }
        return f;
    }
}
