package dev.dyepack.job;

/** Receives progress of long work: {@code done} of {@code total} units of the named phase. */
@FunctionalInterface
public interface Progress {
    /** Reports nothing. */
    Progress NONE = (phase, done, total) -> { };

    /**
     * @param phase what is being done ("stamping", "scoring")
     * @param done  units done so far
     * @param total units in all
     */
    void update(String phase, long done, long total);
}
