package dev.dyepack.trigger;

import dev.dyepack.Engine;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * The engine operands of one prepared trigger, held in one place: patterns, masks, signals, grids and
 * column values are {@linkplain Engine#upload uploaded} to the engine once, when the trigger is
 * prepared (on a CUDA engine they then stay on the device), and every apply hands the primitive the
 * resident {@link Engine.Operand}; subkeys and token ids stay Java arrays (the primitives take them
 * as scalars or copy a few ints). {@link #close()} releases the uploads.
 */
final class Operands implements AutoCloseable {
    private final Engine engine;
    private final Map<String, Engine.Operand> floats = new HashMap<>();
    private final Map<String, int[]> ints = new HashMap<>();

    Operands(Engine engine) {
        this.engine = Objects.requireNonNull(engine, "engine");
    }

    /**
     * Uploads a float operand once. If the upload fails, the operands already held are released
     * before the exception propagates, so that a prepare that fails half-way leaves nothing behind.
     *
     * @return the resident operand
     */
    Engine.Operand floats(String name, float[] values) {
        Engine.Operand operand;
        try {
            operand = engine.upload(values);
        } catch (RuntimeException e) {
            close();
            throw e;
        }
        Engine.Operand previous = floats.put(name, operand);
        if (previous != null) {
            previous.close();
        }
        return operand;
    }

    /** Holds an int operand; the array must not be changed afterwards. */
    int[] ints(String name, int[] values) {
        ints.put(name, values);
        return values;
    }

    /** @return the resident float operand held under the name */
    Engine.Operand floats(String name) {
        Engine.Operand operand = floats.get(name);
        if (operand == null) {
            throw new IllegalStateException("no operand " + name + " (closed, or never prepared)");
        }
        return operand;
    }

    /** @return the int operand held under the name */
    int[] ints(String name) {
        return ints.get(name);
    }

    /** Releases every upload; a second call does nothing. */
    @Override
    public void close() {
        List<Engine.Operand> held = new ArrayList<>(floats.values());
        floats.clear();
        ints.clear();
        RuntimeException first = null;
        for (Engine.Operand operand : held) {
            try {
                operand.close();
            } catch (RuntimeException e) {
                if (first == null) {
                    first = e;
                } else {
                    first.addSuppressed(e);
                }
            }
        }
        if (first != null) {
            throw first;
        }
    }
}
