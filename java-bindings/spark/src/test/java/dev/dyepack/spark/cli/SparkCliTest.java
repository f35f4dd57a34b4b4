package dev.dyepack.spark.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.Map;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** The Spark command line's refusals that come before any Spark session: one line, exit 2, no secret echoed. */
class SparkCliTest {
    private record Run(int code, String err) {}

    private static Run run(String... args) {
        StringWriter err = new StringWriter();
        CommandLine cl = SparkMain.commandLine(Map.of());
        cl.setErr(new PrintWriter(err));
        cl.setOut(new PrintWriter(new StringWriter()));
        return new Run(cl.execute(args), err.toString());
    }

    @Test
    void badSelectionIsOneLineAndInvalidInput() {
        Run r = run("poison", "--data", "x.parquet", "--trigger", "patch:size=3", "--target", "0", "--out", "o",
                "--select", "nearest");
        assertEquals(SparkMain.INVALID_INPUT, r.code());
        assertEquals("dyepack: --select must be auto, boundary, boundary-far or random, got 'nearest'", r.err().strip());
    }

    @Test
    void aKeyOnTheCommandLineIsRefusedWithoutEchoingIt() {
        Run r = run("poison", "--data", "x.parquet", "--key", "hunter2-owner-secret", "--out", "o");
        assertEquals(SparkMain.INVALID_INPUT, r.code());
        assertFalse(r.err().contains("hunter2"), r.err());
        assertTrue(r.err().startsWith("dyepack: a secret is never given on the command line"), r.err());
    }
}
