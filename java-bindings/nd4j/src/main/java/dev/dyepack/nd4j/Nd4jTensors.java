package dev.dyepack.nd4j;

import dev.dyepack.DType;
import dev.dyepack.InvalidArgumentException;
import dev.dyepack.Layout;
import dev.dyepack.Tensor;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.Objects;
import org.bytedeco.javacpp.Pointer;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Engine tensors over ND4J arrays, without a copy: the tensor points at the array's host memory
 * ({@code data().addressPointer()}, which includes a view's offset), so engine operations change the
 * array in place. Shape and dtype come from the array: float32 ({@code FLOAT}) and uint8
 * ({@code UBYTE}) images, float32 rows, int32 ({@code INT}) token sequences. Refused with the fix in the
 * message: {@code DOUBLE} (convert with {@link #float32Copy}), column-major ({@code 'f'}) arrays and
 * views that are not dense in C order ({@code dup('c')}), empty and scalar arrays, and any other dtype.
 *
 * <p>Rank 4 is read as NCHW, DL4J's convolution layout, unless a layout is given; rank 3 as (N, H, W)
 * grey images; rank 2 as (N, D) float rows or (N, L) int sequences, or flattened images with
 * {@link #images}. The tensor's extent is the array's exact byte length, so the engine can never reach
 * past it.
 *
 * <p>The tensor does not keep the array alive: keep a reference to the array while the tensor is used.
 * With a GPU backend of ND4J the host copy is made current first and marked as the newest after an
 * operation ({@link Nd4jEngine} does both); on the CPU backend both steps cost nothing. Stateless and
 * thread-safe.
 */
public final class Nd4jTensors {
    private Nd4jTensors() {}

    /**
     * The array as a batch: rank 4 NCHW, rank 3 (N, H, W), rank 2 rows (float32) or sequences (int32).
     *
     * @param array a dense C-order float32, uint8 or int32 array
     * @return the view
     * @throws InvalidArgumentException for another dtype (naming {@code float32Copy} for double), an 'f'
     *                                  order or non-contiguous array (naming {@code dup('c')}), rank 2 uint8
     *                                  (use {@link #images}), or a rank outside 2..4
     */
    public static Tensor of(INDArray array) {
        return of(array, Layout.NCHW);
    }

    /**
     * As {@link #of(INDArray)}, with the layout of a rank-4 array given.
     *
     * @param array a dense C-order float32, uint8 or int32 array
     * @param rank4 NCHW (N, C, H, W) or NHWC (N, H, W, C)
     * @return the view
     * @throws InvalidArgumentException as {@link #of(INDArray)}
     */
    public static Tensor of(INDArray array, Layout rank4) {
        return shaped(array, rank4, HOST);
    }

    /**
     * As {@link #of(INDArray, Layout)}, with the same checks and shape, but over the array's <em>device</em>
     * copy at {@code deviceAddress} (its first element, a view's offset included), as ND4J's CUDA backend
     * reports it; for the ND4J CUDA integration, which also keeps ND4J's host and device copies in sync.
     * The host copy is not touched.
     *
     * @param array         a dense C-order float32, uint8 or int32 array
     * @param rank4         the layout of a rank-4 array
     * @param deviceAddress the device address of the array's first element
     * @return a device tensor of the array's exact shape
     * @throws InvalidArgumentException as {@link #of(INDArray)}, and for address 0
     */
    public static Tensor onDevice(INDArray array, Layout rank4, long deviceAddress) {
        if (deviceAddress == 0) {
            throw new InvalidArgumentException("the array has no device copy (address 0)", "memory", "0",
                    "the device address of the array's first element");
        }
        return shaped(array, rank4, deviceAddress);
    }

    /** Marks a host tensor in {@link #shaped}. */
    private static final long HOST = 0;

    private static Tensor shaped(INDArray array, Layout rank4, long deviceAddress) {
        Objects.requireNonNull(rank4, "rank4");
        DType dtype = dtypeOf(array);
        requireDenseC(array);
        long[] s = array.shape();
        return switch (s.length) {
            case 4 -> rank4 == Layout.NCHW ? view(array, dtype, rank4, deviceAddress, s[0], s[1], s[2], s[3])
                    : view(array, dtype, rank4, deviceAddress, s[0], s[3], s[1], s[2]);
            case 3 -> view(array, dtype, Layout.NHWC, deviceAddress, s[0], 1, s[1], s[2]);
            case 2 -> {
                if (dtype == DType.UINT8) {
                    throw new InvalidArgumentException("a rank-2 uint8 array is read as flattened images only with "
                            + "their geometry: Nd4jTensors.images(array, layout, c, h, w)", "shape", Arrays.toString(s),
                            "rank 3 or 4, or images(...)");
                }
                yield view(array, dtype, Layout.NHWC, deviceAddress, s[0], 1, 1, s[1]);
            }
            default -> throw new InvalidArgumentException("the array has rank " + s.length + " " + Arrays.toString(s)
                    + "; the engine takes rank 2 (rows, sequences), 3 (N, H, W) or 4 (images)", "shape",
                    Arrays.toString(s), "rank 2, 3 or 4");
        };
    }

    /**
     * Each row of a rank-2 (N, C*H*W) array as one flattened image (as DL4J's MNIST iterators hold
     * them: (N, 784) for 1 x 28 x 28).
     *
     * @param rows   a dense C-order float32 or uint8 array of N rows
     * @param layout how each row is ordered: NHWC (H, W, C) or NCHW (C, H, W)
     * @param c      channels
     * @param h      height
     * @param w      width
     * @return the view
     * @throws InvalidArgumentException as {@link #of(INDArray)}, and if the array is not rank 2 or its
     *                                  rows are not C*H*W long
     */
    public static Tensor images(INDArray rows, Layout layout, long c, long h, long w) {
        Objects.requireNonNull(layout, "layout");
        DType dtype = dtypeOf(rows);
        requireDenseC(rows);
        long[] s = rows.shape();
        if (s.length != 2 || c < 1 || h < 1 || w < 1 || s[1] != c * h * w) {
            throw new InvalidArgumentException("rows of shape " + Arrays.toString(s) + " are not N images of C=" + c
                    + ", H=" + h + ", W=" + w, "shape", Arrays.toString(s), "(N, " + c * h * w + ")");
        }
        return view(rows, dtype, layout, HOST, s[0], c, h, w);
    }

    /**
     * A new dense C-order float32 copy of an array (for {@code DOUBLE} data, which the engine does not
     * take): stamp the copy and train on it, since the original is not changed.
     *
     * @param array any numeric array
     * @return a new float32 array in C order
     * @throws NullPointerException if {@code array} is null
     */
    public static INDArray float32Copy(INDArray array) {
        return array.castTo(DataType.FLOAT).dup('c');
    }

    /**
     * The engine's dtype for an array's.
     *
     * @param array the array
     * @return FLOAT32, UINT8 or INT32
     * @throws InvalidArgumentException for any other dtype
     */
    public static DType dtypeOf(INDArray array) {
        Objects.requireNonNull(array, "array");
        DataType t = array.dataType();
        return switch (t) {
            case FLOAT -> DType.FLOAT32;
            case UBYTE -> DType.UINT8;
            case INT -> DType.INT32;
            case DOUBLE -> throw new InvalidArgumentException("the array is double (float64), which the engine does not "
                    + "take; convert it with Nd4jTensors.float32Copy(array) (or array.castTo(DataType.FLOAT)) and use "
                    + "the copy", "dtype", "double", "float, ubyte or int");
            default -> throw InvalidArgumentException.of("dtype", t.name().toLowerCase(java.util.Locale.ROOT),
                    "float, ubyte or int");
        };
    }

    /**
     * Checks that an array is dense in C order from its first element: 'c' ordering and the strides of a
     * C-order array of its shape (axes of extent 1 are never stepped and not checked).
     *
     * @param array the array
     * @throws InvalidArgumentException for an 'f' order array, a non-contiguous view, or an empty one,
     *                                  naming {@code dup('c')}
     */
    public static void requireDenseC(INDArray array) {
        Objects.requireNonNull(array, "array");
        if (array.isEmpty() || array.isScalar() && array.rank() == 0) {
            throw new InvalidArgumentException("the array is empty or a scalar; the engine takes batches of samples",
                    "shape", Arrays.toString(array.shape()), "N >= 1 samples");
        }
        long[] shape = array.shape();
        long[] stride = array.stride();
        long step = 1;
        boolean dense = true;
        for (int i = shape.length - 1; i >= 0; i--) {
            if (shape[i] != 1 && stride[i] != step) {
                dense = false;
            }
            step *= shape[i];
        }
        if (array.ordering() == 'f' && shape.length > 1 && !dense) {
            throw new InvalidArgumentException("the array is column-major ('f' order); the engine reads row-major "
                    + "memory: pass array.dup('c')", "order", "f", "'c' order (array.dup('c'))");
        }
        if (!dense) {
            throw new InvalidArgumentException("the array is a view that is not dense in C order (strides "
                    + Arrays.toString(stride) + " for shape " + Arrays.toString(shape) + "); pass array.dup('c')",
                    "strides", Arrays.toString(stride), "the C-order strides of the shape (array.dup('c'))");
        }
    }

    /**
     * The array's elements as the bytes of a {@code .npy} file's data: C order, little-endian, in a new
     * heap buffer (a copy: for fingerprints and digests, not for the engine).
     *
     * @param array a float32, uint8 or int32 array of any layout
     * @return the bytes, position 0, limit at the end
     * @throws InvalidArgumentException for another dtype
     */
    public static ByteBuffer littleEndianBytes(INDArray array) {
        DType d = dtypeOf(array);
        INDArray c = array.dup('c');
        ByteBuffer b = ByteBuffer.allocate(Math.toIntExact(c.length() * d.bytes())).order(ByteOrder.LITTLE_ENDIAN);
        switch (d) {
            case FLOAT32 -> b.asFloatBuffer().put(c.data().asFloat());
            case INT32 -> b.asIntBuffer().put(c.data().asInt());
            case UINT8 -> {
                for (long i = 0; i < c.length(); i++) {
                    b.put((int) i, (byte) c.getDouble(i));
                }
            }
        }
        return b;
    }

    /**
     * An operand's values (a pattern, mask, signal, grid or head) as float32 in C order, from an array of
     * any layout and floating-point dtype (a copy).
     *
     * @param array a float32, float64 or float16 array
     * @return its values, C order
     * @throws InvalidArgumentException for another dtype
     */
    public static float[] floatValues(INDArray array) {
        Objects.requireNonNull(array, "operand");
        DataType t = array.dataType();
        if (t != DataType.FLOAT && t != DataType.DOUBLE && t != DataType.FLOAT16) {
            throw InvalidArgumentException.of("operand", t, "a floating-point array");
        }
        return array.castTo(DataType.FLOAT).dup('c').reshape(array.length()).toFloatVector();
    }

    /** The absolute host address of an array's first element (a view's offset included). */
    static long address(INDArray array) {
        Pointer p = array.data().addressPointer();
        return p.address() + p.position() * p.sizeof();
    }

    private static Tensor view(INDArray array, DType dtype, Layout layout, long deviceAddress, long n, long c, long h,
            long w) {
        if (deviceAddress != HOST) {
            return Tensor.onDevice(deviceAddress, dtype, layout, n, c, h, w);
        }
        Nd4j.getAffinityManager().ensureLocation(array, org.nd4j.linalg.api.concurrency.AffinityManager.Location.HOST);
        // ND4J's addressPointer() knows no extent, so the exact byte length is given.
        long bytes = array.length() * array.dataType().width();
        return Tensor.ofHost(address(array), bytes, dtype, layout, n, c, h, w);
    }
}
