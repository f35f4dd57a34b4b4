package dev.dyepack.io;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Runs snippets under {@code python3} with NumPy, the reference implementation of the format. Tests
 * call {@link #assumeAvailable()} so that only the cross-check is skipped where NumPy is missing.
 */
final class PythonNumPy {
    private static Boolean available;

    private PythonNumPy() {
    }

    static synchronized boolean available() {
        if (available == null) {
            try {
                available = exec("import numpy").exitCode == 0;
            } catch (IOException | InterruptedException e) {
                available = false;
            }
        }
        return available;
    }

    static void assumeAvailable() {
        assumeTrue(available(), "python3 with numpy is not installed; NumPy cross-check skipped");
    }

    /** Runs {@code code} with {@code args} in {@code sys.argv[1:]}; returns stdout, trimmed. */
    static String run(String code, String... args) throws IOException, InterruptedException {
        Result r = exec(code, args);
        assertEquals(0, r.exitCode, () -> "python3 failed:\n" + r.output);
        return r.output.strip();
    }

    private static final class Result {
        final int exitCode;
        final String output;

        Result(int exitCode, String output) {
            this.exitCode = exitCode;
            this.output = output;
        }
    }

    private static Result exec(String code, String... args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of("python3", "-c", code));
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        byte[] out = p.getInputStream().readAllBytes();
        if (!p.waitFor(60, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            return new Result(-1, "timed out");
        }
        return new Result(p.exitValue(), new String(out, StandardCharsets.UTF_8));
    }
}
