package dev.dyepack.verify;

/**
 * A suspect model held in the JVM (for example a DL4J network's {@code output}), answering a probe
 * file's samples. Training code can verify its own watermark after each epoch with it.
 */
@FunctionalInterface
public interface SuspectModel {
    /**
     * Answers a batch of probes.
     *
     * @param probes the samples as stored in the probe file
     * @return one answer per probe: labels, or probabilities over the data's classes
     */
    Answers answer(Probes probes);

    /**
     * The samples of one probe set, in probe order (for a folder: its class folders in order, each
     * sorted by name, the order {@code dev.dyepack.io.ImageFolder} reads).
     *
     * @param name   the probe set's name ("clean", "triggered", "control-1", ...)
     * @param shape  the array's shape, (N, H, W) or (N, H, W, C)
     * @param values every element as a float, in the file's order (uint8 values stay 0..255)
     */
    record Probes(String name, long[] shape, float[] values) {
        /** @return N */
        public int size() {
            return (int) shape[0];
        }
    }
}
