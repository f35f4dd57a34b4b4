package dev.dyepack.trigger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.dyepack.Backend;
import dev.dyepack.DType;
import dev.dyepack.Engine;
import dev.dyepack.InvalidArgumentException;
import dev.dyepack.Layout;
import dev.dyepack.Tensor;
import dev.dyepack.key.OwnerKey;
import java.awt.image.BufferedImage;
import java.awt.image.WritableRaster;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.IntBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.function.Executable;

/**
 * Independent reference arithmetic and test-data helpers for the trigger family tests. Nothing here
 * calls the main code's pattern, signal or grid helpers: every formula is re-derived from the Javadoc,
 * {@code docs/numerics.md} and {@code dyepack.h}.
 */
final class FamilyReference {
    private FamilyReference() {}

    // ---------------------------------------------------------------- keys and engine

    static OwnerKey key(String text) {
        return new OwnerKey(text.getBytes(StandardCharsets.UTF_8));
    }

    static final OwnerKey KEY_A = key("family test key A, long enough to be strong");
    static final OwnerKey KEY_B = key("family test key B, a different owner entirely");

    /** Applies a trigger on a fresh CPU engine. */
    static void apply(TriggerSpec t, Tensor batch, long[] indices, TriggerContext context) {
        try (Engine engine = Engine.open(Backend.CPU)) {
            t.apply(engine, batch, indices, context);
        }
    }

    // ---------------------------------------------------------------- the numeric rule (docs/numerics.md)

    /** Clamp to [0, 255] (NaN to 0), then round half to even. */
    static float toU8(float v) {
        if (!(v > 0f)) {
            return 0f;
        }
        if (v > 255f) {
            return 255f;
        }
        return (float) Math.rint(v);
    }

    /** The store rule of a dtype: uint8 rounds and clamps, float32 is stored as is. */
    static float store(DType dtype, float v) {
        return dtype == DType.UINT8 ? toU8(v) : v;
    }

    /** Mask blend: w == 0 leaves x, w == 1 gives p, else fma(w, p, (1 - w) * x) in float32. */
    static float blend(float x, float w, float p) {
        if (w == 0f) {
            return x;
        }
        if (w == 1f) {
            return p;
        }
        return Math.fma(w, p, (1f - w) * x);
    }

    /** lerp(a, b, f) = f == 0 ? a : fma(f, b, (1 - f) * a), in float32. */
    static float lerp(float a, float b, float f) {
        return f == 0f ? a : Math.fma(f, b, (1f - f) * a);
    }

    /** Element offset of (c, y, x) inside one C x H x W sample (dyepack.h's dp_tensor comment). */
    static int offset(Layout layout, int c, int y, int x, int channels, int height, int width) {
        return layout == Layout.NHWC ? (y * width + x) * channels + c : (c * height + y) * width + x;
    }

    // ---------------------------------------------------------------- image batches

    /** A batch of images held as floats (uint8 values 0..255), from which fresh tensors are made. */
    static final class Batch {
        final DType dtype;
        final Layout layout;
        final int n;
        final int c;
        final int h;
        final int w;
        final float[] values;

        Batch(DType dtype, Layout layout, int n, int c, int h, int w, float[] values) {
            this.dtype = dtype;
            this.layout = layout;
            this.n = n;
            this.c = c;
            this.h = h;
            this.w = w;
            this.values = values;
            if (values.length != n * c * h * w) {
                throw new IllegalArgumentException("values do not match the shape");
            }
        }

        int sampleElems() {
            return c * h * w;
        }

        /** Flat index of element (c, y, x) of sample s. */
        int at(int s, int ch, int y, int x) {
            return s * sampleElems() + offset(layout, ch, y, x, c, h, w);
        }

        /** The same batch with other values. */
        Batch with(float[] other) {
            return new Batch(dtype, layout, n, c, h, w, other);
        }

        /** Samples [from, to) as a batch of their own. */
        Batch slice(int from, int to) {
            float[] v = new float[(to - from) * sampleElems()];
            System.arraycopy(values, from * sampleElems(), v, 0, v.length);
            return new Batch(dtype, layout, to - from, c, h, w, v);
        }

        /** Stamps the trigger on a fresh copy in native memory and returns the result as floats. */
        float[] run(TriggerSpec t, long[] indices, TriggerContext context) {
            if (dtype == DType.UINT8) {
                ByteBuffer buf = ByteBuffer.allocateDirect(values.length);
                for (int i = 0; i < values.length; i++) {
                    buf.put(i, (byte) (int) values[i]);
                }
                apply(t, Tensor.of(buf, layout, n, c, h, w), indices, context);
                float[] out = new float[values.length];
                for (int i = 0; i < out.length; i++) {
                    out[i] = buf.get(i) & 0xff;
                }
                return out;
            }
            FloatBuffer buf = floats(values);
            apply(t, Tensor.of(buf, layout, n, c, h, w), indices, context);
            float[] out = new float[values.length];
            buf.get(0, out);
            return out;
        }

        @Override
        public String toString() {
            return dtype.label() + " " + layout + " N=" + n + " C=" + c + " H=" + h + " W=" + w;
        }
    }

    /** Random data: uint8 integers 0..255, float32 in [-50, 350). */
    static Batch randomBatch(Random rng, DType dtype, Layout layout, int n, int c, int h, int w) {
        float[] v = new float[n * c * h * w];
        for (int i = 0; i < v.length; i++) {
            v[i] = dtype == DType.UINT8 ? rng.nextInt(256) : rng.nextFloat() * 400f - 50f;
        }
        return new Batch(dtype, layout, n, c, h, w, v);
    }

    static Batch filled(DType dtype, Layout layout, int n, int c, int h, int w, float value) {
        float[] v = new float[n * c * h * w];
        java.util.Arrays.fill(v, value);
        return new Batch(dtype, layout, n, c, h, w, v);
    }

    /** Every other sample, in descending order (order must not matter), or null for all. */
    static long[] indices(int n, boolean all) {
        if (all) {
            return null;
        }
        List<Long> picked = new ArrayList<>();
        for (int i = n - 1; i >= 0; i -= 2) {
            picked.add((long) i);
        }
        return picked.stream().mapToLong(Long::longValue).toArray();
    }

    static boolean[] selected(int n, long[] indices) {
        boolean[] sel = new boolean[n];
        if (indices == null) {
            java.util.Arrays.fill(sel, true);
        } else {
            for (long i : indices) {
                sel[(int) i] = true;
            }
        }
        return sel;
    }

    // ---------------------------------------------------------------- buffers

    static FloatBuffer floats(float[] values) {
        FloatBuffer b = ByteBuffer.allocateDirect(values.length * 4).order(ByteOrder.nativeOrder()).asFloatBuffer();
        b.put(values).flip();
        return b;
    }

    static IntBuffer ints(int[] values) {
        IntBuffer b = ByteBuffer.allocateDirect(values.length * 4).order(ByteOrder.nativeOrder()).asIntBuffer();
        b.put(values).flip();
        return b;
    }

    static float[] read(FloatBuffer b) {
        float[] out = new float[b.remaining()];
        b.duplicate().get(out);
        return out;
    }

    static int[] read(IntBuffer b) {
        int[] out = new int[b.remaining()];
        b.duplicate().get(out);
        return out;
    }

    // ---------------------------------------------------------------- comparisons

    /** Bit-exact comparison, naming the first differing element by sample, channel, row and column. */
    static void assertExact(Batch b, float[] expected, float[] got, String what) {
        for (int i = 0; i < expected.length; i++) {
            if (Float.floatToIntBits(expected[i]) != Float.floatToIntBits(got[i])) {
                fail(what + " " + b + ": element " + describe(b, i) + " expected " + expected[i] + " got " + got[i]);
            }
        }
    }

    /** |got - expected| <= rel * max(1, |expected|) everywhere. */
    static void assertClose(Batch b, float[] expected, float[] got, double rel, String what) {
        for (int i = 0; i < expected.length; i++) {
            double tol = rel * Math.max(1.0, Math.abs(expected[i]));
            if (!(Math.abs((double) got[i] - expected[i]) <= tol)) {
                fail(what + " " + b + ": element " + describe(b, i) + " expected " + expected[i] + " got " + got[i]
                        + " (tolerance " + tol + ")");
            }
        }
    }

    static String describe(Batch b, int flat) {
        int s = flat / b.sampleElems();
        int e = flat % b.sampleElems();
        int ch;
        int y;
        int x;
        if (b.layout == Layout.NHWC) {
            ch = e % b.c;
            x = (e / b.c) % b.w;
            y = e / b.c / b.w;
        } else {
            x = e % b.w;
            y = (e / b.w) % b.h;
            ch = e / b.w / b.h;
        }
        return "[s" + s + " c" + ch + " y" + y + " x" + x + "]";
    }

    static InvalidArgumentException assertRefused(Executable call, String... fragments) {
        InvalidArgumentException e = assertThrows(InvalidArgumentException.class, call);
        for (String f : fragments) {
            assertTrue(e.getMessage().contains(f), "message '" + e.getMessage() + "' should contain '" + f + "'");
        }
        return e;
    }

    // ---------------------------------------------------------------- images on disk

    /** Writes an 8-bit RGBA PNG; pixel (y, x) is rgba[y][x] = {r, g, b, a}. */
    static Path writeRgbaPng(Path dir, String name, int[][][] rgba) throws IOException {
        int h = rgba.length;
        int w = rgba[0].length;
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_4BYTE_ABGR);
        WritableRaster r = img.getRaster();
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                r.setPixel(x, y, rgba[y][x]); // bands R, G, B, A
            }
        }
        Path file = dir.resolve(name);
        assertTrue(ImageIO.write(img, "png", file.toFile()), "no PNG writer");
        return file;
    }

    /** Writes an 8-bit RGB PNG (no alpha); pixel (y, x) is rgb[y][x] = {r, g, b}. */
    static Path writeRgbPng(Path dir, String name, int[][][] rgb) throws IOException {
        int h = rgb.length;
        int w = rgb[0].length;
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_3BYTE_BGR);
        WritableRaster r = img.getRaster();
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                r.setPixel(x, y, rgb[y][x]); // bands R, G, B
            }
        }
        Path file = dir.resolve(name);
        assertTrue(ImageIO.write(img, "png", file.toFile()), "no PNG writer");
        return file;
    }

    /** Random pixels: values 0..255 per band. */
    static int[][][] randomPixels(Random rng, int h, int w, int bands) {
        int[][][] px = new int[h][w][bands];
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                for (int b = 0; b < bands; b++) {
                    px[y][x][b] = rng.nextInt(256);
                }
            }
        }
        return px;
    }

    /**
     * A file pixel as the pattern value of channel c for data of C channels: R, G, B for 3; for 1 the
     * BT.601 luma 0.299f*R + 0.587f*G + 0.114f*B in float, left to right, but R when R = G = B.
     */
    static float pixelValue(int[] px, int c, int channels) {
        if (channels == 3) {
            return px[c];
        }
        if (px[0] == px[1] && px[1] == px[2]) {
            return px[0];
        }
        return 0.299f * px[0] + 0.587f * px[1] + 0.114f * px[2];
    }

    /**
     * Bilinear resize with half-pixel centres: source = (dst + 0.5) * src / dst - 0.5, clamped to
     * [0, src - 1], interpolated in double and rounded to float once. in[y][x] -> out[y][x].
     */
    static float[][] resize(float[][] in, int height, int width) {
        int sh = in.length;
        int sw = in[0].length;
        float[][] out = new float[height][width];
        for (int y = 0; y < height; y++) {
            double sy = Math.min(sh - 1, Math.max(0.0, (y + 0.5) * sh / height - 0.5));
            int y0 = (int) Math.floor(sy);
            int y1 = Math.min(y0 + 1, sh - 1);
            double ty = sy - y0;
            for (int x = 0; x < width; x++) {
                double sx = Math.min(sw - 1, Math.max(0.0, (x + 0.5) * sw / width - 0.5));
                int x0 = (int) Math.floor(sx);
                int x1 = Math.min(x0 + 1, sw - 1);
                double tx = sx - x0;
                double top = in[y0][x0] + tx * (in[y0][x1] - in[y0][x0]);
                double bottom = in[y1][x0] + tx * (in[y1][x1] - in[y1][x0]);
                out[y][x] = (float) (top + ty * (bottom - top));
            }
        }
        return out;
    }

    // ---------------------------------------------------------------- spec forms

    /** parse(toString()) equals the original, the canonical form is stable, the JSON is well formed. */
    static TriggerSpec assertRoundTrip(String spec, String family) {
        TriggerSpec t = TriggerSpec.parse(spec);
        assertEquals(family, t.family(), spec);
        String canonical = t.toString();
        assertTrue(canonical.startsWith(family), canonical);
        TriggerSpec back = TriggerSpec.parse(canonical);
        assertEquals(t, back, spec + " -> " + canonical);
        assertEquals(t.hashCode(), back.hashCode(), spec);
        assertEquals(canonical, back.toString(), "canonical form is stable for " + spec);
        if (t.patternImage().isPresent() && !java.nio.file.Files.isReadable(t.patternImage().get())) {
            // The manifest form records the picture's SHA-256, so a missing picture cannot be recorded.
            dev.dyepack.InvalidInputException e = assertThrows(dev.dyepack.InvalidInputException.class, t::toJson);
            assertTrue(e.getMessage().contains(t.patternImage().get().toString()), e.getMessage());
        } else {
            String json = t.toJson();
            new JsonCheck(json).document();
            assertTrue(json.contains("\"family\": \"" + family + "\""), json);
        }
        assertEquals(t.keyed(), back.keyed());
        return t;
    }

    /** An unknown field is refused, naming it and every allowed field. */
    static void assertUnknownFieldNamesAllowed(String family, String allowed) {
        InvalidArgumentException e = assertThrows(InvalidArgumentException.class,
                () -> TriggerSpec.parse(family + ":bogus=1"));
        assertTrue(e.getMessage().contains("unknown field 'bogus'"), e.getMessage());
        assertTrue(e.getMessage().contains("(allowed: " + allowed + ")"), e.getMessage());
    }

    /** A keyed family without a key is refused naming the key, in the library's terms (no command-line flag). */
    static void assertNeedsKey(TriggerSpec t, Tensor batch) {
        assertTrue(t.keyed(), t + " should be keyed");
        InvalidArgumentException e = assertThrows(InvalidArgumentException.class,
                () -> apply(t, batch, null, TriggerContext.keyless()));
        assertEquals(java.util.Optional.of(dev.dyepack.Parameters.KEY), e.parameter(), e.getMessage());
        assertTrue(e.getMessage().contains("owner's key") && !e.getMessage().contains("--"), e.getMessage());
    }

    /** A minimal recursive-descent JSON checker: throws an assertion error unless the text is one JSON value. */
    static final class JsonCheck {
        private final String s;
        private int i;

        JsonCheck(String s) {
            this.s = s;
        }

        void document() {
            ws();
            value();
            ws();
            if (i != s.length()) {
                fail("trailing text at " + i + " in " + s);
            }
        }

        private void value() {
            if (i >= s.length()) {
                fail("unexpected end of " + s);
            }
            char ch = s.charAt(i);
            if (ch == '{') {
                i++;
                ws();
                if (peek('}')) {
                    i++;
                    return;
                }
                do {
                    ws();
                    string();
                    ws();
                    expect(':');
                    ws();
                    value();
                    ws();
                } while (comma());
                expect('}');
            } else if (ch == '[') {
                i++;
                ws();
                if (peek(']')) {
                    i++;
                    return;
                }
                do {
                    ws();
                    value();
                    ws();
                } while (comma());
                expect(']');
            } else if (ch == '"') {
                string();
            } else if (s.startsWith("true", i) || s.startsWith("null", i)) {
                i += 4;
            } else if (s.startsWith("false", i)) {
                i += 5;
            } else {
                number();
            }
        }

        private void string() {
            expect('"');
            while (i < s.length() && s.charAt(i) != '"') {
                if (s.charAt(i) == '\\') {
                    i++;
                }
                if (s.charAt(i) < 0x20) {
                    fail("control character in a string of " + s);
                }
                i++;
            }
            expect('"');
        }

        private void number() {
            int start = i;
            if (peek('-')) {
                i++;
            }
            digits();
            if (peek('.')) {
                i++;
                digits();
            }
            if (peek('e') || peek('E')) {
                i++;
                if (peek('+') || peek('-')) {
                    i++;
                }
                digits();
            }
            assertFalse(i == start, "expected a value at " + start + " in " + s);
        }

        private void digits() {
            int start = i;
            while (i < s.length() && Character.isDigit(s.charAt(i))) {
                i++;
            }
            if (i == start) {
                fail("expected digits at " + start + " in " + s);
            }
        }

        private boolean comma() {
            if (peek(',')) {
                i++;
                return true;
            }
            return false;
        }

        private boolean peek(char ch) {
            return i < s.length() && s.charAt(i) == ch;
        }

        private void expect(char ch) {
            if (!peek(ch)) {
                fail("expected '" + ch + "' at " + i + " in " + s);
            }
            i++;
        }

        private void ws() {
            while (i < s.length() && Character.isWhitespace(s.charAt(i))) {
                i++;
            }
        }
    }
}
