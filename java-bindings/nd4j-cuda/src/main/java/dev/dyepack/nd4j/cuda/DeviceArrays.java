package dev.dyepack.nd4j.cuda;

import org.nd4j.jita.allocator.impl.AllocationPoint;
import org.nd4j.jita.allocator.impl.AtomicAllocator;
import org.nd4j.linalg.api.buffer.DataBuffer;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.jcublas.context.CudaContext;
import org.bytedeco.javacpp.Pointer;

/**
 * The only class that touches ND4J's CUDA allocator, so that nothing of {@code nd4j-cuda} is loaded
 * before {@link Nd4jCudaEngine} has checked that ND4J runs on it.
 */
final class DeviceArrays {
    private DeviceArrays() {}

    /** A device copy made current, on the calling thread's ND4J context, and that context's stream. */
    record Current(long deviceAddress, long stream) {}

    /**
     * Makes the array's device copy current (ND4J copies the host copy over on its stream when the host
     * was written last) and returns its address (the view's offset included) with ND4J's stream of
     * this thread, on which that copy was queued.
     */
    static Current current(INDArray array) {
        AtomicAllocator allocator = AtomicAllocator.getInstance();
        CudaContext context = allocator.getDeviceContext();
        Pointer p = allocator.getPointer(array, context);
        long address = p == null ? 0 : p.address() + p.position() * p.sizeof();
        return new Current(address, context.getOldStream().address());
    }

    /**
     * Marks the device copy as the newest, for the array's buffer and, for a view, the buffer it views:
     * ND4J then copies device to host before the next host read ({@code synchronizeHostData}), and
     * never host to device over the engine's result.
     */
    static void deviceWritten(INDArray array) {
        AtomicAllocator allocator = AtomicAllocator.getInstance();
        allocator.tickDeviceWrite(array);
        DataBuffer original = array.data().originalDataBuffer();
        if (original != null && original != array.data()) {
            AllocationPoint point = allocator.getAllocationPoint(original);
            if (point != null) {
                point.tickDeviceWrite();
            }
        }
    }
}
