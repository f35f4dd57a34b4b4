package dev.dyepack.internal;

import java.nio.Buffer;
import org.bytedeco.javacpp.Pointer;

/**
 * A JavaCPP pointer to an absolute address, with position 0, so that whatever JavaCPP does with
 * positions, the native side receives exactly this address. It owns nothing.
 */
public final class RawPointer extends Pointer {
    /** @param address an absolute address (host or device) */
    public RawPointer(long address) {
        super((Pointer) null);
        this.address = address;
    }

    /**
     * The address of a direct buffer's first remaining element.
     *
     * @param buffer a direct buffer
     * @param elementBytes bytes per element of the buffer's type
     * @return base address plus position
     */
    public static long addressOf(Buffer buffer, int elementBytes) {
        try (Pointer base = new Pointer(buffer)) {
            return base.address() + (long) buffer.position() * elementBytes;
        }
    }
}
