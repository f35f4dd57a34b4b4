package dev.dyepack.verify.endpoint;

import dev.dyepack.InvalidInputException;
import dev.dyepack.manifest.Json;
import dev.dyepack.verify.Verdict;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.function.Consumer;
import java.util.function.Supplier;

/**
 * Watches a suspect deployment: repeats a verification on a schedule and appends one JSON line per run
 * to a log, {@code {"time": "<UTC ISO-8601>", "verdict": {...}}} or {@code {"time": "...", "error":
 * "<message>"}}. A failed run (the service down, a garbled answer) is logged and the watch goes on;
 * the log is never given a verdict computed from broken data.
 *
 * <p>Runs start at fixed times, {@code every} apart from the first; a run that overruns its slot
 * delays the next one, which then starts at once.
 */
public final class Monitor {
    private Monitor() {}

    /**
     * Runs the verification {@code runs} times (or until the thread is interrupted when runs is 0).
     *
     * @param verification one verification; a {@link RuntimeException} from it is logged as the run's error
     * @param every        the time between two runs' starts
     * @param runs         how many runs, or 0 for no bound
     * @param log          the file each line is appended to (created if missing)
     * @param onLine       also given each line (for a console), or null
     * @return how many runs gave a verdict
     * @throws InvalidInputException if every is not positive or runs is negative
     * @throws UncheckedIOException  if the log cannot be written
     */
    public static int run(Supplier<Verdict> verification, Duration every, int runs, Path log, Consumer<String> onLine) {
        if (every == null || every.isZero() || every.isNegative()) {
            throw new InvalidInputException("the time between runs must be positive, got " + every);
        }
        if (runs < 0) {
            throw new InvalidInputException("the number of runs must be 0 (no bound) or more, got " + runs);
        }
        Clock clock = Clock.systemUTC();
        long first = System.nanoTime();
        int verdicts = 0;
        for (long k = 0; runs == 0 || k < runs; k++) {
            if (k > 0) {
                long wait = first + k * every.toNanos() - System.nanoTime();
                if (wait > 0) {
                    try {
                        Thread.sleep(wait / 1_000_000, (int) (wait % 1_000_000));
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        break;
                    }
                }
            }
            String line = line(Instant.now(clock), verification);
            if (line.contains("\"verdict\"")) {
                verdicts++;
            }
            try {
                Files.writeString(log, line + "\n", StandardCharsets.UTF_8, StandardOpenOption.CREATE,
                        StandardOpenOption.APPEND, StandardOpenOption.WRITE);
            } catch (IOException e) {
                throw new UncheckedIOException("cannot append to the log " + log, e);
            }
            if (onLine != null) {
                onLine.accept(line);
            }
        }
        return verdicts;
    }

    private static String line(Instant time, Supplier<Verdict> verification) {
        String head = "{\"time\":" + Json.quote(time.toString());
        try {
            return head + ",\"verdict\":" + verification.get().toJson() + "}";
        } catch (RuntimeException e) {
            String m = e.getMessage() == null || e.getMessage().isBlank() ? e.toString() : e.getMessage();
            return head + ",\"error\":" + Json.quote(m) + "}";
        }
    }
}
