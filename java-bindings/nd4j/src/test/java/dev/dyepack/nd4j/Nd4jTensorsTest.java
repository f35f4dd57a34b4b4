package dev.dyepack.nd4j;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.dyepack.Engine;
import dev.dyepack.InvalidArgumentException;
import dev.dyepack.Layout;
import dev.dyepack.Tensor;
import dev.dyepack.trigger.TriggerContext;
import dev.dyepack.trigger.TriggerSpec;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

/** ND4J arrays in and out of the engine, on ND4J's CPU backend. */
@SuppressWarnings("deprecation") // ND4J 1.0.0-M2.1 deprecates the names UBYTE, LONG and rand(type, order, ...)
class Nd4jTensorsTest {
    private static Engine engine;

    @BeforeAll
    static void open() {
        engine = Engine.open();
    }

    @AfterAll
    static void close() {
        engine.close();
    }

    private static INDArray ramp(long... shape) {
        float[] v = new float[(int) (shape[0] * shape[1] * shape[2])];
        for (int i = 0; i < v.length; i++) {
            v[i] = i / 4000f;
        }
        return Nd4j.createFromArray(v).reshape('c', shape);
    }

    @Test
    void aPatchIsStampedInPlaceOnAViewWithAnOffsetAndNowhereElse() {
        INDArray all = ramp(10, 8, 8);
        float[] before = all.dup().data().asFloat();
        // Samples 4..6 of the array: a C-order view that starts 4 samples in.
        INDArray view = all.get(NDArrayIndex.interval(4, 7), NDArrayIndex.all(), NDArrayIndex.all());
        new Nd4jEngine(engine).apply(TriggerSpec.parse("patch:size=2,pos=br,value=1"), view, Layout.NCHW,
                new long[] {1}, TriggerContext.keyless());
        float[] after = all.data().asFloat();
        for (int s = 0; s < 10; s++) {
            for (int y = 0; y < 8; y++) {
                for (int x = 0; x < 8; x++) {
                    int i = (s * 8 + y) * 8 + x;
                    boolean patched = s == 5 && y >= 6 && x >= 6;
                    assertEquals(patched ? 1f : before[i], after[i], "sample " + s + " (" + y + ", " + x + ")");
                }
            }
        }
    }

    @Test
    void theTensorTakesShapeDtypeAndExactExtentFromTheArray() {
        Tensor t = Nd4jTensors.of(Nd4j.create(DataType.FLOAT, 3, 2, 5, 7));
        assertEquals(Layout.NCHW, t.layout());
        assertEquals(3, t.n());
        assertEquals(2, t.c());
        assertEquals(5, t.h());
        assertEquals(7, t.w());
        assertEquals(3 * 2 * 5 * 7 * 4, t.bytes());
        Tensor u = Nd4jTensors.of(Nd4j.create(DataType.UBYTE, 3, 5, 7, 2), Layout.NHWC);
        assertEquals(2, u.c());
        assertEquals(dev.dyepack.DType.UINT8, u.dtype());
        Tensor rows = Nd4jTensors.images(Nd4j.create(DataType.FLOAT, 4, 784), Layout.NCHW, 1, 28, 28);
        assertEquals(28, rows.h());
    }

    @Test
    void unusableArraysAreRefusedWithTheFixAndLeftAlone() {
        INDArray d = Nd4j.rand(DataType.DOUBLE, 2, 1, 4, 4);
        INDArray d0 = d.dup();
        InvalidArgumentException e = assertThrows(InvalidArgumentException.class, () -> Nd4jTensors.of(d));
        assertTrue(e.getMessage().contains("float32Copy"), e.getMessage());
        assertEquals(d0, d);
        assertEquals(DataType.FLOAT, Nd4jTensors.float32Copy(d).dataType());

        INDArray f = Nd4j.rand(DataType.FLOAT, 'f', 2, 1, 4, 4);
        e = assertThrows(InvalidArgumentException.class, () -> Nd4jTensors.of(f));
        assertTrue(e.getMessage().contains("dup('c')") && e.getMessage().contains("'f'"), e.getMessage());

        INDArray columns = Nd4j.rand(DataType.FLOAT, 2, 1, 4, 4).get(NDArrayIndex.all(), NDArrayIndex.all(),
                NDArrayIndex.all(), NDArrayIndex.interval(0, 2));
        e = assertThrows(InvalidArgumentException.class, () -> Nd4jTensors.of(columns));
        assertTrue(e.getMessage().contains("dup('c')"), e.getMessage());

        e = assertThrows(InvalidArgumentException.class, () -> Nd4jTensors.of(Nd4j.create(DataType.UBYTE, 2, 784)));
        assertTrue(e.getMessage().contains("images("), e.getMessage());
        e = assertThrows(InvalidArgumentException.class,
                () -> Nd4jTensors.images(Nd4j.create(DataType.FLOAT, 2, 784), Layout.NCHW, 1, 28, 27));
        assertTrue(e.getMessage().contains("not N images"), e.getMessage());
        e = assertThrows(InvalidArgumentException.class, () -> Nd4jTensors.of(Nd4j.create(DataType.LONG, 2, 3)));
        assertTrue(e.getMessage().contains("float, ubyte or int"), e.getMessage());
    }

    @Test
    void boundaryScoresComeBackAsNd4jArraysAndMatchAHandComputation() {
        // Two classes, w0 = (1, 0), w1 = (0, 1), no bias: z = x; the boundary is x0 = x1 at distance
        // |x0 - x1| / sqrt(2).
        INDArray x = Nd4j.createFromArray(new float[][] {{3, 1}, {0, 2}, {1, 1.5f}});
        INDArray w = Nd4j.createFromArray(new float[][] {{1, 0}, {0, 1}});
        INDArray b = Nd4j.createFromArray(0f, 0f);
        Nd4jEngine.Scores s = new Nd4jEngine(engine).scoreBoundary(x, w, b, -1);
        assertArrayEquals(new int[] {0, 1, 1}, s.predicted().toIntVector());
        float r = (float) Math.sqrt(2);
        float[] expected = {2 / r, 2 / r, 0.5f / r};
        float[] got = s.distance().toFloatVector();
        for (int i = 0; i < 3; i++) {
            assertEquals(expected[i], got[i], 1e-6f);
        }
    }
}
