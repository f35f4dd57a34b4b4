package dev.dyepack.cli;

import dev.dyepack.job.Progress;
import java.io.PrintWriter;
import java.util.Locale;

/**
 * A one-line progress bar on standard error, drawn only when it is a terminal (never in logs, pipes or
 * tests), redrawn at most every 100 ms and finished with a newline.
 */
final class ProgressBar implements Progress {
    private static final int WIDTH = 30;
    private final PrintWriter err;
    private long lastDraw;
    private boolean drawn;

    private ProgressBar(PrintWriter err) {
        this.err = err;
    }

    /**
     * @param err standard error
     * @return a bar when standard error is a terminal, else {@link Progress#NONE}
     */
    static Progress on(PrintWriter err) {
        return System.console() != null ? new ProgressBar(err) : Progress.NONE;
    }

    @Override
    public void update(String phase, long done, long total) {
        long now = System.nanoTime();
        boolean last = done >= total;
        if (!last && drawn && now - lastDraw < 100_000_000L) {
            return;
        }
        lastDraw = now;
        drawn = true;
        int filled = total <= 0 ? WIDTH : (int) (WIDTH * Math.min(done, total) / total);
        err.printf(Locale.ROOT, "\r%-9s [%s%s] %3d%% %d/%d", phase, "#".repeat(filled), " ".repeat(WIDTH - filled),
                total <= 0 ? 100 : 100 * Math.min(done, total) / total, done, total);
        if (last) {
            err.println();
        }
        err.flush();
    }
}
