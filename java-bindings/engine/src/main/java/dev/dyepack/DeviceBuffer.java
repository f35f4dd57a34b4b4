package dev.dyepack;

import dev.dyepack.internal.DyePackNative;
import dev.dyepack.internal.RawPointer;
import dev.dyepack.internal.Status;
import java.nio.ByteBuffer;
import java.util.Objects;

/**
 * Device memory allocated by a CUDA {@link Engine}, for callers without their own CUDA allocator.
 * Owned by exactly one object: {@link #close()} frees it (a second close does nothing), and any use
 * after close throws. Close it before its engine.
 */
public final class DeviceBuffer implements AutoCloseable {
    private final Engine engine;
    private final long bytes;
    private long address;

    DeviceBuffer(Engine engine, long address, long bytes) {
        this.engine = engine;
        this.address = address;
        this.bytes = bytes;
    }

    /** @return the size in bytes */
    public long bytes() {
        return bytes;
    }

    /**
     * @return the device address
     * @throws IllegalStateException after close
     */
    public synchronized long address() {
        if (address == 0) {
            throw new IllegalStateException("device buffer is closed");
        }
        return address;
    }

    /**
     * Copies the remaining bytes of a direct buffer to the start of this device buffer.
     *
     * @param src a direct buffer with at most {@link #bytes()} remaining; its position is not changed
     * @throws InvalidArgumentException if it is not direct or too large
     * @throws CudaException if the copy fails
     */
    public void copyFrom(ByteBuffer src) {
        checkHost(src);
        engine.withHandle(h -> Status.check(DyePackNative.dp_memcpy(h, new RawPointer(address()),
                new RawPointer(RawPointer.addressOf(src, 1)), src.remaining(), DyePackNative.DP_COPY_HOST_TO_DEVICE)));
    }

    /**
     * Copies the start of this device buffer into the remaining bytes of a direct buffer.
     *
     * @param dst a direct buffer with at most {@link #bytes()} remaining; its position is not changed
     * @throws InvalidArgumentException if it is not direct or too large
     * @throws CudaException if the copy fails
     */
    public void copyTo(ByteBuffer dst) {
        checkHost(dst);
        engine.withHandle(h -> Status.check(DyePackNative.dp_memcpy(h, new RawPointer(RawPointer.addressOf(dst, 1)),
                new RawPointer(address()), dst.remaining(), DyePackNative.DP_COPY_DEVICE_TO_HOST)));
    }

    private void checkHost(ByteBuffer b) {
        Objects.requireNonNull(b, "buffer");
        if (!b.isDirect()) {
            throw new InvalidArgumentException("host buffer must be direct");
        }
        if (b.remaining() > bytes) {
            throw new InvalidArgumentException("host buffer has " + b.remaining() + " bytes, device buffer " + bytes);
        }
    }

    /** Frees the device memory; a second call does nothing. */
    @Override
    public synchronized void close() {
        long a = address;
        address = 0;
        if (a != 0 && !engine.isClosed()) {
            engine.withHandle(h -> Status.check(DyePackNative.dp_device_free(h, new RawPointer(a))));
        }
    }
}
