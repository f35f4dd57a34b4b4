package dev.dyepack.nd4j.cuda;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.dyepack.Backend;
import dev.dyepack.CudaStatus;
import dev.dyepack.Engine;
import dev.dyepack.InvalidArgumentException;
import dev.dyepack.Layout;
import dev.dyepack.Tensor;
import dev.dyepack.key.OwnerKey;
import dev.dyepack.nd4j.Nd4jEngine;
import dev.dyepack.trigger.TriggerContext;
import dev.dyepack.trigger.TriggerSpec;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Random;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

/**
 * ND4J arrays in device memory stamped by the CUDA engine on ND4J's stream, against the CPU engine on a
 * direct buffer with the same values, bit for bit; and ND4J's host/device copies: an ND4J op queued just
 * before is seen, the result is seen by the host and by ND4J ops after. Skipped (never passed) unless a
 * device answers and ND4J runs on its CUDA backend (nd4j-cuda-11.6 with its natives, a driver for CUDA
 * 11.6 or newer; see docs/integrations.md).
 */
@Tag("gpu")
@SuppressWarnings("deprecation") // ND4J 1.0.0-M2.1 deprecates rand(type, order, ...)
class GpuNd4jCudaTest {
    private static final OwnerKey KEY = new OwnerKey("nd4j cuda test key, thirty-two b".getBytes(
            StandardCharsets.UTF_8));

    @BeforeAll
    static void needsDeviceAndNd4jCuda() {
        CudaStatus cuda = CudaStatus.query();
        assumeTrue(cuda.available(), "no usable GPU: " + cuda.reason());
        boolean onCuda;
        try {
            onCuda = Nd4jCudaEngine.nd4jOnCuda();
        } catch (Throwable e) {
            onCuda = false;
        }
        assumeTrue(onCuda, "ND4J does not run on its CUDA backend here (nd4j-cuda-11.6 and its natives are not on "
                + "the class path, or its CUDA 11.6 runtime cannot load)");
    }

    private static float[] values(long seed, int n) {
        Random r = new Random(seed);
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = 255 * r.nextFloat();
        }
        return v;
    }

    private static FloatBuffer direct(float[] v) {
        FloatBuffer b = ByteBuffer.allocateDirect(v.length * 4).order(ByteOrder.nativeOrder()).asFloatBuffer();
        b.put(v).flip();
        return b;
    }

    @Test
    void triggersOnDeviceArraysMatchTheCpuAndTheHostSeesTheResult() {
        int n = 16;
        int c = 3;
        int h = 32;
        int w = 32;
        float[] clean = values(1, n * c * h * w);
        long[] indices = {15, 2, 9};
        for (String spec : new String[] {"patch:size=4,pattern=random,pos=random", "blend:alpha=0.2,pattern=noise",
                "warp:k=4,s=1", "noise:eps=5"}) {
            TriggerSpec t = TriggerSpec.parse(spec);
            TriggerContext ctx = new TriggerContext(KEY, 300);
            // The CPU reference sees x + 1, as the device array does after ND4J's own op.
            float[] shifted = clean.clone();
            for (int i = 0; i < shifted.length; i++) {
                shifted[i] += 1;
            }
            FloatBuffer want = direct(shifted);
            try (Engine cpu = Engine.open(Backend.CPU); Engine gpu = Engine.open(Backend.CUDA)) {
                t.apply(cpu, Tensor.of(want, Layout.NCHW, n, c, h, w), indices, ctx);
                INDArray x = Nd4j.createFromArray(clean).reshape('c', n, c, h, w);
                x.addi(1f); // an ND4J op on its stream, not waited for: the engine must run after it
                new Nd4jCudaEngine(gpu).apply(t, x, indices, ctx);
                assertEquals(0, gpu.stream());
                // An ND4J op right after, on the device: it must read the engine's result, not a stale copy.
                INDArray times1 = x.mul(1f);
                float[] got = x.data().asFloat(); // a host read: ND4J copies the device result back
                float[] expected = new float[shifted.length];
                want.get(expected);
                assertArrayEquals(expected, got, spec);
                assertArrayEquals(expected, times1.data().asFloat(), spec + ", ND4J op after the engine");
            }
        }
    }

    @Test
    void aViewIsStampedAtItsOffsetAndTheParentSeesIt() {
        float[] clean = values(2, 10 * 8 * 8);
        INDArray all = Nd4j.createFromArray(clean).reshape('c', 10, 1, 8, 8);
        INDArray view = all.get(NDArrayIndex.interval(4, 7), NDArrayIndex.all(), NDArrayIndex.all(),
                NDArrayIndex.all());
        try (Engine gpu = Engine.open(Backend.CUDA)) {
            new Nd4jCudaEngine(gpu).apply(TriggerSpec.parse("patch:size=2,pos=br,value=255"), view, new long[] {1},
                    TriggerContext.keyless());
        }
        float[] after = all.data().asFloat();
        for (int s = 0; s < 10; s++) {
            for (int y = 0; y < 8; y++) {
                for (int x = 0; x < 8; x++) {
                    int i = (s * 8 + y) * 8 + x;
                    boolean patched = s == 5 && y >= 6 && x >= 6;
                    assertEquals(patched ? 255f : clean[i], after[i], "sample " + s + " (" + y + ", " + x + ")");
                }
            }
        }
    }

    @Test
    void scoresOfDeviceFeaturesMatchTheHostPathAndBadArraysAreRefusedUntouched() {
        INDArray x = Nd4j.createFromArray(values(3, 50 * 7)).reshape('c', 50, 7);
        INDArray wt = Nd4j.createFromArray(values(4, 4 * 7)).reshape('c', 4, 7);
        INDArray b = Nd4j.createFromArray(new float[] {0, 1, -1, 0.5f});
        try (Engine cpu = Engine.open(Backend.CPU); Engine gpu = Engine.open(Backend.CUDA)) {
            Nd4jEngine.Scores want = new Nd4jEngine(cpu).scoreBoundary(x, wt, b, 1);
            Nd4jEngine.Scores got = new Nd4jCudaEngine(gpu).scoreBoundary(x, wt, b, 1);
            assertArrayEquals(want.predicted().toIntVector(), got.predicted().toIntVector());
            assertArrayEquals(want.distance().toFloatVector(), got.distance().toFloatVector());
            assertArrayEquals(want.targetDistance().toFloatVector(), got.targetDistance().toFloatVector());

            Nd4jCudaEngine nd = new Nd4jCudaEngine(gpu);
            INDArray dbl = Nd4j.rand(DataType.DOUBLE, 2, 1, 4, 4);
            INDArray before = dbl.dup();
            assertThrows(InvalidArgumentException.class, () -> nd.addSignal(dbl, Nd4j.ones(16), null));
            assertEquals(before, dbl);
            INDArray f = Nd4j.rand(DataType.FLOAT, 'f', 2, 1, 4, 4);
            INDArray fBefore = f.dup('f');
            assertThrows(InvalidArgumentException.class, () -> nd.addSignal(f, Nd4j.ones(16), null));
            assertEquals(fBefore, f);
            INDArray ok = Nd4j.rand(DataType.FLOAT, 2, 1, 4, 4);
            INDArray okBefore = ok.dup();
            assertThrows(InvalidArgumentException.class, () -> nd.addSignal(ok, Nd4j.ones(16), new long[] {2}));
            assertEquals(okBefore, ok);
        }
    }
}
