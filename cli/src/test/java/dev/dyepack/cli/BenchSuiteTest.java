package dev.dyepack.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.dyepack.Backend;
import dev.dyepack.CudaStatus;
import dev.dyepack.Engine;
import dev.dyepack.job.BenchSuite;
import dev.dyepack.trigger.DataKind;
import dev.dyepack.trigger.TriggerFamily;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The bench suite at its smallest: every job runs through the real commands and library, each row carries
 * its peer, and the work folder is gone afterwards. (The numbers themselves are measured with
 * {@code dyepack bench}, never asserted.)
 */
class BenchSuiteTest {
    @TempDir
    Path dir;

    @Test
    void everyJobRunsBesideItsPeerAndLeavesNothingBehind() throws IOException {
        List<List<String>> commands = new ArrayList<>();
        BenchSuite.CommandRunner inProcess = args -> {
            commands.add(args);
            long t0 = System.nanoTime();
            CliTest.Run r = CliTriggerTest.run(Map.of(), args.toArray(String[]::new));
            assertEquals(0, r.code(), args + ": " + r.err());
            return (System.nanoTime() - t0) / 1e9;
        };
        Path work = dir.resolve("work");
        List<String> progress = new ArrayList<>();
        List<BenchSuite.Row> rows;
        try (Engine engine = Engine.open(Backend.CPU)) {
            rows = new BenchSuite(work, new BenchSuite.Sizes(100, 100, 1000, 1), inProcess, "python3", progress::add)
                    .run(engine);
        }
        assertFalse(Files.exists(work), "the work folder is deleted");
        long imageFamilies = TriggerFamily.all().stream().filter(f -> f.kind() == DataKind.IMAGES).count();
        // apply (cp, NumPy, in process), poison random/boundary/random in process, folder random/boundary +
        // boundary beside a parallel decode + a JPEG folder + PIL, families, patch and blend beside IBM ART, fit,
        // scoring, scoring on a wide head; then, on a GPU, the families on device memory, the device fit and
        // scoring (two shapes), or one row saying why there are none
        boolean gpu = CudaStatus.query().available();
        assertEquals(3 + 3 + 5 + imageFamilies + 2 + 3 + (gpu ? imageFamilies + 3 : 1), rows.size(), rows.toString());
        List<BenchSuite.Row> gpuRows = rows.subList(rows.size() - (gpu ? (int) imageFamilies + 3 : 1), rows.size());
        if (gpu) {
            for (BenchSuite.Row r : gpuRows) {
                assertFalse(r.dyepack().startsWith("failed"), r.toString());
            }
            assertTrue(gpuRows.get((int) imageFamilies).peer().contains("bit for bit"), gpuRows.toString());
        } else {
            assertTrue(gpuRows.get(0).job().startsWith("GPU rows") && gpuRows.get(0).peer().contains("no usable GPU"),
                    gpuRows.toString());
        }
        List<BenchSuite.Row> art = rows.stream().filter(r -> r.peer().startsWith("ART ")).toList();
        assertEquals(2, art.size(), rows.toString());
        assertTrue(art.get(0).job().startsWith("`patch:") && art.get(0).peer().contains("add_pattern_bd")
                && art.get(1).job().startsWith("`blend:") && art.get(1).peer().contains("insert_image"), art.toString());
        for (BenchSuite.Row r : art) {
            // Measured where ART is installed for the peers' Python, said so where it is not; never a failure.
            assertTrue(r.ratio() > 0 || r.peer().contains("unavailable: IBM ART")
                    || r.peer().contains("unavailable: NumPy"), r.toString());
        }
        assertTrue(rows.get(2).job().contains("in process") && rows.get(5).job().contains("in process"),
                rows.toString());
        assertEquals(List.of("apply", "poison", "poison", "poison", "poison", "poison"),
                commands.stream().map(c -> c.get(0)).toList());
        for (BenchSuite.Row r : rows) {
            assertFalse(r.peer().isBlank(), r.toString());
            if (r.peer().startsWith("`cp")) {
                assertTrue(r.ratio() > 0, "a ratio to the copy: " + r);
            }
        }
        String table = BenchSuite.markdown(rows, "test machine");
        assertEquals(rows.size() + 2, table.lines().filter(l -> l.startsWith("|")).count(), table);
        assertTrue(table.contains("`apply` blend to 100 x 224x224x3 uint8"), table);
    }

    @Test
    void theArrayCommandsAndTheirCopyTakeTurnsAndReportTheMedian() throws IOException {
        List<String> commands = new ArrayList<>();
        BenchSuite.CommandRunner inProcess = args -> {
            commands.add(args.get(0) + (args.contains("--select") ? " " + args.get(args.indexOf("--select") + 1) : ""));
            CliTest.Run r = CliTriggerTest.run(Map.of(), args.toArray(String[]::new));
            assertEquals(0, r.code(), args + ": " + r.err());
            // Made-up times, so the median is known: apply takes 1, 5 (rounds 1 and 2).
            return args.get(0).equals("apply") ? (commands.stream().filter(c -> c.equals("apply")).count() == 1 ? 1 : 5)
                    : 2;
        };
        Path work = dir.resolve("work-rounds");
        List<BenchSuite.Row> rows;
        try (Engine engine = Engine.open(Backend.CPU)) {
            rows = new BenchSuite(work, new BenchSuite.Sizes(100, 100, 1000, 2), inProcess, null, line -> { })
                    .run(engine);
        }
        assertEquals(List.of("apply", "poison random", "poison boundary", "apply", "poison random", "poison boundary",
                "poison random", "poison boundary", "poison random"), commands, "two alternating rounds, then the folders");
        BenchSuite.Row apply = rows.get(0);
        assertTrue(apply.job().endsWith("(median of 2 rounds)") && apply.peer().startsWith("`cp` + `sync` (median"),
                apply.toString());
        assertEquals("3.00 s", apply.dyepack(), "the median of 1 and 5");
        assertTrue(rows.get(3).job().startsWith("`poison` 1%, random") && rows.get(3).dyepack().equals("2.00 s"),
                rows.get(3).toString());
    }
}
