package dev.dyepack.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.dyepack.Engine;
import dev.dyepack.InvalidArgumentException;
import dev.dyepack.io.EmbeddedSample;
import dev.dyepack.job.LabelArray;
import dev.dyepack.job.PoisonJob;
import dev.dyepack.job.Poisoner;
import dev.dyepack.job.SampleArray;
import dev.dyepack.key.OwnerKey;
import dev.dyepack.manifest.Fingerprints;
import dev.dyepack.manifest.Manifest;
import dev.dyepack.manifest.ManifestReader;
import dev.dyepack.select.Budget;
import dev.dyepack.select.SelectionMode;
import dev.dyepack.select.Strategy;
import dev.dyepack.trigger.TriggerSpec;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link Poisoner} on arrays in memory against {@code dyepack poison} on {@code .npy} files of the same
 * arrays (the embedded Fashion-MNIST sample): the same bytes, indices, labels and fingerprints; and
 * {@code dyepack manifest verify} on the manifest of an in-memory poisoning.
 */
class PoisonerCliTest {
    private static final String SECRET = "in-memory poisoning test key, 32+ bytes";

    @TempDir
    Path dir;

    private Path keyFile() throws IOException {
        return Files.writeString(dir.resolve("owner.key"), SECRET);
    }

    private record Cli(Manifest manifest, byte[] data, byte[] labels, Path out) {}

    private Cli poisonWithCli(Path images, Path labels, String... options) throws IOException {
        Path out = dir.resolve("cli-out");
        String[] base = {"poison", "--data", images.toString(), "--labels", labels.toString(), "--key-file",
                keyFile().toString(), "--out", out.toString()};
        String[] args = new String[base.length + options.length];
        System.arraycopy(base, 0, args, 0, base.length);
        System.arraycopy(options, 0, args, base.length, options.length);
        CliTest.Run r = CliTriggerTest.run(Map.of(), args);
        assertEquals(0, r.code(), r.err());
        return new Cli(ManifestReader.read(out.resolve("manifest.json")), CliTest.payload(out.resolve("data.npy")),
                CliTest.payload(out.resolve("labels.npy")), out);
    }

    private static Map<String, String> files(Manifest m) {
        Map<String, String> shas = new HashMap<>();
        for (Manifest.DatasetFile f : m.files()) {
            shas.put(f.key(), f.sha256());
        }
        return shas;
    }

    @Test
    void defaultDirtyLabelPoisoningInMemoryMatchesTheCli() throws IOException {
        Path images = EmbeddedSample.extractImages(dir);
        Path labels = EmbeddedSample.extractLabels(dir);
        Cli cli = poisonWithCli(images, labels, "--trigger", "patch:size=3,pos=br,value=255", "--target", "0",
                "--budget", "0.02");

        byte[] x = CliTest.payload(images);
        byte[] y = CliTest.payload(labels);
        byte[] cleanX = x.clone();
        Poisoner poisoner = Poisoner.builder().trigger(TriggerSpec.parse("patch:size=3,pos=br,value=255")).target(0)
                .budget(Budget.parse("0.02")).build();
        Poisoner.Result r;
        try (Engine engine = Engine.open()) {
            r = poisoner.poison(engine, SampleArray.uint8(x, 1000, 28, 28), LabelArray.uint8(y),
                    OwnerKey.fromFile(keyFile()));
        }
        // Defaults resolve as the CLI's: boundary-far selection on a linear surrogate fitted on the pixels.
        assertEquals(Manifest.Strategy.BOUNDARY_FAR, r.manifest().selection().strategy());
        assertArrayEquals(cli.manifest().indices(), r.indices());
        assertArrayEquals(cli.data(), x, "the caller's array is stamped exactly as dyepack poison stamps the file");
        assertArrayEquals(cli.labels(), y, "the caller's labels are relabelled as the CLI's");
        assertNotEquals(0, java.util.Arrays.mismatch(cleanX, x) + 1, "something was stamped");
        assertEquals(cli.manifest().selection(), r.manifest().selection(), "same surrogate, by its fingerprint");
        assertEquals(cli.manifest().poisonedPerClass(), r.manifest().poisonedPerClass());

        // The fingerprints of the arrays are the SHA-256 of .npy files holding them.
        Map<String, String> mem = files(r.manifest());
        assertEquals(Fingerprints.sha256(images), mem.get("input.data"));
        assertEquals(Fingerprints.sha256(labels), mem.get("input.labels"));
        assertEquals(Fingerprints.sha256(cli.out().resolve("data.npy")), mem.get("output.data"));
        assertEquals(Fingerprints.sha256(cli.out().resolve("labels.npy")), mem.get("output.labels"));
        assertTrue(r.manifest().files().stream().allMatch(Manifest.DatasetFile::isInMemory));

        // dyepack manifest verify accepts it: signature and record, and .npy files holding the arrays.
        Path m = dir.resolve("in-memory-manifest.json");
        r.writeManifest(m);
        Map<String, String> env = Map.of("DYEPACK_KEY", SECRET);
        CliTest.Run v = CliTriggerTest.run(env, "manifest", "verify", "--manifest", m.toString());
        assertEquals(0, v.code(), v.out() + v.err());
        assertTrue(v.out().contains("poisoned in memory"), v.out());
        v = CliTriggerTest.run(env, "manifest", "verify", "--manifest", m.toString(), "--data",
                cli.out().resolve("data.npy").toString(), "--labels", cli.out().resolve("labels.npy").toString());
        assertEquals(0, v.code(), v.out() + v.err());
        v = CliTriggerTest.run(env, "manifest", "verify", "--manifest", m.toString(), "--data", images.toString());
        assertEquals(ExitCodes.VERIFY_FAILED, v.code(), "the clean images are not the poisoned data");
        assertTrue(v.out().contains("output.data"), v.out());
        v = CliTriggerTest.run(Map.of("DYEPACK_KEY", "another owner's key, 32 bytes long!!"), "manifest", "verify",
                "--manifest", m.toString());
        assertEquals(ExitCodes.VERIFY_FAILED, v.code(), "another key does not verify the signature");
        String edited = Files.readString(m).replaceFirst("\"target_class\"\\s*:\\s*0", "\"target_class\": 1");
        assertNotEquals(Files.readString(m), edited);
        Files.writeString(m, edited);
        v = CliTriggerTest.run(env, "manifest", "verify", "--manifest", m.toString());
        assertEquals(ExitCodes.VERIFY_FAILED, v.code(), "an edited record does not verify");
    }

    @Test
    void cleanLabelWithTheDefaultPushInMemoryMatchesTheCli() throws IOException {
        // uint8 clean-label: dyepack poison pushes the chosen samples away from their class (label-consistent,
        // the default bound) before stamping; in memory the same push must give the same bytes, under both
        // the boundary selection and random selection (which fits the surrogate for the push alone).
        Path images = EmbeddedSample.extractImages(dir);
        Path labels = EmbeddedSample.extractLabels(dir);
        String spec = PoisonJob.DEFAULT_TRIGGER;
        for (Strategy strategy : new Strategy[] {Strategy.AUTO, Strategy.RANDOM}) {
            Path out = dir.resolve("cli-out");
            if (Files.exists(out)) {
                try (var walk = Files.walk(out)) {
                    walk.sorted(java.util.Comparator.reverseOrder()).forEach(q -> q.toFile().delete());
                }
            }
            Cli cli = poisonWithCli(images, labels, "--trigger", spec, "--target", "2", "--budget", "0.02", "--mode",
                    "clean", "--select", strategy == Strategy.AUTO ? "auto" : "random");
            byte[] x = CliTest.payload(images);
            byte[] y = CliTest.payload(labels);
            byte[] plainlyStamped = x.clone();
            Poisoner.Result r;
            try (Engine engine = Engine.open()) {
                r = Poisoner.builder().trigger(TriggerSpec.parse(spec)).target(2).budget(Budget.parse("0.02"))
                        .mode(SelectionMode.CLEAN).strategy(strategy).build()
                        .poison(engine, SampleArray.uint8(x, 1000, 28, 28), LabelArray.uint8(y),
                                OwnerKey.fromFile(keyFile()));
                Poisoner.builder().trigger(TriggerSpec.parse(spec)).target(2).budget(Budget.parse("0.02"))
                        .mode(SelectionMode.CLEAN).strategy(strategy).cleanEps(0).build()
                        .poison(engine, SampleArray.uint8(plainlyStamped, 1000, 28, 28),
                                LabelArray.uint8(CliTest.payload(labels)), OwnerKey.fromFile(keyFile()));
            }
            assertArrayEquals(cli.manifest().indices(), r.indices(), strategy.toString());
            assertArrayEquals(cli.data(), x, strategy + ": pushed and stamped in place as dyepack poison does");
            assertArrayEquals(cli.labels(), y, "clean-label poisoning leaves the labels alone");
            assertNotEquals(0, java.util.Arrays.mismatch(plainlyStamped, x) + 1,
                    strategy + ": the default push changed the chosen samples beyond the trigger");
        }
    }

    @Test
    void keyedPerSampleTriggerOnADirectFloatBufferMatchesTheCli() throws IOException {
        // float32 data in a direct buffer, clean-label, random, a keyed per-sample patch position: the
        // randomness follows each sample's global index, so stamping in place must match the file job.
        byte[] u8 = CliTest.payload(EmbeddedSample.extractImages(dir));
        Path labels = EmbeddedSample.extractLabels(dir);
        float[] f = new float[u8.length];
        for (int i = 0; i < f.length; i++) {
            f[i] = (u8[i] & 0xff) / 255f;
        }
        Path images = dir.resolve("images-f32.npy");
        try (dev.dyepack.io.NpyWriter w = dev.dyepack.io.NpyWriter.create(images, "<f4", new long[] {1000, 28, 28})) {
            ByteBuffer b = ByteBuffer.allocate(f.length * 4).order(ByteOrder.LITTLE_ENDIAN);
            b.asFloatBuffer().put(f);
            w.write(b);
            w.commit();
        }
        String spec = "patch:size=4,pos=random,value=1";
        Cli cli = poisonWithCli(images, labels, "--trigger", spec, "--target", "3", "--budget", "12", "--mode",
                "clean", "--select", "random");

        ByteBuffer direct = ByteBuffer.allocateDirect(f.length * 4).order(ByteOrder.nativeOrder());
        direct.asFloatBuffer().put(f);
        byte[] y = CliTest.payload(labels);
        Poisoner p = Poisoner.builder().trigger(TriggerSpec.parse(spec)).target(3).budget(Budget.parse("12"))
                .mode(SelectionMode.CLEAN).strategy(Strategy.RANDOM).build();
        Poisoner.Result r;
        try (Engine engine = Engine.open()) {
            r = p.poison(engine, SampleArray.float32(direct.asFloatBuffer(), 1000, 28, 28), LabelArray.uint8(y),
                    OwnerKey.fromFile(keyFile()));
        }
        assertArrayEquals(cli.manifest().indices(), r.indices());
        byte[] stamped = new byte[f.length * 4];
        ByteBuffer le = ByteBuffer.wrap(stamped).order(ByteOrder.LITTLE_ENDIAN);
        le.asFloatBuffer().put(direct.asFloatBuffer());
        assertArrayEquals(cli.data(), stamped, "the direct buffer was stamped in place as the CLI stamps the file");
        assertArrayEquals(cli.labels(), y, "clean-label poisoning leaves the labels alone");
        assertEquals(Fingerprints.sha256(images), files(r.manifest()).get("input.data"));
    }

    @Test
    void badInputIsRefusedBeforeAnythingIsWritten() throws IOException {
        byte[] x = CliTest.payload(EmbeddedSample.extractImages(dir));
        byte[] y = CliTest.payload(EmbeddedSample.extractLabels(dir));
        byte[] x0 = x.clone();
        byte[] y0 = y.clone();
        OwnerKey key = OwnerKey.fromFile(keyFile());
        Poisoner p = Poisoner.builder().trigger(TriggerSpec.parse("patch:size=3")).target(300)
                .strategy(Strategy.RANDOM).build();
        try (Engine engine = Engine.open()) {
            InvalidArgumentException e = assertThrows(InvalidArgumentException.class,
                    () -> p.poison(engine, SampleArray.uint8(x, 1000, 28, 28), LabelArray.uint8(y), key));
            assertTrue(e.getMessage().contains("does not fit the labels' dtype"), e.getMessage());
            Poisoner ok = Poisoner.builder().trigger(TriggerSpec.parse("patch:size=3")).target(1)
                    .strategy(Strategy.RANDOM).build();
            e = assertThrows(InvalidArgumentException.class, () -> ok.poison(engine,
                    SampleArray.uint8(x, 1000, 28, 28), LabelArray.uint8(java.util.Arrays.copyOf(y, 999)), key));
            assertTrue(e.getMessage().contains("1000 samples but the labels 999"), e.getMessage());
            e = assertThrows(InvalidArgumentException.class, () -> SampleArray.uint8(x, 1000, 28, 27));
            assertTrue(e.getMessage().contains("needs exactly"), e.getMessage());
            e = assertThrows(InvalidArgumentException.class, () -> ok.poison(engine,
                    SampleArray.uint8(x, 1000, 784), LabelArray.uint8(y), key));
            assertTrue(e.getMessage().contains("asImages"), e.getMessage());
            e = assertThrows(InvalidArgumentException.class,
                    () -> ok.poison(engine, SampleArray.uint8(x, 1000, 28, 28), LabelArray.uint8(y), null));
            assertTrue(e.getMessage().contains("owner's key"), e.getMessage());
        }
        assertArrayEquals(x0, x, "refused calls leave the samples untouched");
        assertArrayEquals(y0, y, "refused calls leave the labels untouched");
    }
}
