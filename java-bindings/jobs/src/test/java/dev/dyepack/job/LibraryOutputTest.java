package dev.dyepack.job;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.dyepack.Engine;
import dev.dyepack.key.OwnerKey;
import dev.dyepack.select.Budget;
import dev.dyepack.trigger.TriggerSpec;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.logging.Handler;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The library prints nothing: a whole in-memory poisoning (engine, planning, stamping, signed manifest)
 * leaves standard output empty, and what it has to say goes through {@code System.Logger} (here to
 * {@code java.util.logging}, the JDK's default, where a bridge can send it to SLF4J).
 */
class LibraryOutputTest {
    @Test
    void aPoisoningWritesNothingOnStandardOutputAndLogsThroughSystemLogger(@TempDir Path dir) throws Exception {
        int n = 200;
        byte[] x = new byte[n * 12 * 12];
        byte[] y = new byte[n];
        Random r = new Random(3);
        r.nextBytes(x);
        for (int i = 0; i < n; i++) {
            y[i] = (byte) (i % 4);
        }
        List<LogRecord> logged = new ArrayList<>();
        Handler capture = new Handler() {
            @Override
            public void publish(LogRecord rec) {
                logged.add(rec);
            }

            @Override
            public void flush() {}

            @Override
            public void close() {}
        };
        Logger engineLog = Logger.getLogger(Engine.class.getName());
        engineLog.addHandler(capture);
        PrintStream out = System.out;
        ByteArrayOutputStream printed = new ByteArrayOutputStream();
        System.setOut(new PrintStream(printed, true, StandardCharsets.UTF_8));
        try {
            Engine leaked = Engine.open();
            Poisoner.Result result = Poisoner.builder().trigger(TriggerSpec.parse("blend:alpha=0.3,pattern=noise"))
                    .target(1).budget(Budget.parse("0.05")).build()
                    .poison(leaked, SampleArray.uint8(x, n, 12, 12), LabelArray.uint8(y),
                            new OwnerKey("library output test key, 32 byte".getBytes(StandardCharsets.UTF_8)));
            result.writeManifest(dir.resolve("manifest.json"));
            // An engine released by the cleaner instead of close() is reported through the logger.
            leaked = null;
            for (int i = 0; i < 50 && logged.isEmpty(); i++) {
                System.gc();
                Thread.sleep(20);
            }
        } finally {
            System.setOut(out);
            engineLog.removeHandler(capture);
        }
        assertEquals("", printed.toString(StandardCharsets.UTF_8));
        assertTrue(Files.size(dir.resolve("manifest.json")) > 0);
        assertTrue(logged.stream().anyMatch(rec -> rec.getMessage().contains("was not closed")),
                "the leak warning reaches java.util.logging through System.Logger: " + logged.size() + " records");
    }
}
