package dev.dyepack.manifest;

/**
 * Text that is not JSON, or JSON outside the limits {@link JsonParser} accepts. Carries the 1-based
 * line and column of the problem so that callers can wrap it in the exception of their layer, naming
 * their input (a file, a parameter).
 */
final class JsonSyntaxException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final int line;
    private final int column;
    private final String problem;

    /**
     * @param line    1-based line of the problem
     * @param column  1-based column (in UTF-16 units) of the problem
     * @param problem what is wrong, without the position
     */
    JsonSyntaxException(int line, int column, String problem) {
        super("line " + line + ", column " + column + ": " + problem);
        this.line = line;
        this.column = column;
        this.problem = problem;
    }

    /** @return the 1-based line */
    int line() {
        return line;
    }

    /** @return the 1-based column */
    int column() {
        return column;
    }

    /** @return what is wrong, without the position */
    String problem() {
        return problem;
    }
}
