package dev.dyepack.mark;

import dev.dyepack.InvalidArgumentException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;

/**
 * A batch of queries as sent to the served model: N samples of one shape, uint8 ({@code "u1"}) or float32
 * ({@code "f4"}, little-endian bytes). The record does not copy its arrays.
 *
 * @param dtype {@code "u1"} or {@code "f4"}
 * @param shape the batch's shape, N first
 * @param data  the elements, row-major
 */
public record Queries(String dtype, long[] shape, byte[] data) {
    /** @throws InvalidArgumentException if the shape, dtype and data do not agree */
    public Queries {
        if (!"u1".equals(dtype) && !"f4".equals(dtype)) {
            throw new InvalidArgumentException("queries are uint8 (u1) or float32 (f4), got " + dtype);
        }
        if (shape == null || shape.length < 1 || data == null) {
            throw new InvalidArgumentException("queries need a shape (N first) and their data");
        }
        long elements = 1;
        for (long d : shape) {
            if (d < 0) {
                throw new InvalidArgumentException("a query shape has a negative dimension: " + Arrays.toString(shape));
            }
            elements = Math.multiplyExact(elements, d);
        }
        if (Math.multiplyExact(elements, width(dtype)) != data.length) {
            throw new InvalidArgumentException("queries of shape " + Arrays.toString(shape) + " (" + dtype + ") need "
                    + elements * width(dtype) + " bytes, got " + data.length);
        }
    }

    /**
     * Float queries.
     *
     * @param values the elements, row-major
     * @param shape  the batch's shape, N first
     * @return the batch
     * @throws InvalidArgumentException if the sizes do not agree
     */
    public static Queries ofFloats(float[] values, long... shape) {
        ByteBuffer b = ByteBuffer.allocate(Math.multiplyExact(values.length, 4)).order(ByteOrder.LITTLE_ENDIAN);
        b.asFloatBuffer().put(values);
        return new Queries("f4", shape.clone(), b.array());
    }

    /**
     * Byte (uint8) queries.
     *
     * @param values the elements, row-major
     * @param shape  the batch's shape, N first
     * @return the batch
     * @throws InvalidArgumentException if the sizes do not agree
     */
    public static Queries ofBytes(byte[] values, long... shape) {
        return new Queries("u1", shape.clone(), values);
    }

    /** @return N */
    public int size() {
        return Math.toIntExact(shape[0]);
    }

    /** @return one query's shape */
    public long[] sampleShape() {
        return Arrays.copyOfRange(shape, 1, shape.length);
    }

    /** @return bytes per query */
    public int sampleBytes() {
        return size() == 0 ? 0 : data.length / size();
    }

    /**
     * @param i a query
     * @return a copy of its bytes
     */
    public byte[] sample(int i) {
        int w = sampleBytes();
        return Arrays.copyOfRange(data, i * w, (i + 1) * w);
    }

    static int width(String dtype) {
        return "u1".equals(dtype) ? 1 : 4;
    }
}
