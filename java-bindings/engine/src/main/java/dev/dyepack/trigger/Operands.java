package dev.dyepack.trigger;

import java.util.HashMap;
import java.util.Map;

/**
 * The engine operands of one prepared trigger, held in one place per engine: patterns, masks,
 * signals, grids, subkeys and token ids, each computed once and passed to the engine's primitive on
 * every apply. This is the hook for device residency: once the C ABI has resident operands
 * ({@code dp_operand}), {@link #floats}/{@link #ints} become the place that uploads each array once
 * for a CUDA engine and hands the primitive the handle, and {@link #close()} frees them; nothing in
 * the families needs to change.
 */
final class Operands implements AutoCloseable {
    private final Map<String, float[]> floats = new HashMap<>();
    private final Map<String, int[]> ints = new HashMap<>();

    /** Holds a float operand; the array must not be changed afterwards. */
    float[] floats(String name, float[] values) {
        floats.put(name, values);
        return values;
    }

    /** Holds an int operand; the array must not be changed afterwards. */
    int[] ints(String name, int[] values) {
        ints.put(name, values);
        return values;
    }

    /** @return the float operand held under the name */
    float[] floats(String name) {
        return floats.get(name);
    }

    /** @return the int operand held under the name */
    int[] ints(String name) {
        return ints.get(name);
    }

    @Override
    public void close() {
        floats.clear();
        ints.clear();
    }
}
