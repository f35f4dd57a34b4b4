package dev.dyepack.trigger;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.dyepack.Backend;
import dev.dyepack.DType;
import dev.dyepack.Engine;
import dev.dyepack.InvalidArgumentException;
import dev.dyepack.Layout;
import dev.dyepack.Tensor;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class PatchTriggerTest {

    @Test
    void parsesAndPrintsCanonically() {
        TriggerSpec t = TriggerSpec.parse("patch:size=4,pos=tl,value=0");
        assertEquals(new PatchTrigger(4, PatchTrigger.Position.TL, 0f), t);
        assertEquals("patch:size=4,pos=tl,value=0", t.toString());
        assertEquals(t, TriggerSpec.parse(t.toString()));
        assertEquals(PatchTrigger.DEFAULT, TriggerSpec.parse("patch"));
        assertEquals("patch:size=3,pos=br,value=255", TriggerSpec.parse(" PATCH : pos=BR ").toString());
        assertEquals("patch:size=2,pos=center,value=0.5", TriggerSpec.parse("patch:size=2,pos=center,value=0.5").toString());
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "blob:size=3|unknown trigger family 'blob'",
        "patch:colour=3|unknown field 'colour'",
        "patch:size=0|size must be an integer in [1, 1048576], got '0'",
        "patch:size=x|size must be an integer in [1,",
        "patch:pos=middle|pos must be one of br, bl, tr, tl, center, at, random, got 'middle'",
        "patch:value=NaN|finite",
        "patch:value=abc|value must be a finite number, got 'abc'",
        "patch:size=3,size=4|given twice",
        "patch:size|expected key=value",
        "'  '|empty trigger spec"})
    void rejectsBadSpecsNamingTheField(String spec, String fragment) {
        InvalidArgumentException e = assertThrows(InvalidArgumentException.class, () -> TriggerSpec.parse(spec));
        assertTrue(e.getMessage().contains(fragment), e.getMessage());
    }

    @Test
    void refusesPatchesThatDoNotFit() {
        TriggerSpec big = TriggerSpec.parse("patch:size=29");
        InvalidArgumentException e = assertThrows(InvalidArgumentException.class,
                () -> big.validateFor(Tensor.empty(DType.UINT8, Layout.NHWC, 1, 28, 28)));
        assertTrue(e.getMessage().contains("larger than the 28x28 image"), e.getMessage());
        TriggerSpec bright = TriggerSpec.parse("patch:value=256");
        e = assertThrows(InvalidArgumentException.class,
                () -> bright.validateFor(Tensor.empty(DType.UINT8, Layout.NHWC, 1, 28, 28)));
        assertTrue(e.getMessage().contains("uint8 range"), e.getMessage());
        bright.validateFor(Tensor.empty(DType.FLOAT32, Layout.NHWC, 1, 28, 28)); // fine for float data
    }

    /** Independent reference: is pixel (y, x) inside the square for this position? */
    private static boolean inside(String pos, int size, int y, int x, int h, int w) {
        int top = switch (pos) {
            case "tl", "tr" -> 0;
            case "bl", "br" -> h - size;
            default -> (h - size) / 2;
        };
        int left = switch (pos) {
            case "tl", "bl" -> 0;
            case "tr", "br" -> w - size;
            default -> (w - size) / 2;
        };
        return y >= top && y < top + size && x >= left && x < left + size;
    }

    @ParameterizedTest
    @CsvSource({"br,3,NHWC", "bl,1,NCHW", "tr,5,NHWC", "tl,2,NCHW", "center,4,NHWC", "center,3,NCHW", "br,37,NCHW"})
    void stampsExactlyTheSquareInEveryChannel(String pos, int size, Layout layout) {
        int n = 3;
        int c = 3;
        int h = 37;
        int w = 41;
        byte[] data = new byte[n * c * h * w];
        new Random(size).nextBytes(data);
        ByteBuffer buf = ByteBuffer.allocateDirect(data.length).put(data).flip();
        try (Engine engine = Engine.open(Backend.CPU)) {
            TriggerSpec.parse("patch:size=" + size + ",pos=" + pos + ",value=200").apply(engine,
                    Tensor.of(buf, layout, n, c, h, w), new long[] {2, 0});
        }
        for (int s = 0; s < n; s++) {
            for (int ch = 0; ch < c; ch++) {
                for (int y = 0; y < h; y++) {
                    for (int x = 0; x < w; x++) {
                        int at = s * c * h * w + (layout == Layout.NHWC ? (y * w + x) * c + ch : (ch * h + y) * w + x);
                        boolean stamped = s != 1 && inside(pos, size, y, x, h, w);
                        int expected = stamped ? 200 : data[at] & 0xff;
                        assertEquals(expected, buf.get(at) & 0xff, "sample " + s + " c" + ch + " y" + y + " x" + x);
                    }
                }
            }
        }
    }

    @Test
    void float32PatchWritesTheExactValue() {
        float[] data = {0.25f, -3f, 7.5f, 1e6f};
        FloatBuffer buf = ByteBuffer.allocateDirect(16).order(ByteOrder.nativeOrder()).asFloatBuffer().put(data).flip();
        try (Engine engine = Engine.open(Backend.CPU)) {
            TriggerSpec.parse("patch:size=1,pos=tr,value=-0.125").apply(engine, Tensor.of(buf, Layout.NHWC, 1, 1, 2, 2),
                    null);
        }
        float[] got = new float[4];
        buf.get(got);
        assertArrayEquals(new float[] {0.25f, -0.125f, 7.5f, 1e6f}, got);
    }
}
