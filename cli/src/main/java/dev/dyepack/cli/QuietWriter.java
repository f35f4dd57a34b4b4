package dev.dyepack.cli;

import java.io.PrintWriter;
import java.io.Writer;

/**
 * Standard error under {@code --quiet}: passes whole lines that start with {@code dyepack:} (the error
 * line) or {@code warning:}, and drops every other line (which key, which backend, progress). A line
 * is judged when it ends, so progress bars redrawn with carriage returns are dropped whole.
 *
 * <p>Not thread-safe, like the writer it wraps.
 */
final class QuietWriter extends Writer {
    private final PrintWriter target;
    private final StringBuilder line = new StringBuilder();

    private QuietWriter(PrintWriter target) {
        this.target = target;
    }

    /**
     * @param target the real standard error
     * @return a print writer that passes only errors and warnings to {@code target}
     */
    static PrintWriter over(PrintWriter target) {
        return new PrintWriter(new QuietWriter(target), true);
    }

    @Override
    public void write(char[] buf, int off, int len) {
        for (int i = off; i < off + len; i++) {
            char c = buf[i];
            if (c == '\n') {
                emit();
            } else {
                line.append(c);
            }
        }
    }

    private void emit() {
        String l = line.toString();
        int cr = l.lastIndexOf('\r');
        String shown = cr >= 0 ? l.substring(cr + 1) : l;
        if (shown.startsWith("dyepack:") || shown.startsWith("warning:")) {
            target.println(shown);
        }
        line.setLength(0);
    }

    @Override
    public void flush() {
        target.flush();
    }

    @Override
    public void close() {
        if (line.length() > 0) {
            emit();
        }
        target.flush();
    }
}
