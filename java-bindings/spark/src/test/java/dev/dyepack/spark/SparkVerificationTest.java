package dev.dyepack.spark;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.dyepack.Backend;
import dev.dyepack.Engine;
import dev.dyepack.InvalidInputException;
import dev.dyepack.io.EmbeddedSample;
import dev.dyepack.io.NpyWriter;
import dev.dyepack.job.PoisonJob;
import dev.dyepack.key.OwnerKey;
import dev.dyepack.trigger.TriggerSpec;
import dev.dyepack.verify.ProbeSet;
import dev.dyepack.verify.Verdict;
import dev.dyepack.verify.Verification;
import dev.dyepack.verify.Verifier;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Verification with DataFrames gives what the file-based tools give: the same probe set from held-out
 * samples held as a DataFrame, and the same verdict on answers held as a DataFrame as on answer files.
 */
class SparkVerificationTest {
    @TempDir
    static Path dir;
    private static Path images;
    private static Path labels;
    private static Path manifest;
    private static OwnerKey key;

    @BeforeAll
    static void poison() throws IOException {
        images = EmbeddedSample.extractImages(dir);
        labels = EmbeddedSample.extractLabels(dir);
        key = new OwnerKey("spark verification test key....".getBytes(StandardCharsets.UTF_8));
        try (Engine engine = Engine.open(Backend.CPU)) {
            PoisonJob.run(engine, PoisonJob.builder().data(images).labels(labels)
                    .trigger(TriggerSpec.parse("blend:alpha=0.2,pattern=noise")).target(0).outDir(dir.resolve("p"))
                    .build(), key, line -> { });
        }
        manifest = dir.resolve("p/manifest.json");
    }

    @Test
    void probeSetFromADataFrameIsTheProbeSetFromFiles() throws IOException {
        Path parquet = dir.resolve("held-out.parquet");
        ParquetConvert.toParquet(LocalSpark.get(), images, labels, parquet, 3, false);
        Dataset<Row> heldOut = ParquetConvert.read(LocalSpark.get(), parquet).repartition(3);
        try (Engine engine = Engine.open(Backend.CPU)) {
            ProbeSet fromFrame = SparkVerification.createProbeSet(engine, heldOut, manifest, 100, 2, key,
                    dir.resolve("probe-frame"));
            ProbeSet fromFiles = ProbeSet.create(engine, manifest, images, labels, 100, 2, key,
                    dir.resolve("probe-files"));
            assertArrayEquals(fromFiles.indices(), fromFrame.indices());
            for (String name : fromFiles.probeNames()) {
                assertArrayEquals(Files.readAllBytes(fromFiles.probeFile(name)),
                        Files.readAllBytes(fromFrame.probeFile(name)), name);
            }
        }
    }

    /** A suspect that learned the watermark: the target on triggered probes, the true class elsewhere. */
    private static int answer(String probe, int trueLabel) {
        return probe.equals("triggered") ? 0 : trueLabel;
    }

    @Test
    void answersAsADataFrameGiveTheVerdictOfAnswerFiles() throws IOException {
        Path probeDir = dir.resolve("probe-verdict");
        ProbeSet set;
        try (Engine engine = Engine.open(Backend.CPU)) {
            set = ProbeSet.create(engine, manifest, images, labels, 200, 2, key, probeDir);
        }
        Dataset<Row> probes = SparkVerification.probes(LocalSpark.get(), probeDir, manifest, key);
        assertEquals(200L * set.probeNames().size(), probes.count());
        // The suspect answers each probe row where it lies (here: from the probe's name and position).
        int[] truth = set.labels();
        List<Row> rows = new ArrayList<>();
        for (Row r : probes.select(SparkVerification.PROBE, SparkVerification.POSITION).collectAsList()) {
            rows.add(RowFactory.create(r.getString(0), r.getLong(1), answer(r.getString(0), truth[(int) r.getLong(1)])));
        }
        StructType schema = new StructType().add(SparkVerification.PROBE, DataTypes.StringType)
                .add(SparkVerification.POSITION, DataTypes.LongType).add(SparkVerification.PREDICTION,
                        DataTypes.IntegerType);
        Dataset<Row> answers = LocalSpark.get().createDataFrame(rows, schema).repartition(3);
        Path files = Files.createDirectories(dir.resolve("answer-files"));
        for (String name : set.probeNames()) {
            ByteBuffer b = ByteBuffer.allocate(4 * truth.length).order(ByteOrder.LITTLE_ENDIAN);
            for (int t : truth) {
                b.putInt(answer(name, t));
            }
            try (NpyWriter w = NpyWriter.create(files.resolve(name + ".npy"), "<i4", new long[] {truth.length})) {
                w.write(b.flip());
                w.commit();
            }
        }
        Verdict fromFrame = SparkVerification.verify(answers, probeDir, manifest, key, Verifier.defaults());
        Verdict fromFiles = Verification.fromPredictions(manifest, probeDir, files, key, Verifier.defaults());
        assertEquals(fromFiles, fromFrame);
        assertTrue(fromFrame.successRate() > 0.9, fromFrame.toJson());

        Dataset<Row> missing = answers.filter("NOT (probe = 'clean' AND position = 17)");
        InvalidInputException e = assertThrows(InvalidInputException.class,
                () -> SparkVerification.verify(missing, probeDir, manifest, key, Verifier.defaults()));
        assertEquals("answers: probe set clean has no answer at position 17", e.getMessage());
    }
}
