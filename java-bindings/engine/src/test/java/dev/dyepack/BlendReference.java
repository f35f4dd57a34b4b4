package dev.dyepack;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.Random;

/** An independent Java statement of the blend rule (docs/numerics.md), and test data helpers. */
final class BlendReference {
    private BlendReference() {}

    /** x' = (1 - w) x + w p in float32 with one explicit fused multiply-add; exact ends at w = 0 and 1. */
    static float blend(float x, float w, float p) {
        if (w == 0f) {
            return x;
        }
        if (w == 1f) {
            return p;
        }
        return Math.fma(w, p, (1f - w) * x);
    }

    /** Clamp to [0, 255] (NaN to 0) and round half to even. */
    static int toU8(float v) {
        if (!(v > 0f)) {
            return 0;
        }
        if (v > 255f) {
            return 255;
        }
        return (int) Math.rint(v);
    }

    /** Applies the rule to a copy of the batch's bytes (uint8) for the selected samples. */
    static byte[] blendU8(byte[] data, long sampleElems, float[] pattern, float[] mask, float amount, boolean[] selected) {
        byte[] out = data.clone();
        for (int s = 0; s < selected.length; s++) {
            if (!selected[s]) {
                continue;
            }
            for (int e = 0; e < sampleElems; e++) {
                int at = (int) (s * sampleElems + e);
                float w = amount * mask[e];
                out[at] = (byte) toU8(blend(data[at] & 0xff, w, pattern[e]));
            }
        }
        return out;
    }

    static float[] blendF32(float[] data, long sampleElems, float[] pattern, float[] mask, float amount,
            boolean[] selected) {
        float[] out = data.clone();
        for (int s = 0; s < selected.length; s++) {
            if (!selected[s]) {
                continue;
            }
            for (int e = 0; e < sampleElems; e++) {
                int at = (int) (s * sampleElems + e);
                out[at] = blend(data[at], amount * mask[e], pattern[e]);
            }
        }
        return out;
    }

    static ByteBuffer direct(byte[] values) {
        return ByteBuffer.allocateDirect(values.length).put(values).flip();
    }

    static FloatBuffer direct(float[] values) {
        return ByteBuffer.allocateDirect(values.length * 4).order(ByteOrder.nativeOrder()).asFloatBuffer().put(values)
                .flip();
    }

    static byte[] bytes(ByteBuffer b) {
        byte[] out = new byte[b.remaining()];
        b.duplicate().get(out);
        return out;
    }

    static float[] floats(FloatBuffer b) {
        float[] out = new float[b.remaining()];
        b.duplicate().get(out);
        return out;
    }

    /** Masks with exact 0s and 1s and fractional values, so every branch of the rule is exercised. */
    static float[] randomMask(Random rng, int n) {
        float[] m = new float[n];
        for (int i = 0; i < n; i++) {
            float r = rng.nextFloat();
            m[i] = r < 0.25f ? 0f : r < 0.5f ? 1f : rng.nextFloat();
        }
        return m;
    }

    static float[] randomPattern(Random rng, int n) {
        float[] p = new float[n];
        for (int i = 0; i < n; i++) {
            p[i] = rng.nextInt(256);
        }
        return p;
    }
}
