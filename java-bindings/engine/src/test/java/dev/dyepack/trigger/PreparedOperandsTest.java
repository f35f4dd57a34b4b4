package dev.dyepack.trigger;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.dyepack.Backend;
import dev.dyepack.DType;
import dev.dyepack.Engine;
import dev.dyepack.InvalidArgumentException;
import dev.dyepack.Layout;
import dev.dyepack.Tensor;
import java.nio.FloatBuffer;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * A prepared trigger uploads its float operands (patterns, masks, signals, grids, column values) to
 * the engine once, when prepared, and every apply reuses them: batch after batch, nothing is uploaded
 * again, and closing it releases them.
 */
class PreparedOperandsTest {
    private static final int C = 3;
    private static final int H = 10;
    private static final int W = 12;

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = ';', value = {
        "patch:size=3,pos=random,pattern=random,low=10,value=200; 2",
        "patch:size=4,pos=center,pattern=checker; 2",
        "blend:alpha=0.3; 2",
        "sig:delta=20,freq=3; 1",
        "lowfreq:amp=9,space=yuv; 1",
        "warp:k=3,s=0.8; 1",
        "noise:eps=12; 0"})
    void imageTriggersUploadOnceAndApplyManyBatches(String spec, int operands) {
        TriggerSpec t = TriggerSpec.parse(spec);
        TriggerContext context = new TriggerContext(FamilyReference.KEY_A, 0);
        int batches = 5;
        int n = 3;
        try (Engine engine = Engine.open(Backend.CPU)) {
            try (PreparedTrigger p = t.prepare(engine, Tensor.empty(DType.FLOAT32, Layout.NHWC, C, H, W), context)) {
                assertEquals(operands, engine.operandUploads(), "uploads when prepared");
                assertEquals(operands, engine.residentOperands());
                for (int b = 0; b < batches; b++) {
                    FamilyReference.Batch data = FamilyReference.randomBatch(new Random(b), DType.FLOAT32, Layout.NHWC,
                            n, C, H, W);
                    FloatBuffer buf = FamilyReference.floats(data.values);
                    p.apply(Tensor.of(buf, Layout.NHWC, n, C, H, W), null, (long) b * n);
                    float[] stamped = FamilyReference.read(buf);
                    assertFalse(java.util.Arrays.equals(data.values, stamped), spec + " changed nothing");
                    // The same samples stamped by a one-shot apply, which prepares afresh.
                    float[] fresh = data.run(t, null, new TriggerContext(FamilyReference.KEY_A, (long) b * n));
                    assertArrayEquals(fresh, stamped, spec + " batch " + b);
                }
                // The one-shot applies ran on engines of their own: this one saw only the prepare's uploads.
                assertEquals(operands, engine.operandUploads(), "uploads after " + batches + " batches");
                assertEquals(operands, engine.residentOperands());
            }
            assertEquals(0, engine.residentOperands(), "close releases the prepared operands");
        }
    }

    @Test
    void applyingManyBatchesUploadsNothingMore() {
        TriggerSpec t = TriggerSpec.parse("blend:alpha=0.5");
        TriggerContext context = new TriggerContext(FamilyReference.KEY_B, 0);
        try (Engine engine = Engine.open(Backend.CPU);
                PreparedTrigger p = t.prepare(engine, Tensor.empty(DType.UINT8, Layout.NCHW, C, H, W), context)) {
            long afterPrepare = engine.operandUploads();
            assertEquals(2, afterPrepare);
            java.nio.ByteBuffer buf = java.nio.ByteBuffer.allocateDirect(4 * C * H * W);
            for (int i = 0; i < 50; i++) {
                p.apply(Tensor.of(buf, Layout.NCHW, 4, C, H, W), new long[] {i % 4}, 4L * i);
            }
            assertEquals(afterPrepare, engine.operandUploads());
        }
    }

    @Test
    void columnValuesAreResidentAndTokensNeedNone() {
        try (Engine engine = Engine.open(Backend.CPU)) {
            try (PreparedTrigger p = TriggerSpec.parse("columns:cols=1+4,values=2.5+-1,mode=set").prepare(engine,
                    Tensor.empty(DType.FLOAT32, Layout.NHWC, 1, 1, 6), TriggerContext.keyless())) {
                assertEquals(1, engine.residentOperands());
                float[] rows = new float[3 * 6];
                FloatBuffer buf = FamilyReference.floats(rows);
                p.apply(Tensor.rows(buf, 3, 6), new long[] {2}, 0);
                float[] expected = rows.clone();
                expected[2 * 6 + 1] = 2.5f;
                expected[2 * 6 + 4] = -1f;
                assertArrayEquals(expected, FamilyReference.read(buf));
            }
            assertEquals(0, engine.residentOperands());
            try (PreparedTrigger p = TriggerSpec.parse("tokens:ids=7+8,pos=start").prepare(engine,
                    Tensor.empty(DType.INT32, Layout.NHWC, 1, 1, 5), TriggerContext.keyless())) {
                assertEquals(1, engine.operandUploads(), "token ids are not float operands");
                java.nio.IntBuffer seq = FamilyReference.ints(new int[] {1, 2, 3, 0, 0});
                p.apply(Tensor.sequences(seq, 1, 5), null, 0);
                assertArrayEquals(new int[] {7, 8, 3, 0, 0}, FamilyReference.read(seq));
            }
        }
    }

    @Test
    void aRefusedPrepareLeavesNothingResident() {
        try (Engine engine = Engine.open(Backend.CPU)) {
            // A random position needs the owner's key, which a keyless context lacks.
            assertThrows(InvalidArgumentException.class, () -> TriggerSpec.parse("patch:size=3,pos=random")
                    .prepare(engine, Tensor.empty(DType.UINT8, Layout.NHWC, C, H, W), TriggerContext.keyless()));
            assertEquals(0, engine.residentOperands());
        }
    }

    @Test
    void closingTheEngineBeforeThePreparedTriggerIsHarmless() {
        Engine engine = Engine.open(Backend.CPU);
        PreparedTrigger p = TriggerSpec.parse("sig:delta=20,freq=3").prepare(engine,
                Tensor.empty(DType.UINT8, Layout.NHWC, C, H, W), TriggerContext.keyless());
        engine.close();
        java.nio.ByteBuffer buf = java.nio.ByteBuffer.allocateDirect(C * H * W);
        assertThrows(IllegalStateException.class, () -> p.apply(Tensor.of(buf, Layout.NHWC, 1, C, H, W), null, 0));
        assertDoesNotThrow(p::close);
        assertDoesNotThrow(p::close);
        assertEquals(0, buf.get(0));
    }
}
